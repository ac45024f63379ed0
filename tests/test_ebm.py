"""Maximum-likelihood EBMs with Langevin negatives: chains, the replay buffer, training, bad input."""
import math

import pytest
import torch

from course_lib import ebm, toys
from course_lib.energy import EnergyMLP, energy_nll, log_partition_2d
from course_lib.sampling import gaussian_energy


def test_langevin_recovers_a_gaussian():
    mean, cov = torch.tensor([1.0, -2.0]), torch.tensor([[1.0, 0.6], [0.6, 2.0]])
    U = gaussian_energy(mean, cov)
    g = torch.Generator().manual_seed(0)
    x = ebm.langevin_chains(U, torch.zeros(4000, 2), step=0.01, n_steps=800, generator=g).z
    # ULA's bias is O(step): with step 0.01 the moments sit within a few per cent
    assert torch.allclose(x.mean(0), mean, atol=0.08)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.12)
    # sigma scales the temperature: the covariance by sigma^2
    x2 = ebm.langevin_chains(U, torch.zeros(4000, 2), step=0.01, n_steps=800, noise=0.5, generator=g).z
    assert torch.allclose(torch.cov(x2.T), 0.25 * cov, atol=0.05)


def test_langevin_bad_input_and_trace():
    U = gaussian_energy(torch.zeros(2), torch.eye(2))
    for bad in (dict(step=-0.1), dict(step=0.0), dict(n_steps=0), dict(noise=-1.0)):
        kw = dict(step=0.1, n_steps=5) | bad
        with pytest.raises(ValueError):
            ebm.langevin_chains(U, torch.zeros(3, 2), **kw)
    res = ebm.langevin_chains(U, torch.zeros(3, 2), 0.1, 10, keep_every=5)
    assert len(res.trace) == 3 and torch.equal(res.trace[0], torch.zeros(3, 2))
    # no noise and clamp: gradient descent kept in range
    x = ebm.langevin_chains(U, torch.full((2, 2), 3.0), 0.1, 200, noise=0.0, clamp=(0.5, 1.0)).z
    assert torch.allclose(x, torch.full((2, 2), 0.5))


def test_replay_buffer_reinitialisation_rate():
    init = ebm.Uniform(((10.0, 11.0), (10.0, 11.0)))
    buf = ebm.ReplayBuffer(init, size=1000, reinit=0.2, generator=torch.Generator().manual_seed(0))
    buf.x.zero_()  # stored states at the origin, fresh noise in [10, 11]^2
    g = torch.Generator().manual_seed(1)
    x0, idx, fresh = buf.draw(20000, g)
    assert abs(float(fresh.float().mean()) - 0.2) < 0.01
    assert bool((x0[fresh] >= 10).all()) and bool((x0[~fresh] == 0).all())
    buf.update(idx[:5], torch.ones(5, 2))
    assert torch.equal(buf.x[idx[:5]], torch.ones(5, 2))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            ebm.ReplayBuffer(init, 10, reinit=bad)


def test_config_bad_input():
    for kw, msg in ((dict(step_size=-0.01), "step"), (dict(chain_steps=0), "chain"), (dict(reinit=1.2), "reinit"),
                    (dict(init="gibbs"), "initialisation"), (dict(alpha=-1), "alpha"), (dict(lr=0), "lr")):
        with pytest.raises(ValueError, match=msg):
            ebm.EBMConfig(**kw)
    with pytest.raises(ValueError):
        ebm.Uniform(((1.0, 0.0), (0.0, 1.0)))


def _ring():
    return toys.ring8(std=0.1)


@pytest.mark.parametrize("init", ebm.INITS)
def test_training_lowers_the_nll(init):
    t = _ring()
    torch.manual_seed(0)
    E = EnergyMLP((2,), hidden=32, depth=2, confine=4.0)
    box = ebm.Uniform(t.bounds)
    x = t.sample(500, torch.Generator().manual_seed(5))
    before = energy_nll(E, x, log_partition_2d(E, t.bounds, n=100).log_z)
    run = ebm.train_ebm(E, t.sample, box, ebm.EBMConfig(steps=150, batch_size=128, chain_steps=10, step_size=0.01,
                                                        lr=3e-3, init=init, progress=False, store=False))
    after = energy_nll(E, x, log_partition_2d(E, t.bounds, n=100).log_z)
    assert after < before - 0.2, (init, before, after)
    assert len(run.history["gap"]) == 150 and run.seconds > 0
    assert (run.buffer is not None) == (init == "buffer")
    s = ebm.sampler(run, box, steps=5).sample(50, torch.Generator().manual_seed(0))
    assert s.shape == (50, 2) and torch.isfinite(s).all()


def test_training_is_deterministic_and_divergence_is_reported():
    t = _ring()
    cfg = ebm.EBMConfig(steps=20, batch_size=32, chain_steps=3, progress=False, store=False)
    outs = []
    for _ in range(2):
        torch.manual_seed(0)
        E = EnergyMLP((2,), hidden=16, depth=1)
        ebm.train_ebm(E, t.sample, ebm.Uniform(t.bounds), cfg)
        outs.append(torch.cat([p.flatten() for p in E.parameters()]))
    assert torch.equal(outs[0], outs[1])
    torch.manual_seed(0)
    E = EnergyMLP((2,), hidden=16, depth=1)
    with pytest.raises(ebm.EBMDiverged, match="lower the learning rate"):
        ebm.train_ebm(E, t.sample, ebm.Uniform(t.bounds),
                      ebm.EBMConfig(steps=200, batch_size=32, chain_steps=3, lr=0.5, alpha=0.0, max_energy=50.0,
                                    progress=False, store=False))


def test_energy_loss_alone_collapses_while_nll_carves():
    """The energy loss pushes the whole surface down (no contrast with the data); the NLL carves a well at the data."""
    t = _ring()
    out = {}
    for name in ("energy", "nll"):
        torch.manual_seed(0)
        E = EnergyMLP((2,), hidden=32, depth=2, confine=4.0)
        h = ebm.train_with_functional(E, name, t.sample, t.bounds,
                                      ebm.FunctionalConfig(steps=300, grid=32, progress=False))
        out[name] = h
    assert out["energy"]["contrast"][-1] < 0.5          # no well at the data
    assert out["energy"]["e_data"][-1] < out["energy"]["e_data"][0] - 5  # but everything went down
    assert out["nll"]["contrast"][-1] > 1.0              # data sit more than a nat below the box average
    with pytest.raises(ValueError, match="unknown loss functional"):
        ebm.train_with_functional(EnergyMLP((2,)), "square", t.sample, t.bounds)


def test_chain_samplers_of_any_length_are_scored_on_the_same_held_out_data():
    from course_lib.energy import evaluate_2d

    t = toys.ring8(std=0.1)
    box = ebm.Uniform(t.bounds)
    torch.manual_seed(0)
    E = EnergyMLP((2,), hidden=8, depth=1, confine=4.0)
    short, long = (ebm.ChainSampler(E, box, steps=k, step_size=0.01) for k in (2, 30))
    a, b = (evaluate_2d(t, s, E, n=200, grid=40) for s in (short, long))
    assert a["true_nll"] == b["true_nll"] and a["nll"] == b["nll"]   # same test points, same energy
    assert not torch.equal(a["x_fake"], b["x_fake"])                  # but different chains
    # and a sampler's draws are reproducible from the caller's seed
    s1, s2 = (short.sample(50, torch.Generator().manual_seed(7)) for _ in range(2))
    assert torch.equal(s1, s2)


def test_midpoint_grid_gives_cell_centres_and_area():
    from course_lib.energy import midpoint_grid

    xs, ys, pts, cell = midpoint_grid(((0.0, 2.0), (-1.0, 1.0)), 4)
    assert torch.allclose(xs, torch.tensor([0.25, 0.75, 1.25, 1.75], dtype=torch.float64))
    assert torch.allclose(ys, torch.tensor([-0.75, -0.25, 0.25, 0.75], dtype=torch.float64))
    assert pts.shape == (16, 2) and cell == pytest.approx(0.25)
    assert torch.equal(pts[1], torch.tensor([0.75, -0.75], dtype=torch.float64))   # x runs fastest
    answers, log_dA = ebm.answer_grid(((0.0, 2.0), (-1.0, 1.0)), 4)
    assert answers.dtype == torch.float32 and torch.allclose(answers.double(), pts) and log_dA == pytest.approx(math.log(0.25))

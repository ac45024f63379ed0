"""Many runs at once: an ensemble's member i is the single run with its seed and settings."""
import math

import pytest
import torch

from course_lib import compare, ensemble, losses, models, toys
from course_lib.runtime import seed_everything
from course_lib.train import TrainConfig, train

SEEDS = (0, 1, 2)
STEPS = 100
BASE = compare.MethodConfig(hidden=16, depth=2, code_dim=4, batch_size=32, magan_warmup=20, magan_epoch=10,
                            lambda_k=0.05, lipschitz_weight=0.1)
# per method: the settings each of the three members differs in (learning rates always)
VARIED = {
    "gan": dict(),
    "gan_minimax": dict(generator_loss="minimax"),
    "gan_maximum_likelihood": dict(generator_loss="maximum_likelihood"),
    "ebgan": dict(margin=(0.5, 1.0, 2.0)),
    "ebgan_pt": dict(pt_weight=(0.05, 0.1, 0.3)),
    "magan": dict(),
    "lsgan": dict(ls_lambda=(0.5, 1.0, 2.0), lipschitz_weight=(0.0, 0.1, 0.5), delta_scale=(1.0, 2.0, 0.5)),
    "began": dict(gamma=(0.3, 0.5, 1.0), lambda_k=(0.01, 0.05, 0.2)),
    "maxent": dict(maxent_lam=(0.05, 0.1, 0.2), mi_weight=(0.0, 0.5, 1.0)),
    # chapter 05's variants: their members differ in learning rates and seeds only (their own settings are shared);
    # WGAN-GP's members also draw their own interpolation weights, each from its seed's stream
    "wgan": dict(),
    "wgan_gp": dict(),
    "unrolled": dict(),
    "mbd": dict(),
    "pacgan": dict(pack=2),   # an ensemble's (K, B, 2) batches reach D as (K, B/2, 4) packs, as a single run's (B/2, 4)
}
LR_D, LR_G = (1e-3, 5e-4, 2e-3), (1e-3, 2e-3, 5e-4)


def _cfgs(case):
    method = case.split("_")[0] if case.startswith("gan") else case
    shared = {k: v for k, v in VARIED[case].items() if not isinstance(v, tuple)}
    per = {k: v for k, v in VARIED[case].items() if isinstance(v, tuple)}
    cfgs = [compare.with_overrides(BASE, lr_d=LR_D[i], lr_g=LR_G[i], **shared, **{k: v[i] for k, v in per.items()})
            for i in range(len(SEEDS))]
    return method, cfgs


def _double(G, D, objective):
    G.double(), D.double()
    for m in objective.modules():
        m.double()
    return G, D, objective


def _single(method, cfg, seed, steps=STEPS):
    seed_everything(seed)
    G, D, obj = _double(*compare.make_toy_method(method, cfg, 2, seed=seed))
    h = train(G, D, toys.ring8().sample, obj, TrainConfig(steps=steps, batch_size=cfg.batch_size, lr_d=cfg.lr_d,
                                                          lr_g=cfg.lr_g, seed=seed, progress=False))
    return G, D, obj, h


def _ensemble(method, cfgs, seeds=SEEDS, steps=STEPS, callback=None):
    G, D, obj = _double(*compare.make_toy_ensemble(method, seeds, cfgs))
    hs = train(G, D, toys.ring8().sample, obj,
               TrainConfig(steps=steps, batch_size=cfgs[0].batch_size, lr_d=tuple(c.lr_d for c in cfgs),
                           lr_g=tuple(c.lr_g for c in cfgs), seed=tuple(seeds), progress=False), callback=callback)
    return G, D, obj, hs


def _max_diff(a: dict, b: dict) -> float:
    assert list(a) == list(b)
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


@pytest.mark.parametrize("case", list(VARIED))
def test_member_i_is_the_single_run_after_100_steps_in_float64(case):
    method, cfgs = _cfgs(case)
    G, D, obj, hs = _ensemble(method, cfgs)
    assert len(hs) == len(SEEDS) and all(h.diverged is None for h in hs)
    for i, (seed, cfg) in enumerate(zip(SEEDS, cfgs)):
        g1, d1, obj1, h1 = _single(method, cfg, seed)
        assert _max_diff(ensemble.member_state(G, i), g1.state_dict()) < 1e-5
        assert _max_diff(ensemble.member_state(D, i), d1.state_dict()) < 1e-5
        if method == "maxent":
            assert _max_diff(ensemble.member_state(obj.T, i), obj1.T.state_dict()) < 1e-5
        if method == "wgan_gp":  # each run's interpolation weights come from its own seed (issue 26)
            assert obj.seed == SEEDS and obj1.seed == seed
        assert set(h1.log) <= set(hs[i].log)  # an ensemble logs a term a member switched off (as 0)
        for key in h1.log:
            assert len(hs[i][key]) == STEPS
            assert hs[i][key] == pytest.approx(h1[key], abs=1e-6, nan_ok=True), key
    # the members really differ (different seeds and settings), so the agreement above means something
    assert _max_diff(ensemble.member_state(G, 0), ensemble.member_state(G, 1)) > 1e-3


def test_finding5a_member_equals_single_run_covers_every_toy_method():
    """Issue 26: the test above left out WGAN, WGAN-GP, the unrolled GAN and minibatch discrimination (and PacGAN)."""
    assert {_cfgs(case)[0] for case in VARIED} == set(compare.TOY_METHODS)


def test_stateful_objectives_keep_one_state_per_member():
    _, cfgs = _cfgs("began")
    _, _, obj, hs = _ensemble("began", cfgs)
    assert obj.k.shape == (3,)
    finals = [h["k"][-1] for h in hs]
    assert len(set(finals)) == 3 and all(0.0 <= k <= 1.0 for k in finals)
    for i in range(3):  # each k_t follows its own member's energies: recompute the clipped updates from the log
        k = 0.0
        for e_real, e_fake, logged in zip(hs[i]["e_real"], hs[i]["e_fake_g"], hs[i]["k"]):
            k = min(1.0, max(0.0, k + cfgs[i].lambda_k * (cfgs[i].gamma * e_real - e_fake)))
            assert logged == pytest.approx(k, abs=1e-9)
    _, cfgs = _cfgs("magan")
    _, _, magan, hs = _ensemble("magan", cfgs)
    assert magan.margin.shape == (3,) and len(magan.margins) == 3
    starts = [h["margin"][19] for h in hs]  # the first margin: each member's own mean real energy of its last warm-up epoch
    assert len(set(starts)) == 3
    for i, h in enumerate(hs):
        assert starts[i] == pytest.approx(sum(h["e_real"][10:20]) / 10, rel=1e-9)
        m = h["margin"][19:]
        assert all(b <= a for a, b in zip(m, m[1:]))


def test_a_diverging_member_is_stopped_and_the_others_go_on():
    method, cfgs = _cfgs("ebgan")

    def poison(step, G, D, histories):
        if step == 5:
            with torch.no_grad():
                D.encoder[0].weight_t[1].fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match=r"member 1 of 3 \(seed 1\) diverged at generator step 6"):
        G, D, _, hs = _ensemble(method, cfgs, steps=30, callback=poison)
    clean_G, clean_D, _, clean = _ensemble(method, cfgs, steps=30)
    assert hs[1].diverged and "step 6" in hs[1].diverged and len(hs[1]["d_loss"]) == 5
    last = hs[1].snapshots[-1]
    # restored and frozen: its weights are the snapshot's (the denoising noise counter is the ensemble's, shared, and moved on)
    weights = lambda state: {k: v for k, v in state.items() if k != "noise_calls"}  # noqa: E731
    assert last.step == 0 and _max_diff(weights(ensemble.member_state(D, 1)), weights(last.D)) == 0
    for i in (0, 2):  # the others are untouched by their neighbour's NaNs
        assert hs[i].diverged is None and len(hs[i]["d_loss"]) == 30
        assert _max_diff(ensemble.member_state(G, i), ensemble.member_state(clean_G, i)) == 0
        assert hs[i]["g_loss"] == clean[i]["g_loss"]


def test_ensemble_linear_is_each_members_linear_layer():
    torch.manual_seed(0)
    layers = [torch.nn.Linear(3, 4) for _ in range(5)]
    ens = ensemble.EnsembleLinear.stack(layers)
    x = torch.randn(5, 7, 2, 3)  # (K, ..., in)
    y = ens(x)
    assert y.shape == (5, 7, 2, 4)
    for k, layer in enumerate(layers):
        torch.testing.assert_close(y[k], layer(x[k]), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(5, \.\.\., 3\)"):
        ens(torch.randn(4, 7, 3))


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_member_optimizers_are_torch_optimizers_with_one_learning_rate_per_member(name):
    torch.manual_seed(0)
    w = torch.randn(3, 4, 2, dtype=torch.float64)
    lrs = [1e-3, 1e-2, 1e-1]
    ens = w.clone().requires_grad_(True)
    opt = ensemble.MemberAdam([ens], lr=lrs, betas=(0.5, 0.999)) if name == "adam" else ensemble.MemberSGD([ens], lr=lrs)
    singles = [w[k].clone().requires_grad_(True) for k in range(3)]
    opts = [torch.optim.Adam([p], lr=lr, betas=(0.5, 0.999)) if name == "adam" else torch.optim.SGD([p], lr=lr)
            for p, lr in zip(singles, lrs)]
    for t in range(20):
        target = torch.randn(3, 4, 2, dtype=torch.float64)
        opt.zero_grad()
        ((ens - target) ** 2).sum().backward()
        opt.step()
        for k in range(3):
            opts[k].zero_grad()
            ((singles[k] - target[k]) ** 2).sum().backward()
            opts[k].step()
    for k in range(3):
        torch.testing.assert_close(ens[k].detach(), singles[k].detach(), rtol=0, atol=1e-12)
    opt.stop(1)
    before = ens.detach().clone()
    opt.zero_grad()
    (ens * float("nan")).sum().backward()  # NaN gradients for everyone: a stopped member stays where it is
    opt.step()
    assert torch.equal(ens[1].detach(), before[1])


def test_a_bare_linear_layer_stacks_too():
    layers = [torch.nn.Linear(3, 2) for _ in range(4)]
    ens = ensemble.ensemble_of(layers)
    x = torch.randn(4, 5, 3)
    for k in range(4):
        plain = ensemble.member(ens, k)
        assert type(plain) is torch.nn.Linear
        torch.testing.assert_close(plain(x[k]), ens(x)[k].detach(), rtol=0, atol=1e-6)


def test_member_gives_back_a_plain_network():
    nets = []
    for s in (3, 4):
        torch.manual_seed(s)
        nets.append(models.AutoencoderDiscriminator(2, 8, 3, 2))
    ens = ensemble.ensemble_of(nets)
    x = torch.randn(2, 10, 2)
    e = ens(x)
    assert e.shape == (2, 10) and ensemble.ensemble_size(ens) == 2
    for k in range(2):
        plain = ensemble.member(ens, k)
        assert type(plain) is models.AutoencoderDiscriminator and ensemble.ensemble_size(plain) is None
        torch.testing.assert_close(plain(x[k]), e[k].detach(), rtol=0, atol=1e-6)
        torch.testing.assert_close(nets[k](x[k]), e[k].detach(), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- bad input gets a clear ValueError
def test_bad_ensembles_are_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="K >= 1"):
        ensemble.ensemble_of([])
    with pytest.raises(ValueError, match="K >= 1"):
        compare.make_toy_ensemble("gan", seeds=[])
    with pytest.raises(ValueError, match="unknown method 'sngan'"):
        compare.make_toy_ensemble("sngan", seeds=[0, 1])
    with pytest.raises(ValueError, match="share one architecture"):
        ensemble.ensemble_of([models.Generator(2, 2, 8, 1), models.Generator(2, 2, 16, 1)])
    with pytest.raises(ValueError, match="MLPs"):
        ensemble.ensemble_of([models.ConvGenerator(4, 8, 1, 2)] * 2)
    with pytest.raises(ValueError, match="ensembles already"):
        twice = ensemble.ensemble_of([models.Generator(2, 2, 8, 1)] * 2)
        ensemble.ensemble_of([twice, twice])
    with pytest.raises(ValueError, match=r"differs from member 0 in \['hidden'\]"):
        compare.make_toy_ensemble("gan", [0, 1], [BASE, compare.with_overrides(BASE, hidden=8)])
    with pytest.raises(ValueError, match="cfgs: 2 values for an ensemble of 3"):
        compare.make_toy_ensemble("gan", [0, 1, 2], [BASE, BASE])
    with pytest.raises(ValueError, match="one length"):
        TrainConfig(lr_d=(1e-3, 1e-3), seed=(0, 1, 2)).members()
    with pytest.raises(ValueError, match="one length"):
        losses.EBGANObjective(margin=[1.0, 2.0], pt_weight=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="margin m of member 1"):
        losses.EBGANObjective(margin=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"gamma of member 0 .* \(0, 1\]"):
        losses.BEGANObjective(gamma=[1.5, 0.5])
    with pytest.raises(ValueError, match="lr_d must be a positive finite number \\(member 1\\)"):
        TrainConfig(lr_d=(1e-3, -1.0))
    G, D, _ = compare.make_toy_ensemble("ebgan", [0, 1, 2], BASE)
    with pytest.raises(ValueError, match="give 2 members, but the networks are an ensemble of 3"):
        train(G, D, toys.ring8().sample, losses.EBGANObjective(margin=[1.0, 2.0]), TrainConfig(steps=2, progress=False))
    with pytest.raises(ValueError, match="give 2 members"):
        train(G, D, toys.ring8().sample, losses.EBGANObjective(), TrainConfig(steps=2, seed=(0, 1), progress=False))
    g1, d1, obj1 = compare.make_toy_method("ebgan", BASE)
    with pytest.raises(ValueError, match="both be single networks or ensembles"):
        train(g1, D, toys.ring8().sample, obj1, TrainConfig(steps=2, progress=False))


def test_run_toy_ensemble_rows_are_the_single_runs_rows():
    cfg = compare.with_overrides(BASE, steps=40, n_eval=500)
    rows = compare.run_toy_ensemble("gan", ["ring8", "grid25"], [0, 1], cfg)
    for row in rows:
        single = compare.run_toy("gan", row["target"], row["seed"], cfg)
        assert (row["modes"], row["n_modes"]) == (single["modes"], single["n_modes"])
        assert row["hq"] == pytest.approx(single["hq"], abs=0.01)  # float32: a sample may cross the 3-sigma line
    assert math.isfinite(rows[0]["seconds"]) and rows[0]["diverged"] is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the host/device synchronisation check)")
def test_no_host_synchronisation_inside_the_step_loop_on_cuda(monkeypatch):
    """Between two flushes the GPU is never waited for: CUDA's sync debug mode raises on any synchronising call."""
    from course_lib import train as train_mod

    def unguarded(fn):
        def call(*args, **kw):
            torch.cuda.set_sync_debug_mode(0)
            try:
                return fn(*args, **kw)
            finally:
                torch.cuda.set_sync_debug_mode("error")
        return call

    monkeypatch.setattr(train_mod._Runs, "flush", unguarded(train_mod._Runs.flush))
    monkeypatch.setattr(train_mod._Runs, "snapshot", unguarded(train_mod._Runs.snapshot))
    for method in ("gan", "began", "magan", "lsgan", "maxent"):
        _, cfgs = _cfgs(method)
        G, D, obj = compare.make_toy_ensemble(method, SEEDS, cfgs)
        G, D = G.cuda(), D.cuda()
        for m in obj.modules():
            m.cuda()
        torch.cuda.set_sync_debug_mode("error")
        try:
            train(G, D, toys.ring8().sample, obj, TrainConfig(steps=40, batch_size=32, seed=SEEDS, sync_every=25, progress=False))
        finally:
            torch.cuda.set_sync_debug_mode(0)

import pytest
import torch

from course_lib import losses, models, toys
from course_lib.train import TrainConfig, TrainingDiverged, load_checkpoint, save_checkpoint, train


def _nets(seed=0):
    torch.manual_seed(seed)
    return models.Generator(2, 2, 32, 1), models.Discriminator(2, 32, 1)


class Counting(losses.GANObjective):
    """The GAN objective, counting how often each loss is asked for."""

    def __init__(self):
        super().__init__("non_saturating")
        self.d_calls = self.g_calls = 0

    def d_loss(self, D, x_real, x_fake):
        self.d_calls += 1
        return super().d_loss(D, x_real, x_fake)

    def g_loss(self, D, x_fake, z):
        self.g_calls += 1
        return super().g_loss(D, x_fake, z)


class NaNAfter(losses.GANObjective):
    def __init__(self, step):
        super().__init__("non_saturating")
        self.step, self.calls = step, 0

    def g_loss(self, D, x_fake, z):
        self.calls += 1
        loss, parts = super().g_loss(D, x_fake, z)
        return (loss * float("nan") if self.calls >= self.step else loss), parts


def test_n_critic_discriminator_steps_per_generator_step():
    G, D = _nets()
    obj = Counting()
    hist = train(G, D, toys.ring8().sample, obj, TrainConfig(steps=4, n_critic=3, batch_size=8, progress=False))
    assert (obj.d_calls, obj.g_calls) == (12, 4)
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 4


def test_simultaneous_updates_take_one_minibatch_per_step():
    G, D = _nets()
    obj = Counting()
    train(G, D, toys.ring8().sample, obj, TrainConfig(steps=5, simultaneous=True, batch_size=8, progress=False))
    assert (obj.d_calls, obj.g_calls) == (5, 5)
    with pytest.raises(ValueError, match="n_critic=1"):
        TrainConfig(simultaneous=True, n_critic=2)


def test_snapshots_at_chosen_steps_and_training_is_repeatable():
    runs = []
    for _ in range(2):
        G, D = _nets()
        hist = train(G, D, toys.ring8().sample, losses.GANObjective(), TrainConfig(steps=6, snapshot_at=(2, 4), batch_size=16, progress=False))
        runs.append((hist, G))
    assert [s.step for s in runs[0][0].snapshots] == [0, 2, 4, 6]
    assert runs[0][0]["g_loss"] == runs[1][0]["g_loss"]
    for a, b in zip(runs[0][1].parameters(), runs[1][1].parameters()):
        assert torch.equal(a, b)
    # a snapshot rebuilds the generator it saw, without touching G
    first = runs[0][0].snapshots[0].generator(runs[0][1])
    assert not torch.equal(first.net[0].weight, runs[0][1].net[0].weight)


def test_discriminator_learns_to_separate_a_fixed_generator():
    G, D = _nets()
    for p in G.parameters():
        p.requires_grad_(False)
    hist = train(G, D, toys.ring8().sample, losses.GANObjective(),
                 TrainConfig(steps=40, n_critic=5, lr_d=3e-3, batch_size=64, progress=False))
    assert hist["d_loss"][0] == pytest.approx(2 * 0.6931, abs=0.05)  # an untrained D says 1/2: loss 2 log 2
    assert hist.last("d_loss", 5) < 0.5


def test_divergence_stops_with_the_step_and_restores_the_last_good_snapshot():
    G, D = _nets()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with pytest.raises(TrainingDiverged, match=r"generator step 3: generator loss = nan") as err:
        train(G, D, toys.ring8().sample, NaNAfter(3), TrainConfig(steps=10, batch_size=8, progress=False))
    assert err.value.step == 3 and [s.step for s in err.value.history.snapshots] == [0]
    assert len(err.value.history["g_loss"]) == 2
    for k, v in G.state_dict().items():
        assert torch.equal(v, before[k]) and torch.isfinite(v).all()


@pytest.mark.parametrize("kw, match", [
    (dict(n_critic=0), "n_critic"), (dict(steps=0), "steps"), (dict(lr_d=-1e-3), "lr_d"),
    (dict(lr_g=0.0), "lr_g"), (dict(batch_size=2.5), "batch_size"), (dict(steps=5, snapshot_at=(9,)), "snapshot_at"),
    (dict(betas=(1.0, 0.999)), "betas"), (dict(betas=(0.5,)), "betas"),
])
def test_bad_hyper_parameters_are_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_checkpoints_are_written_atomically_and_checked(tmp_path):
    G, _ = _nets()
    path = str(tmp_path / "ckpt" / "g.pt")
    save_checkpoint(path, G=G.state_dict(), step=7)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["g.pt", "g.pt.sha256"]
    state = load_checkpoint(path)
    assert state["step"] == 7 and torch.equal(state["G"]["net.0.weight"], G.state_dict()["net.0.weight"])
    with open(path, "ab") as f:
        f.write(b"corrupt")
    with pytest.raises(ValueError, match="sha256"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="train first"):
        load_checkpoint(str(tmp_path / "missing.pt"))


def test_evenly_spaced_snapshot_steps():
    from course_lib.train import evenly_spaced

    assert evenly_spaced(12, 5) == (3, 6, 9)
    assert evenly_spaced(2, 6) == (1,)  # fewer steps than frames: no repeats
    with pytest.raises(ValueError, match="frames"):
        evenly_spaced(10, 1)


# ---------------------------------------------------------------- divergences, WGAN, mode collapse, consensus
import math  # noqa: E402

from course_lib import divergences, ensemble, store  # noqa: E402

NEW_OBJECTIVES = {
    **{f"f-gan[{n}]": (lambda n=n: divergences.FGANObjective(n)) for n in divergences.DIVERGENCES},
    "f-gan[js, saddle]": lambda: divergences.FGANObjective("js", "saddle"),
    "wgan": lambda: losses.WGANObjective(clip=0.01),
    "wgan-gp": lambda: losses.WGANGPObjective(lam=10.0),
    "unrolled": lambda: losses.UnrolledGANObjective(unroll_steps=3, unroll_lr=0.1),
}


@pytest.mark.parametrize("name", list(NEW_OBJECTIVES))
def test_each_new_objective_trains_five_steps_on_ring8(name):
    G, D = _nets()
    h = train(G, D, toys.ring8().sample, NEW_OBJECTIVES[name](), TrainConfig(steps=5, batch_size=32, progress=False, store=False))
    assert len(h["d_loss"]) == len(h["g_loss"]) == 5 and all(math.isfinite(v) for v in h["d_loss"] + h["g_loss"])


@pytest.mark.parametrize("kw", [dict(), dict(simultaneous=True, consensus=1.0)])
def test_minibatch_discrimination_and_consensus_train_five_steps_on_ring8(kw):
    torch.manual_seed(0)
    G, D = models.Generator(2, 2, 32, 1), models.MinibatchDiscriminator(2, 32, 1)
    h = train(G, D, toys.ring8().sample, losses.GANObjective(), TrainConfig(steps=5, batch_size=32, progress=False, store=False, **kw))
    assert len(h["g_loss"]) == 5 and all(math.isfinite(v) for v in h["d_loss"] + h["g_loss"])
    if kw:
        assert len(h["consensus"]) == 5 and all(v > 0 for v in h["consensus"])


class CountingClips(losses.WGANObjective):
    def __init__(self, clip):
        super().__init__(clip)
        self.clips = 0

    def after_d_step(self, D):
        self.clips += 1
        super().after_d_step(D)


@pytest.mark.parametrize("kw, calls", [(dict(n_critic=3), 12), (dict(simultaneous=True), 4)])
def test_weight_clipping_runs_after_every_critic_step_and_keeps_every_weight_in_minus_c_c(kw, calls):
    G, D = _nets()
    obj = CountingClips(clip=0.01)
    train(G, D, toys.ring8().sample, obj, TrainConfig(steps=4, batch_size=16, lr_d=0.1, progress=False, store=False, **kw))
    assert obj.clips == calls
    weights = torch.cat([p.detach().flatten() for p in D.parameters()])
    assert float(weights.abs().max()) == pytest.approx(0.01, abs=1e-9)   # at the bound (lr 0.1 pushes past it), not beyond


def test_weight_clipping_of_an_ensemble_uses_each_members_own_bound():
    torch.manual_seed(0)
    G = ensemble.ensemble_of([models.Generator(2, 2, 16, 1) for _ in range(2)])
    D = ensemble.ensemble_of([models.Discriminator(2, 16, 1) for _ in range(2)])
    train(G, D, toys.ring8().sample, losses.WGANObjective(clip=(0.01, 0.05)),
          TrainConfig(steps=3, batch_size=16, lr_d=0.1, seed=(0, 1), progress=False, store=False))
    for k, c in enumerate((0.01, 0.05)):
        weights = torch.cat([v.flatten() for v in ensemble.member_state(D, k).values()])
        assert float(weights.abs().max()) == pytest.approx(c, abs=1e-7)


def test_consensus_ensemble_member_is_the_single_run():
    cfg = dict(steps=5, batch_size=16, simultaneous=True, consensus=0.5, progress=False, store=False)
    torch.manual_seed(0)
    singles = [(models.Generator(2, 2, 16, 1).double(), models.Discriminator(2, 16, 1).double()) for _ in range(2)]
    G = ensemble.ensemble_of([g for g, _ in singles])
    D = ensemble.ensemble_of([d for _, d in singles])
    train(G, D, toys.ring8().sample, losses.GANObjective(), TrainConfig(seed=(0, 1), **cfg))
    for k, (g, d) in enumerate(singles):
        train(g, d, toys.ring8().sample, losses.GANObjective(), TrainConfig(seed=k, **cfg))
        for name, v in ensemble.member_state(D, k).items():
            assert torch.allclose(v, d.state_dict()[name], atol=1e-10, rtol=0), name


def test_the_run_store_keys_runs_by_their_consensus_weight(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    for gamma in (0.0, 0.5, 0.5):
        G, D = _nets()
        train(G, D, toys.ring8().sample, losses.GANObjective(),
              TrainConfig(steps=3, batch_size=8, simultaneous=True, consensus=gamma, progress=False))
    assert len(list((tmp_path / "runs").rglob("*.pt"))) == 2   # 0.5 twice: trained once, then loaded


def test_average_d_is_the_exponential_moving_average_of_d_after_every_step(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    decay, seen = 0.8, []
    G, D = _nets()
    cfg = TrainConfig(steps=5, batch_size=16, progress=False, average_d=decay)
    h = train(G, D, toys.ring8().sample, losses.GANObjective(), cfg,
              callback=lambda step, G, D, h: seen.append({k: v.clone() for k, v in D.state_dict().items()}))
    # by hand: w_avg = w_1, then w_avg <- decay w_avg + (1 - decay) w_t
    want = dict(seen[0])
    for w in seen[1:]:
        want = {k: decay * want[k] + (1 - decay) * w[k] for k in want}
    for k, v in h.D_average.items():
        torch.testing.assert_close(v, want[k])
    assert not torch.equal(h.D_average["net.0.weight"], D.state_dict()["net.0.weight"])
    avg = h.averaged_discriminator(D)
    assert torch.equal(avg.state_dict()["net.0.weight"], h.D_average["net.0.weight"]) and avg is not D
    # through the run store: trained, then loaded with the same average
    for how in ("trained", "loaded"):
        G, D = _nets()
        stored = train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)
        for k, v in stored.D_average.items():
            torch.testing.assert_close(v, want[k])
    assert len(list((tmp_path / "runs").rglob("*.pt"))) == 1  # the second run was loaded
    with pytest.raises(ValueError, match="no weight average"):
        stored.__class__().averaged_discriminator(D)


def test_average_d_of_an_ensemble_member_is_the_single_runs():
    cfg = dict(steps=4, batch_size=16, progress=False, store=False, average_d=0.5)
    torch.manual_seed(0)
    singles = [(models.Generator(2, 2, 16, 1).double(), models.Discriminator(2, 16, 1).double()) for _ in range(2)]
    G = ensemble.ensemble_of([g for g, _ in singles])
    D = ensemble.ensemble_of([d for _, d in singles])
    hs = train(G, D, toys.ring8().sample, losses.GANObjective(), TrainConfig(seed=(0, 1), **cfg))
    for k, (g, d) in enumerate(singles):
        h = train(g, d, toys.ring8().sample, losses.GANObjective(), TrainConfig(seed=k, **cfg))
        for name, v in hs[k].D_average.items():
            assert torch.allclose(v, h.D_average[name], atol=1e-10, rtol=0), name


@pytest.mark.parametrize("bad", [1.0, -0.1, True, "0.9"])
def test_bad_average_decay_is_rejected(bad):
    with pytest.raises(ValueError, match="average_d"):
        TrainConfig(average_d=bad)

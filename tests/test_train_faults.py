"""Issue 25: the trainer under faults. Only finite weights are ever kept (finding 2), a long run resumes
after a kill (finding 3), bad data is not blamed on the learning rate, checkpoints check out even after
a kill mid-save, and a stored entry of the wrong structure is retrained (finding 7)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from course_lib import ensemble, losses, models, store, toys, train as train_module
from course_lib.train import TrainConfig, TrainingDiverged, load_checkpoint, save_checkpoint, train

PROJECT = Path(__file__).resolve().parents[1]


class BlowsUpAt(losses.GANObjective):
    """The GAN, except that at generator step ``at`` the generator's gradient is NaN while its loss stays finite
    (sqrt(|0 * x|) is 0, its derivative 0 * inf): the update, not the loss, breaks the weights."""

    def __init__(self, at, member=None):
        super().__init__()
        self.at, self.member, self.t = at, member, 0

    def g_loss(self, D, x_fake, z):
        loss, parts = super().g_loss(D, x_fake, z)
        self.t += 1
        if self.t == self.at:
            if self.member is None:
                loss = loss + (0 * x_fake.sum()).abs().sqrt()
            else:
                poison = torch.zeros_like(loss)
                poison[self.member] = (0 * x_fake[self.member].sum()).abs().sqrt()
                loss = loss + poison
        return loss, parts


def _nets(seed=0):
    torch.manual_seed(seed)
    return models.Generator(2, 2, 16, 1), models.Discriminator(2, 16, 1)


def _finite_output(G) -> bool:
    return bool(torch.isfinite(G(G.sample_z(64, torch.Generator().manual_seed(0)))).all())


def test_finding2_a_blow_up_in_the_last_update_is_a_divergence_and_is_never_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    G, D = _nets()
    with pytest.raises(TrainingDiverged, match="G's weights are not finite") as err:
        train(G, D, toys.ring8().sample, BlowsUpAt(at=6), TrainConfig(steps=6, batch_size=16, progress=False))
    assert err.value.step == 6 and err.value.history.diverged
    assert _finite_output(G)  # restored to the last snapshot that passed the check (step 0)
    assert not [p for p in (tmp_path / "runs").rglob("*.pt")]  # nothing stored, no resume file left behind


def test_finding2_a_blow_up_right_after_a_snapshot_never_becomes_that_snapshot():
    G, D = _nets()
    with pytest.raises(TrainingDiverged) as err:
        train(G, D, toys.ring8().sample, BlowsUpAt(at=5),
              TrainConfig(steps=20, batch_size=16, snapshot_at=(5,), progress=False, store=False))
    h = err.value.history
    assert [s.step for s in h.snapshots] == [0]  # the broken step-5 weights were never kept
    assert _finite_output(G)
    assert all(train_module._finite(s.G) for s in h.snapshots)


def test_finding2_a_member_that_blows_up_in_the_last_update_is_named_and_stopped_alone(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    torch.manual_seed(0)
    G = ensemble.ensemble_of([models.Generator(2, 2, 16, 1) for _ in range(3)])
    D = ensemble.ensemble_of([models.Discriminator(2, 16, 1) for _ in range(3)])
    with pytest.warns(RuntimeWarning, match=r"member 1 of 3 \(seed 1\)"):
        hs = train(G, D, toys.ring8().sample, BlowsUpAt(at=8, member=1),
                   TrainConfig(steps=8, batch_size=16, seed=(0, 1, 2), progress=False))
    assert [bool(h.diverged) for h in hs] == [False, True, False]
    assert [s.step for s in hs[0].snapshots] == [0, 8] and [s.step for s in hs[1].snapshots] == [0]
    for i in range(3):
        assert _finite_output(ensemble.member(G, i))  # the member was restored; the others keep their last weights
    assert len(hs[0].log["d_loss"]) == 8


def test_finding7_nan_in_the_data_is_blamed_on_the_data_not_the_learning_rate():
    def with_a_hole(n, g):
        x = toys.ring8().sample(n, g)
        x[0, 0] = float("nan")
        return x

    G, D = _nets()
    with pytest.raises(TrainingDiverged, match="real minibatch") as err:
        train(G, D, with_a_hole, losses.GANObjective(), TrainConfig(steps=5, batch_size=16, progress=False, store=False))
    assert "learning rate" not in str(err.value).split("This is the data")[0]


@pytest.mark.parametrize("kw, match", [(dict(lr_d=1e39), "lr_d: a learning rate of 1e\\+39"), (dict(lr_g=11.0), "lr_g: a learning rate of 11"),
                                       (dict(resume_every=-1), "resume_every")])
def test_finding7_absurd_learning_rates_are_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_finding7_a_checkpoint_without_its_sha256_is_refused(tmp_path):
    path = str(tmp_path / "g.pt")
    save_checkpoint(path, x=torch.ones(3))
    os.remove(path + ".sha256")
    with pytest.raises(ValueError, match="no g.pt.sha256"):
        load_checkpoint(path)
    assert torch.equal(load_checkpoint(path, verify=False)["x"], torch.ones(3))


@pytest.mark.parametrize("killed", ["before the rename", "after the rename"])
def test_finding7_a_kill_between_checkpoint_and_sha256_leaves_a_loadable_checkpoint(tmp_path, monkeypatch, killed):
    path = str(tmp_path / "g.pt")
    save_checkpoint(path, x=torch.zeros(3))
    real_replace, real_write = os.replace, train_module._write_text

    def replace(src, dst):
        if killed == "before the rename" and dst == path:
            raise KeyboardInterrupt  # the process dies before the new checkpoint is in place
        real_replace(src, dst)

    calls = []

    def write(p, text):
        calls.append(p)
        if killed == "after the rename" and len(calls) == 2:
            raise KeyboardInterrupt  # dies after the rename, before the final .sha256
        real_write(p, text)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(train_module, "_write_text", write)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, x=torch.ones(3))
    monkeypatch.undo()
    expected = torch.zeros(3) if killed == "before the rename" else torch.ones(3)
    assert torch.equal(load_checkpoint(path)["x"], expected)


def test_finding7_an_entry_with_a_valid_checksum_but_the_wrong_structure_is_removed_and_retrained(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    cfg = TrainConfig(steps=4, batch_size=16, progress=False)
    G, D = _nets()
    train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)
    [entry] = list((tmp_path / "runs").rglob("*.pt"))
    payload = torch.load(entry, weights_only=True)
    del payload["histories"]
    entry.unlink()
    store.RunStore(tmp_path / "runs").put(payload["key"], payload)  # a whole, checksummed entry of the wrong form
    G, D = _nets()
    with pytest.warns(RuntimeWarning, match="wrong structure"):
        h = train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)  # not a crash: retrained
    assert len(h.log["d_loss"]) == 4
    G, D = _nets()
    train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)  # and the good entry that replaced it loads
    assert len(list((tmp_path / "runs").rglob("*.pt"))) == 1


_LONG_RUN = """
import sys, torch
sys.path.insert(0, {project!r})
from course_lib import losses, models, toys
from course_lib.train import TrainConfig, train
torch.manual_seed(0)
G, D = models.Generator(2, 2, 16, 1), models.Discriminator(2, 16, 1)
h = train(G, D, toys.ring8().sample, losses.GANObjective(), TrainConfig(steps={steps}, batch_size=16, sync_every=5, resume_every=0,
          progress=False, store={store}))
torch.save(dict(G=G.state_dict(), D=D.state_dict(), log=dict(h.log)), {out!r})
"""


def _script(tmp_path, out, store_on=True, steps=3000):
    return _LONG_RUN.format(project=str(PROJECT), steps=steps, store=store_on, out=str(tmp_path / out))


def test_finding3_a_killed_run_resumes_and_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    env = dict(os.environ, COURSE_STORE=str(tmp_path / "runs"), COURSE_PROFILE="test")
    proc = subprocess.Popen([sys.executable, "-c", _script(tmp_path, "killed.pt")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "runs").rglob("resume/*.pt")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.3)  # let it get further than the first checkpoint
    assert proc.poll() is None, "the run finished before it could be killed: make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed.pt").exists()
    resumed = subprocess.run([sys.executable, "-c", _script(tmp_path, "resumed.pt")], env=env,
                             capture_output=True, text=True, check=True)
    assert "resumed from the checkpoint of generator step" in resumed.stderr, resumed.stderr
    step = int(resumed.stderr.split("generator step ")[1].split(" ")[0].replace(",", ""))
    assert 0 < step < 3000
    reference = subprocess.run([sys.executable, "-c", _script(tmp_path, "reference.pt", store_on=False)],
                               env=dict(env, COURSE_STORE="off"), capture_output=True, text=True, check=True)
    assert reference.returncode == 0
    a, b = torch.load(tmp_path / "resumed.pt"), torch.load(tmp_path / "reference.pt")
    for name in ("G", "D"):
        for k in a[name]:
            assert torch.equal(a[name][k], b[name][k]), (name, k)
    assert a["log"] == b["log"]
    assert not list((tmp_path / "runs").rglob("resume/*.pt"))  # a finished run leaves no checkpoint behind

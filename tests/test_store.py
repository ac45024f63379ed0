"""The run store: a hit returns exactly what was stored, anything that defines a run changes its key,
damaged entries are detected and retrained, concurrent writers never leave half an entry, and
loading never runs code."""
import multiprocessing as mp
import os
import pickle
import warnings

import pytest
import torch

from course_lib import compare, evaluation, keys, losses, models, store, toys
from course_lib.train import TrainConfig, train


@pytest.fixture
def run_store(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    return store.RunStore(tmp_path / "runs")


def _entries(s):
    return sorted(s.root.rglob("*.pt"))


def _magan_run(steps=40, lr=1e-3, seed=0):
    torch.manual_seed(seed)
    G, D, obj = compare.make_toy_method("magan", compare.MethodConfig(hidden=16, magan_warmup=10, magan_epoch=5))
    cfg = TrainConfig(steps=steps, batch_size=32, lr_d=lr, lr_g=lr, seed=seed, snapshot_at=(20,), progress=False)
    h = train(G, D, toys.ring8().sample, obj, cfg)
    return G, D, obj, h


def test_a_hit_returns_exactly_what_was_stored(run_store, capfd):
    G1, D1, obj1, h1 = _magan_run()
    assert len(_entries(run_store)) == 1
    G2, D2, obj2, h2 = _magan_run()  # same networks, settings and data: loaded, not trained
    assert len(_entries(run_store)) == 1
    for a, b in ((G1, G2), (D1, D2)):
        for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(v, w), k
    assert repr(dict(h1.log)) == repr(dict(h2.log))  # (repr: the margin is NaN during the warm-up)
    assert [s.step for s in h1.snapshots] == [s.step for s in h2.snapshots] == [0, 20, 40]
    for s1, s2 in zip(h1.snapshots, h2.snapshots):
        assert all(torch.equal(s1.G[k], s2.G[k]) for k in s1.G) and repr(s1.extra) == repr(s2.extra)
    assert obj1.margins == obj2.margins and obj1.t == obj2.t == 40  # the objective's state comes back too
    assert h1.config == h2.config


def test_the_trainer_says_when_it_loaded(run_store, capfd):
    torch.manual_seed(0)
    G, D = models.Generator(2, 2, 16, 1), models.Discriminator(2, 16, 1)
    state = ({k: v.clone() for k, v in G.state_dict().items()}, {k: v.clone() for k, v in D.state_dict().items()})
    cfg = TrainConfig(steps=5, batch_size=16, desc="probe")
    train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)
    assert "loaded from the run store" not in capfd.readouterr().err
    G.load_state_dict(state[0]), D.load_state_dict(state[1])
    train(G, D, toys.ring8().sample, losses.GANObjective(), cfg)
    assert "probe: loaded from the run store" in capfd.readouterr().err


@pytest.mark.parametrize("change", ["learning rate", "seed", "data", "objective", "code"])
def test_anything_that_defines_a_run_changes_its_key(run_store, monkeypatch, change):
    _magan_run()
    if change == "learning rate":
        _magan_run(lr=2e-3)
    elif change == "seed":
        _magan_run(seed=1)
    elif change == "code":
        monkeypatch.setattr(keys, "code_fingerprint", lambda modules=store.CODE_MODULES: "0" * 64)
        _magan_run()
    else:
        torch.manual_seed(0)
        G, D, obj = compare.make_toy_method("magan", compare.MethodConfig(hidden=16, magan_warmup=10, magan_epoch=5))
        target = toys.ring8(radius=1.5) if change == "data" else toys.ring8()
        if change == "objective":
            obj = losses.MAGANObjective(warmup_steps=20, epoch_steps=5)
        train(G, D, target.sample, obj, TrainConfig(steps=40, batch_size=32, snapshot_at=(20,), progress=False))
    assert len(_entries(run_store)) == 2


def test_a_truncated_or_altered_entry_is_reported_and_retrained(run_store):
    G1, *_ = _magan_run()
    for damage in ("truncate", "alter"):
        path = _entries(run_store)[0]
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncate" else data[:-100] + bytes(100))
        with pytest.warns(RuntimeWarning, match="damaged"):
            G2, *_ = _magan_run()
        assert all(torch.equal(a, b) for a, b in zip(G1.state_dict().values(), G2.state_dict().values()))
        assert len(_entries(run_store)) == 1  # the damaged entry was replaced by the retrained run
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _magan_run()  # and that one loads cleanly


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_an_entry_with_a_matching_checksum_but_pickled_code_is_never_run(run_store, tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    key = "ab" * 32
    data = pickle.dumps({"key": key, "x": Evil()})
    import hashlib
    folder = run_store._folder(key)
    folder.mkdir(parents=True)
    (folder / f"{key}.{hashlib.sha256(data).hexdigest()}.pt").write_bytes(data)
    with pytest.warns(RuntimeWarning, match="does not load"):
        assert run_store.get(key) is None
    assert not marker.exists() and not _entries(run_store)


def _writer(root, key, n):
    s = store.RunStore(root)
    for i in range(n):
        s.put(key, {"x": torch.full((200_000,), float(i)), "i": i})


def test_concurrent_writers_never_leave_half_an_entry(run_store):
    key = "cd" * 32
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(run_store.root), key, 15)) for _ in range(3)]
    for p in procs:
        p.start()
    seen = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged entry would warn: fail instead
        while any(p.is_alive() for p in procs):
            payload = run_store.get(key)
            if payload is not None:
                assert torch.equal(payload["x"], torch.full((200_000,), float(payload["i"])))
                seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert run_store.get(key)["i"] == 14
    assert not list(run_store.root.rglob("*.tmp"))  # no temporary file left behind
    assert seen > 0


def test_ensembles_and_the_classifier_judge_are_stored_too(run_store, capfd):
    cfg = compare.MethodConfig(steps=20, batch_size=32, hidden=16)
    rows1 = compare.run_toy_ensemble("ebgan", "ring8", seeds=[0, 1], cfgs=cfg, progress=False, return_models=True)
    rows2 = compare.run_toy_ensemble("ebgan", "ring8", seeds=[0, 1], cfgs=cfg, progress=False, return_models=True)
    assert [(r["modes"], r["hq"]) for r in rows1] == [(r["modes"], r["hq"]) for r in rows2]
    assert [r["history"].log["d_loss"] for r in rows1] == [r["history"].log["d_loss"] for r in rows2]
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(300, 1, 28, 28, generator=g), torch.randint(0, 10, (300,), generator=g)
    j1 = evaluation.fit_mnist_classifier(images, labels, n_heldout=100, steps=3, progress=False)
    j2 = evaluation.fit_mnist_classifier(images, labels, n_heldout=100, steps=3, progress=True)
    assert j1.accuracy == j2.accuracy and torch.equal(j1.held, j2.held)
    assert "classifier: loaded from the run store" in capfd.readouterr().err
    assert len(_entries(run_store)) == 2


def test_the_store_can_be_switched_off_and_keys_lambdas_by_their_code(monkeypatch, tmp_path):
    monkeypatch.setenv(store.ENV, "off")
    assert store.store_root() is None
    zeros, ones = (lambda n, g: torch.zeros(n, 2)), (lambda n, g: torch.ones(n, 2))
    assert store.key_of({"data": zeros}) == store.key_of({"data": zeros})
    assert store.key_of({"data": zeros}) != store.key_of({"data": ones})
    monkeypatch.setenv(store.ENV, str(tmp_path / "r"))
    assert store.store_root() == (tmp_path / "r").resolve()


def test_every_kind_of_weight_and_buffer_can_be_keyed():
    """0-dim buffers (BatchNorm's num_batches_tracked), bools, halves and empty tensors all describe."""
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    spec = {"m": m, "b": torch.tensor([True, False]), "h": torch.ones(3, dtype=torch.float16), "e": torch.zeros(0),
            "s": torch.tensor(3)}
    before = store.key_of(spec)
    assert store.key_of(spec) == before
    m[1].num_batches_tracked += 1  # a 0-dim buffer that changes must change the key
    assert store.key_of(spec) != before


def test_prune_removes_only_what_the_current_code_cannot_reach(run_store, capsys):
    old = store.RunStore(run_store.root, code="0" * 64)
    old.put("ab" * 32, {"x": torch.zeros(1000)})
    legacy = run_store.root / "ab" / f"{'ab' * 32}.{'0' * 64}.pt"  # the layout before code folders
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"x" * 100)
    fresh_tmp = run_store._folder("cd" * 32) / ".writing-1.tmp"
    run_store.put("cd" * 32, {"x": torch.ones(10)})
    fresh_tmp.write_bytes(b"partial")
    killed_tmp = run_store._folder("cd" * 32) / ".writing-2.tmp"
    killed_tmp.write_bytes(b"partial")
    os.utime(killed_tmp, (0, 0))
    assert old.get("ab" * 32) is not None
    assert store.main(["prune", "--root", str(run_store.root)]) == 0
    assert "removed 3 stale files" in capsys.readouterr().out
    assert old.get("ab" * 32) is None and not legacy.exists() and not (run_store.root / "ab").exists()
    assert torch.equal(run_store.get("cd" * 32)["x"], torch.ones(10))  # the current entry survives
    assert fresh_tmp.exists() and not killed_tmp.exists()
    assert run_store.prune() == (0, 0)


POOL = torch.arange(6.0).view(6, 1)


def _draw_from_pool(n, generator):
    return POOL[torch.randint(len(POOL), (n,), generator=generator)]


def test_a_notebook_function_is_keyed_by_the_globals_it_reads(monkeypatch):
    before = store.key_of(dict(data=_draw_from_pool))
    assert store.key_of(dict(data=_draw_from_pool)) == before
    monkeypatch.setitem(globals(), "POOL", torch.arange(7.0).view(7, 1))  # another data pool, same code
    assert store.key_of(dict(data=_draw_from_pool)) != before
    # course_lib's own functions are keyed by the code fingerprint, not by their module's globals
    assert "globals" not in store.describe(toys.make_target)

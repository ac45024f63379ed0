"""Two processes that need the same run at once train it once (the run store's training lock)."""
import multiprocessing as mp
import time
from pathlib import Path

import torch

from course_lib import store


def _need_the_run(root, marks, spec_seed, out):
    def fit():
        with open(marks, "a") as f:
            f.write("trained\n")
        time.sleep(1.5)
        return {"w": torch.full((3,), float(spec_seed))}

    payload, how, _ = store.remember(dict(what="lock test", seed=spec_seed), fit, store=store.RunStore(root))
    out.put((how, payload["w"].tolist()))


def test_two_processes_that_need_the_same_run_train_it_once(tmp_path):
    ctx = mp.get_context("spawn")
    out, marks = ctx.Queue(), tmp_path / "marks.txt"
    procs = [ctx.Process(target=_need_the_run, args=(tmp_path / "runs", marks, 7, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert marks.read_text().count("trained") == 1
    assert sorted(how for how, _ in results) == ["loaded", "trained"]
    assert all(w == [7.0, 7.0, 7.0] for _, w in results)


def test_prune_removes_the_lock_files_of_another_codes_runs(tmp_path):
    root = tmp_path / "runs"
    old = store.RunStore(root, code="1" * 64)
    store.remember(dict(what="lock test", seed=1), lambda: {"w": torch.ones(1)}, store=old)
    assert list((root / ("1" * 16) / "locks").glob("*.lock"))
    store.RunStore(root).prune()
    assert not (root / ("1" * 16)).exists()

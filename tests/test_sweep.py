"""Sweeps over torch.distributed: two CPU ranks started by torchrun (gloo) give the rows of one process."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import compare, sweep

ROOT = Path(__file__).resolve().parents[1]
BASE = compare.MethodConfig(steps=30, batch_size=32, hidden=16, code_dim=4, n_eval=400, magan_warmup=10, magan_epoch=5)


def test_grid_and_plan_group_runs_into_ensembles():
    runs = sweep.grid(["ebgan", "gan"], ["ring8", "grid25"], [0, 1], margin=[0.5, 2.0])
    assert len(runs) == 2 * 2 * 2 * 2
    groups = sweep.plan(runs, BASE)
    assert sorted(len(g) for g in groups) == [8, 8]  # one ensemble per method: targets, margins and seeds are members
    assert sorted(i for g in groups for i in g) == list(range(16))
    assert sorted(len(g) for g in sweep.plan(runs, BASE, max_members=3)) == [2, 2, 3, 3, 3, 3]
    wide = runs[:2] + [sweep.Run("ebgan", "ring8", 0, {"hidden": 8})]
    assert len(sweep.plan(wide, BASE)) == 2  # another architecture: another ensemble
    with pytest.raises(ValueError, match="unknown method"):
        sweep.plan([sweep.Run("wgan", "ring8", 0)], BASE)
    with pytest.raises(ValueError, match="unknown MethodConfig fields"):
        sweep.plan([sweep.Run("gan", "ring8", 0, {"margn": 1.0})], BASE)
    with pytest.raises(ValueError, match="at least one run"):
        sweep.run_sweep([], BASE)


def test_two_gloo_ranks_started_by_torchrun_gather_the_single_process_rows(tmp_path):
    runs = sweep.grid(["ebgan", "began"], ["ring8"], [0, 1, 2], lr_g=[1e-3, 2e-3])  # 12 runs
    spec, out = tmp_path / "sweep.json", tmp_path / "rows.json"
    sweep.write_spec(str(spec), runs, BASE)
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "course_lib.sweep", "--spec", str(spec), "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    gathered = json.loads(out.read_text())["rows"]
    assert [r["index"] for r in gathered] == list(range(len(runs)))
    assert {r["rank"] for r in gathered} == {0, 1} and {r["device"] for r in gathered} == {"cpu"}
    local = sweep.run_sweep(runs, BASE)
    for a, b in zip(gathered, local):
        assert (a["method"], a["target"], a["seed"], a["overrides"]) == (b["method"], b["target"], b["seed"], b["overrides"])
        assert a["modes"] == b["modes"] and a["hq"] == pytest.approx(b["hq"], abs=1e-9)

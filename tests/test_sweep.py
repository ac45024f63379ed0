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
        sweep.plan([sweep.Run("sngan", "ring8", 0)], BASE)
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


SPACE = dict(lr_d=[1e-4, 1e-3], margin=[0.5, 1.0, 2.0], hidden=[8, 16])


def test_sample_configs_draws_distinct_configurations_of_the_grid_repeatably():
    configs = sweep.sample_configs(SPACE, 7, seed=3)
    assert len(configs) == 7 and len({tuple(sorted(c.items())) for c in configs}) == 7
    assert all(c[k] in SPACE[k] for c in configs for k in SPACE) and all(set(c) == set(SPACE) for c in configs)
    assert configs == sweep.sample_configs(SPACE, 7, seed=3) and configs != sweep.sample_configs(SPACE, 7, seed=4)
    everything = sweep.sample_configs(SPACE, 12)   # n = grid size: the whole grid, each configuration once
    assert len({tuple(sorted(c.items())) for c in everything}) == 2 * 3 * 2
    with pytest.raises(ValueError, match=r"\[1, 12\]"):
        sweep.sample_configs(SPACE, 13)
    with pytest.raises(ValueError, match="non-empty list"):
        sweep.sample_configs(dict(lr_d=[]), 1)
    with pytest.raises(ValueError, match="unknown MethodConfig fields"):
        sweep.sample_configs(dict(lr=[1e-3]), 1)


def test_grid_search_runs_give_every_method_the_same_configurations_with_seed_i():
    configs = sweep.sample_configs(SPACE, 3)
    runs = sweep.grid_search_runs(["gan", "ebgan"], ["ring8", "grid25"], configs)
    assert len(runs) == 2 * 2 * 3
    for m in ("gan", "ebgan"):
        mine = [r for r in runs if r.method == m and r.target == "ring8"]
        assert [r.overrides for r in mine] == configs and [r.seed for r in mine] == [0, 1, 2]


def _row(method, target, modes, hq, n_modes=8, seed=0, **overrides):
    return dict(method=method, target=target, modes=modes, hq=hq, n_modes=n_modes, diverged=False, seed=seed, overrides=overrides)


def test_robustness_counts_good_runs_and_quartiles_by_hand():
    rows = [_row("gan", "ring8", m, q) for m, q in [(8, 0.9), (7, 0.4), (3, 0.9), (1, 0.1)]]
    rows += [_row("ebgan", "ring8", m, q, seed=i, lr_d=i) for i, (m, q) in enumerate([(8, 0.6), (7, 0.5), (6, 0.9), (8, 0.7)])]
    out = {s["method"]: s for s in sweep.robustness(rows, {"ring8": (7, 0.5)})}
    # GAN: only (8, 0.9) is good ((7, 0.4) has too few high-quality samples); modes sorted 1, 3, 7, 8
    assert out["gan"]["good"] == 1 and out["gan"]["good_share"] == 0.25
    assert (out["gan"]["modes_q1"], out["gan"]["modes_median"], out["gan"]["modes_q3"], out["gan"]["modes_best"]) == (3, 7, 8, 8)
    assert out["ebgan"]["good"] == 3 and out["ebgan"]["runs"] == 4
    best = sweep.best_configs(rows)
    assert best["ring8", "ebgan"]["lr_d"] == 3 and best["ring8", "ebgan"]["hq"] == 0.7   # ties on modes: the higher HQ wins


def test_grid_size_and_is_good():
    assert sweep.grid_size(SPACE) == 12
    good = {"ring8": (7, 0.5)}
    assert sweep.is_good(_row("gan", "ring8", 7, 0.5), good) and not sweep.is_good(_row("gan", "ring8", 7, 0.49), good)
    assert not sweep.is_good(_row("gan", "ring8", 6, 0.9), good)


def test_tuned_gives_each_method_its_best_run_with_only_the_fields_it_uses():
    rows = [_row("gan", "ring8", 8, 0.9, seed=0, lr_d=1e-3, margin=2.0, pt_weight=0.5),
            _row("gan", "ring8", 5, 0.9, seed=1, lr_d=1e-4, margin=1.0, pt_weight=0.1),
            _row("ebgan", "ring8", 6, 0.8, seed=0, lr_d=1e-3, margin=2.0, pt_weight=0.5),
            _row("ebgan", "ring8", 7, 0.5, seed=1, lr_d=1e-4, margin=1.0, pt_weight=0.1)]
    assert sweep.tuned(rows) == {("ring8", "gan"): {"lr_d": 1e-3}, ("ring8", "ebgan"): {"lr_d": 1e-4, "margin": 1.0}}
    assert list(sweep.tuned(rows, methods=("ebgan",))) == [("ring8", "ebgan")]


def test_grid_search_runs_can_start_from_other_seeds_than_the_comparison():
    runs = sweep.grid_search_runs(["gan"], ["ring8"], sweep.sample_configs(SPACE, 3), first_seed=1000)
    assert [r.seed for r in runs] == [1000, 1001, 1002]


class _ByBrightness:
    """A stand-in judge: the class is the brightness decile of the image, recognisable when the image is not blank."""

    def __call__(self, images):
        m = images.flatten(1).mean(1)
        classes = (m * 10).clamp(0, 9).long()[m > 0.05]
        return dict(classes=int(classes.unique().numel()), recognisable=float((m > 0.05).double().mean()), entropy_bits=0.0)


def test_a_judged_image_target_trains_in_a_sweep_beside_the_toys_and_is_scored_by_its_judge():
    import torch
    images = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    digits = compare.JudgedImages(images, _ByBrightness(), name="digits")
    assert digits.dim == 16 and digits.sample(5, torch.Generator().manual_seed(1)).shape == (5, 16)
    assert digits.images(torch.full((2, 16), 3.0)).max() == 1.0  # clipped to the data's range before judging
    deciles = (images.flatten(1).mean(1) * 10).long().unique().numel()
    assert digits.score(images.flatten(1)) == dict(modes=deciles, n_modes=10, hq=1.0, entropy_bits=0.0)
    base = compare.MethodConfig(steps=3, batch_size=8, hidden=8, n_eval=40)
    runs = [sweep.Run("gan", "digits", 0, {}), sweep.Run("gan", "ring8", 1, {}), sweep.Run("ebgan", "digits", 2, {"margin": 0.1})]
    rows = sweep.run_sweep(runs, base, targets={"digits": digits}, progress=False)
    assert [(r["method"], r["target"], r["index"]) for r in rows] == [("gan", "digits", 0), ("gan", "ring8", 1), ("ebgan", "digits", 2)]
    assert rows[0]["n_modes"] == 10 and rows[1]["n_modes"] == 8
    alone = compare.run_toy_ensemble("gan", digits, [0], base, progress=False)[0]
    assert (alone["modes"], alone["hq"]) == (rows[0]["modes"], rows[0]["hq"])  # the same run, trained in or out of the sweep
    with pytest.raises(ValueError, match="not a toy|no modes|unknown target"):
        sweep.run_sweep([sweep.Run("gan", "digits", 0, {})], base, progress=False)

"""Sweeps: many toy runs (methods x targets x seeds x hyper-parameters), trained as ensembles and
spread over processes, GPUs and machines with torch.distributed.

A sweep is a list of ``Run``s. ``run_sweep`` trains them in this process: the runs that share a
method and an architecture become the members of one ensemble (``compare.run_toy_ensemble``),
at most ``max_members`` at a time. Started by ``torchrun``, every rank trains its share (runs
``rank, rank + world, ...``) on its own device (``cuda:LOCAL_RANK`` with nccl where there are GPUs,
the CPU with gloo elsewhere) and rank 0 gathers the rows, in the order of the sweep:

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m course_lib.sweep \
        --spec sweep.json --out rows.json
    # several machines: the same command on each, with --nnodes N --node_rank i --rdzv_endpoint HOST:PORT

``sweep.json`` holds ``{"base": {MethodConfig fields}, "runs": [{"method", "target", "seed",
"overrides": {...}}, ...]}`` (``write_spec`` writes one, ``grid`` builds the runs of a grid).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.distributed as dist

from . import compare


@dataclass(frozen=True)
class Run:
    """One training run of a sweep: a method on a toy target from a seed, with MethodConfig overrides."""

    method: str
    target: str
    seed: int
    overrides: dict = field(default_factory=dict)

    def config(self, base: compare.MethodConfig) -> compare.MethodConfig:
        return compare.with_overrides(base, **self.overrides)


def grid(methods, targets, seeds, **values) -> list:
    """Every combination of methods, targets, seeds and the listed values of MethodConfig fields, as Runs."""
    names = sorted(values)
    runs = []
    for method, target, combo, seed in itertools.product(methods, targets, itertools.product(*(values[n] for n in names)), seeds):
        runs.append(Run(method, target, seed, dict(zip(names, combo))))
    return runs


def grid_size(space: dict) -> int:
    """The number of configurations of the grid ``space`` (field -> list of values)."""
    return math.prod(len(v) for v in space.values())


def is_good(row: dict, good: dict) -> bool:
    """A run is good on its target with at least ``good[target] = (modes, hq)`` modes covered and high-quality share."""
    min_modes, min_hq = good[row["target"]]
    return row["modes"] >= min_modes and row["hq"] >= min_hq


def sample_configs(space: dict, n: int, seed: int = 0) -> list:
    """``n`` distinct configurations drawn uniformly from the grid ``space`` (field -> list of values), in draw order.

    A random search over the grid (Bergstra & Bengio 2012): every method of a grid search gets the
    same list, so the methods meet the same settings. Fields a method does not use (the margin for
    the GAN) are carried along and ignored by it.
    """
    if not space:
        raise ValueError("a grid needs at least one field with values, e.g. {'lr_d': [1e-4, 1e-3]}")
    names = sorted(space)
    for name in names:
        if not isinstance(space[name], (list, tuple)) or not space[name]:
            raise ValueError(f"grid field {name!r}: give a non-empty list of values, got {space[name]!r}")
    size = grid_size(space)
    if not isinstance(n, int) or not 1 <= n <= size:
        raise ValueError(f"n must be an integer in [1, {size}] (the grid has {size} configurations), got {n!r}")
    compare.with_overrides(compare.MethodConfig(), **{k: space[k][0] for k in names})  # unknown fields raise here
    rng = random.Random(seed)
    picks = rng.sample(range(size), n)
    configs = []
    for flat in picks:
        cfg = {}
        for name in reversed(names):
            flat, j = divmod(flat, len(space[name]))
            cfg[name] = space[name][j]
        configs.append({k: cfg[k] for k in names})
    return configs


def grid_search_runs(methods, targets, configs, first_seed: int = 0) -> list:
    """The runs of a grid search: every method on every target in every configuration; configuration i trains from seed first_seed + i."""
    return [Run(m, t, first_seed + i, dict(c)) for m in methods for t in targets for i, c in enumerate(configs)]


def robustness(rows, good: dict) -> list:
    """Per (target, method): how the grid's runs spread. ``good[target] = (modes, hq)``: a run counts as good with at least
    that many modes covered and that high-quality share. Returns rows with the count, the good share, quartiles of modes."""
    groups = {}
    for r in rows:
        groups.setdefault((r["target"], r["method"]), []).append(r)
    out = []
    for (target, method), rs in groups.items():
        modes = sorted(r["modes"] for r in rs)
        n_good = sum(is_good(r, good) for r in rs)
        q = lambda f: modes[min(len(modes) - 1, int(f * len(modes)))]  # noqa: E731
        out.append(dict(target=target, method=method, runs=len(rs), n_modes=rs[0]["n_modes"], good=n_good,
                        good_share=n_good / len(rs), modes_q1=q(0.25), modes_median=q(0.5), modes_q3=q(0.75),
                        modes_best=modes[-1], hq_median=sorted(r["hq"] for r in rs)[len(rs) // 2],
                        diverged=sum(bool(r["diverged"]) for r in rs)))
    return out


def best_configs(rows) -> dict:
    """(target, method) -> the overrides of its best run: most modes covered, then the highest high-quality share."""
    best = {}
    for r in rows:
        k = (r["target"], r["method"])
        if k not in best or (r["modes"], r["hq"]) > (best[k]["modes"], best[k]["hq"]):
            best[k] = r
    return {k: dict(r["overrides"], seed=r["seed"], modes=r["modes"], hq=r["hq"]) for k, r in best.items()}


def tuned(rows, methods=None) -> dict:
    """(target, method) -> the MethodConfig fields of its best run, for ``compare.compare(per_run=...)``.

    Only the fields a method uses are kept (a GAN ignores the margin, an EBGAN the PT weight), so
    that methods which share nothing do not split into needless ensembles.
    """
    unused = {"gan": ("margin", "pt_weight", "gamma"), "ebgan": ("pt_weight", "gamma"), "ebgan_pt": ("gamma",),
              "magan": ("margin", "pt_weight", "gamma"), "lsgan": ("margin", "pt_weight", "gamma"),
              "began": ("margin", "pt_weight")}
    out = {}
    for (target, method), b in best_configs(rows).items():
        if methods is None or method in methods:
            out[target, method] = {k: v for k, v in b.items()
                                   if k not in ("seed", "modes", "hq") and k not in unused.get(method, ())}
    return out


def _check(runs, base) -> list:
    runs = [r if isinstance(r, Run) else Run(**r) for r in runs]
    if not runs:
        raise ValueError("a sweep needs at least one run")
    for r in runs:
        compare._check_method(r.method)
        r.config(base)  # unknown fields raise here, before anything trains
    return runs


def plan(runs, base: compare.MethodConfig = compare.MethodConfig(), max_members: int = 256) -> list:
    """Groups of run indices that train together as one ensemble: one method, everything but HYPER_FIELDS shared."""
    if not isinstance(max_members, int) or max_members < 1:
        raise ValueError(f"max_members must be a positive integer, got {max_members!r}")
    runs = _check(runs, base)
    by_method = {}
    for i, r in enumerate(runs):
        by_method.setdefault(r.method, []).append(i)
    return [[idx[j] for j in group] for idx in by_method.values()
            for group in compare.shared_groups([runs[i].config(base) for i in idx], max_members)]


def run_sweep(runs, base: compare.MethodConfig = compare.MethodConfig(), device: str = "cpu",
              max_members: int = 256, progress: bool = True, targets: dict | None = None) -> list:
    """Train every run here, grouped into ensembles; one row per run (as ``compare.run_toy`` gives), in the sweep's order.

    ``targets`` maps target names that are not toys to their objects (``{"mnist": compare.JudgedImages(...)}``).
    """
    runs = _check(runs, base)
    targets = targets or {}
    rows = [None] * len(runs)
    for idx in plan(runs, base, max_members):
        group = [runs[i] for i in idx]
        kinds = {r.target in targets for r in group}
        if len(kinds) > 1:  # toys and images never share an ensemble: split and train each part
            for part in ([i for i in idx if runs[i].target in targets], [i for i in idx if runs[i].target not in targets]):
                for i, row in zip(part, run_sweep([runs[i] for i in part], base, device, max_members, progress, targets)):
                    rows[i] = dict(row, index=i)
            continue
        out = compare.run_toy_ensemble(group[0].method, [targets.get(r.target, r.target) for r in group], [r.seed for r in group],
                                       [r.config(base) for r in group], device=device,
                                       progress=progress)
        for i, r, row in zip(idx, group, out):
            rows[i] = dict(row, index=i, overrides=dict(r.overrides))
    return rows


def _device_and_backend():
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        return f"cuda:{local}", "nccl"
    return "cpu", "gloo"


def run_distributed(runs, base: compare.MethodConfig = compare.MethodConfig(), max_members: int = 256):
    """The sweep split over the ranks of a torchrun job; rank 0 returns all rows (in the sweep's order), the others None."""
    runs = _check(runs, base)
    device, backend = _device_and_backend()
    started = not dist.is_initialized()
    if started:
        if "RANK" not in os.environ:
            raise RuntimeError("run_distributed needs the environment torchrun sets (RANK, WORLD_SIZE, MASTER_ADDR, ...): "
                               "start it with `python -m torch.distributed.run --nproc_per_node N -m course_lib.sweep ...`, "
                               "or call run_sweep for one process")
        dist.init_process_group(backend)
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        mine = list(range(rank, len(runs), world))
        rows = run_sweep([runs[i] for i in mine], base, device, max_members, progress=rank == 0) if mine else []
        for i, row in zip(mine, rows):
            row.update(index=i, rank=rank, device=device)
        gathered = [None] * world if rank == 0 else None
        dist.gather_object(rows, gathered, dst=0)
        if rank != 0:
            return None
        return sorted((row for part in gathered for row in part), key=lambda r: r["index"])
    finally:
        if started:
            dist.destroy_process_group()


def write_spec(path: str, runs, base: compare.MethodConfig = compare.MethodConfig()) -> None:
    """Write a sweep (its base MethodConfig and its runs) as JSON for ``python -m course_lib.sweep --spec``."""
    runs = _check(runs, base)
    with open(path, "w") as f:
        json.dump({"base": asdict(base), "runs": [asdict(r) for r in runs]}, f, indent=1)


def read_spec(path: str):
    """(runs, base) from a JSON file written by ``write_spec``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no sweep spec at {path!r}; write one with course_lib.sweep.write_spec")
    with open(path) as f:
        spec = json.load(f)
    base = compare.with_overrides(compare.MethodConfig(), **spec.get("base", {}))
    return _check(spec["runs"], base), base


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="sweep JSON (course_lib.sweep.write_spec)")
    parser.add_argument("--out", required=True, help="where rank 0 writes the rows (JSON)")
    parser.add_argument("--max-members", type=int, default=256, help="largest ensemble one rank trains at once")
    args = parser.parse_args(argv)
    runs, base = read_spec(args.spec)
    start = time.perf_counter()
    rows = run_distributed(runs, base, args.max_members)
    if rows is not None:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"seconds": time.perf_counter() - start, "rows": rows}, f, indent=1)
        os.replace(tmp, args.out)
        print(f"{len(rows)} runs in {time.perf_counter() - start:.1f} s; rows in {args.out}")


if __name__ == "__main__":
    main()

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

Nothing trains before the whole sweep is checked: every run's method, target, seed and
overrides, the spec file (``read_spec`` names the file and the field of an error) and the
folder of ``--out``. Ranks never wait for each other in a collective while they train, however
unequal their shares (``run_distributed`` says how the rows travel); each keeps the rows it has
trained in a part file beside ``--out`` until rank 0 has written ``--out``, which it replaces
atomically from a temporary file of its own.
"""
from __future__ import annotations

import argparse
import datetime
import difflib
import functools
import itertools
import json
import math
import numbers
import os
import pickle
import random
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field

import torch
import torch.distributed as dist

from . import compare, toys
from . import methods as registry


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


def robustness(rows, good: dict, fail_at: int = 1) -> list:
    """Per (target, method): how the grid's runs spread. ``good[target] = (modes, hq)``: a run counts as good with at least
    that many modes covered and that high-quality share. Returns rows with the count, the good share, quartiles of modes,
    and the runs that fail: ``failed`` cover at most ``fail_at`` modes, ``zero`` cover none."""
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
                        diverged=sum(bool(r["diverged"]) for r in rs), failed=sum(r["modes"] <= fail_at for r in rs),
                        failed_share=sum(r["modes"] <= fail_at for r in rs) / len(rs), fail_at=fail_at,
                        zero=sum(r["modes"] == 0 for r in rs)))
    return out


def reachable_good(rows, modes_frac: float = 0.75, hq_frac: float = 0.5) -> dict:
    """target -> (modes, hq): a "good" line that the budget can reach, drawn from the best run of any method on the target.

    The best run (most modes, then the highest high-quality share) covers M modes with a share H of
    high-quality samples; a run is good with at least ``ceil(modes_frac * M)`` modes and ``hq_frac * H``.
    A fixed line (say 20 of grid25's 25 modes) that no run of a short budget reaches makes every
    method equally "bad" and says nothing; this one asks how often a method comes close to the best.
    """
    if not (0 < modes_frac <= 1 and 0 <= hq_frac <= 1):
        raise ValueError(f"modes_frac must be in (0, 1] and hq_frac in [0, 1], got {modes_frac!r} and {hq_frac!r}")
    best = {}
    for r in rows:
        if r["target"] not in best or (r["modes"], r["hq"]) > (best[r["target"]]["modes"], best[r["target"]]["hq"]):
            best[r["target"]] = r
    return {t: (max(1, math.ceil(modes_frac * b["modes"])), hq_frac * b["hq"]) for t, b in best.items()}


def paired_verdict(rows, target: str, a: str, b: str, value=lambda r: r["modes"], what: str = "modes covered",
                   higher_is_better: bool = True, labels: dict | None = None):
    """The course's verdict (``verdicts.compare_runs``) on method ``a`` against ``b`` on ``target``, paired by configuration.

    In a grid search (``grid_search_runs``) configuration i trains every method from seed i, so the
    runs of two methods pair by their seed; each pair is checked to share its configuration. ``value``
    gives the number compared from a row (default: modes covered; e.g. ``lambda r: r["modes"] <= 1``
    with ``higher_is_better=False`` for the share of runs that fail).
    """
    from . import verdicts  # the course's one comparison rule
    labels = labels or compare.LABELS
    side = {}
    for m in (a, b):
        mine = sorted((r for r in rows if r["target"] == target and r["method"] == m), key=lambda r: r["seed"])
        if not mine:
            raise ValueError(f"no runs of {m!r} on {target!r} among the rows")
        side[m] = {r["seed"]: r for r in mine}
        if len(side[m]) != len(mine):
            raise ValueError(f"several runs of {m!r} on {target!r} share a seed; a grid search gives one per configuration")
    if set(side[a]) != set(side[b]):
        raise ValueError(f"{a!r} and {b!r} on {target!r} were not trained in the same configurations (seeds differ)")
    seeds = sorted(side[a])
    for s in seeds:
        ra, rb = side[a][s], side[b][s]
        if any(ra["overrides"].get(k) != rb["overrides"].get(k) for k in set(ra["overrides"]) | set(rb["overrides"])):
            raise ValueError(f"seed {s}: {a!r} and {b!r} ran in different configurations; pairing by configuration needs the same")
    return verdicts.compare_runs([float(value(side[a][s])) for s in seeds], [float(value(side[b][s])) for s in seeds],
                                 labels.get(a, a), labels.get(b, b), what, higher_is_better=higher_is_better, paired=True,
                                 unit="configuration")


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

    Only the fields a method reads are kept (a GAN ignores the margin, an EBGAN the PT weight: the
    registry, ``course_lib.methods``, says which), so that methods which share nothing do not split
    into needless ensembles.
    """
    out = {}
    for (target, method), b in best_configs(rows).items():
        if methods is None or method in methods:
            reads = registry.get(method).reads
            out[target, method] = {k: v for k, v in b.items() if k not in ("seed", "modes", "hq") and reads(k)}
    return out


RUN_FIELDS = ("method", "target", "seed", "overrides")   # the fields of one run in a spec (overrides optional)
SPEC_FIELDS = ("base", "runs")                           # the fields of a spec file (base optional)
MAX_SEED = 2**32 - 1                                     # numpy's seeds stop here


@functools.lru_cache(maxsize=1)
def countable_toys() -> tuple:
    """The names of the toy targets whose modes can be counted (``toys.TARGETS`` with centres), sorted."""
    return tuple(sorted(n for n in toys.TARGETS if toys.make_target(n).centers is not None))


@functools.lru_cache(maxsize=1)
def _field_defaults() -> dict:
    """MethodConfig's fields and their default values."""
    return asdict(compare.MethodConfig())


def _hint(name: str, choices) -> str:
    """'; did you mean 'x'?' when ``name`` is close to one of ``choices``, else ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_fields(values, where: str) -> None:
    """The MethodConfig fields in ``values`` exist and hold one value of their type; ValueError naming ``where`` and the field."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: give an object of MethodConfig fields, e.g. {{\"steps\": 2000}}, got {values!r}")
    defaults = _field_defaults()
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ValueError(f"{where}: unknown MethodConfig fields {unknown}{_hint(unknown[0], defaults)}; "
                         f"allowed: {sorted(defaults)}")
    for name, value in values.items():
        kind = type(defaults[name])
        ok = isinstance(value, bool) if kind is bool else isinstance(value, str) if kind is str else \
            isinstance(value, numbers.Real if kind is float else numbers.Integral) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"{where}: MethodConfig field {name!r} takes one {kind.__name__}, got {value!r}; "
                             f"set it to e.g. {defaults[name]!r}")


def _config(base: compare.MethodConfig, overrides: dict, where: str) -> compare.MethodConfig:
    """``base`` with ``overrides`` (fields and values checked); a ValueError names ``where``."""
    _check_fields(overrides, where)
    try:
        return compare.with_overrides(base, **overrides)
    except (ValueError, TypeError) as e:  # MethodConfig's own checks of the values
        raise ValueError(f"{where}: {e}") from None


def _check_target(target, where: str, targets: dict) -> None:
    """``target`` is a toy whose modes can be counted, a name in ``targets`` or a target object; else a ValueError."""
    toy_names = list(countable_toys())
    if isinstance(target, str) and (target in targets or target in toy_names):
        return
    if not isinstance(target, str):
        try:
            compare._mode_target(target)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        return
    extra = f" or one of the targets given ({sorted(targets)})" if targets else ""
    if isinstance(target, str) and target in toys.TARGETS:
        raise ValueError(f"{where}: target {target!r} has no modes to count; choose one of {toy_names}{extra}")
    raise ValueError(f"{where}: unknown target {target!r}{_hint(target, list(toy_names) + list(targets))}; "
                     f"choose one of {toy_names}{extra}")


def _check_seed(seed, where: str) -> None:
    """A seed is a whole number in [0, 2**32 - 1] (numpy's range)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{where}: seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


def _as_run(r, where: str) -> Run:
    """A Run from a Run or a dict of its fields; a ValueError names ``where`` and the missing or unknown field."""
    if isinstance(r, Run):
        return r
    if not isinstance(r, dict):
        raise ValueError(f"{where}: a run is an object with fields {RUN_FIELDS} (overrides optional), got {r!r}")
    for name in RUN_FIELDS[:3]:
        if name not in r:
            raise ValueError(f"{where} lacks {name!r}; a run needs 'method', 'target' and 'seed' ('overrides' optional)")
    unknown = sorted(set(r) - set(RUN_FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r}{_hint(unknown[0], RUN_FIELDS)}; a run has {RUN_FIELDS}")
    return Run(**r)


def _check_run(run: Run, where: str, base: compare.MethodConfig, targets: dict | None) -> None:
    """Everything about one run that could fail once training started: method, target, seed, overrides."""
    if not isinstance(run.method, str) or run.method not in registry.REGISTRY:
        raise ValueError(f"{where}: unknown method {run.method!r}{_hint(run.method, registry.names())}; "
                         f"choose one of {registry.names()}")
    if targets is not None:
        _check_target(run.target, where, targets)
    _check_seed(run.seed, where)
    _config(base, run.overrides, f"{where}: overrides")


def _check(runs, base, targets: dict | None = None) -> list:
    """The runs as Runs, every one checked before anything trains; ``targets`` None skips the target names (``plan``)."""
    if isinstance(runs, (str, bytes, dict)) or not hasattr(runs, "__iter__"):
        raise ValueError(f"runs: give a list of runs, got {runs!r}")
    runs = [_as_run(r, f"runs[{i}]") for i, r in enumerate(runs)]
    if not runs:
        raise ValueError("a sweep needs at least one run")
    for i, r in enumerate(runs):
        _check_run(r, f"runs[{i}]", base, targets)
    return runs


def plan(runs, base: compare.MethodConfig = compare.MethodConfig(), max_members: int = 256) -> list:
    """Groups of run indices that train together as one ensemble: one method, everything but HYPER_FIELDS shared."""
    if not isinstance(max_members, int) or max_members < 1:
        raise ValueError(f"max_members must be a positive integer, got {max_members!r}")
    runs = _check(runs, base)
    by_method = {}
    for i, r in enumerate(runs):
        by_method.setdefault(r.method, []).append(i)
    return [[idx[j] for j in group] for method, idx in by_method.items()
            for group in compare.shared_groups([runs[i].config(base) for i in idx], max_members, method=method)]


def _target_key(target, targets: dict):
    """What the members of one ensemble must share about their targets: given (not a toy) or not, and the data's dimension."""
    obj = _resolve(target, targets)
    return (not isinstance(obj, toys.Target), obj.dim)


def _resolve(target, targets: dict):
    """The target object of a run: a name given in ``targets``, a toy's name, or the object itself."""
    if isinstance(target, str):
        return targets[target] if target in targets else toys.make_target(target)
    return target


def run_sweep(runs, base: compare.MethodConfig = compare.MethodConfig(), device: str = "cpu",
              max_members: int = 256, progress: bool = True, targets: dict | None = None, on_rows=None) -> list:
    """Train every run here, grouped into ensembles; one row per run (as ``compare.run_toy`` gives), in the sweep's order.

    ``targets`` maps target names that are not toys to their objects (``{"mnist": compare.JudgedImages(...)}``).
    Every run is checked before the first trains. Toys and given targets, and targets of different
    dimensions, never share an ensemble. ``on_rows(rows)``, if given, receives the rows of each
    ensemble as soon as it has trained (each row's ``index`` is its place in ``runs``).
    """
    targets = targets or {}
    runs = _check(runs, base, targets)
    rows = [None] * len(runs)
    for idx in plan(runs, base, max_members):
        parts = {}
        for i in idx:
            parts.setdefault(_target_key(runs[i].target, targets), []).append(i)
        for part in parts.values():
            group = [runs[i] for i in part]
            out = compare.run_toy_ensemble(group[0].method, [_resolve(r.target, targets) for r in group],
                                           [r.seed for r in group], [r.config(base) for r in group], device=device,
                                           progress=progress)
            for i, r, row in zip(part, group, out):
                rows[i] = dict(row, index=i, overrides=dict(r.overrides))
            if on_rows is not None:
                on_rows([rows[i] for i in part])
    return rows


def _device_and_backend():
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        return f"cuda:{local}", "nccl"
    return "cpu", "gloo"


def check_out(path: str) -> str:
    """``path``, once its folder exists and takes new files (tried with a temporary file); else a ValueError naming it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"--out {path!r} is a folder; give a file name for the rows, e.g. {os.path.join(path, 'rows.json')!r}")
    if not os.path.isdir(folder):
        raise ValueError(f"--out {path!r}: the folder {folder!r} does not exist; create it (mkdir -p {folder}) "
                         f"or choose another --out")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".sweep-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise ValueError(f"--out {path!r}: cannot write in the folder {folder!r} ({e.strerror}); "
                         f"choose a folder you may write to") from None
    return path


def write_json(path: str, data) -> None:
    """Write ``data`` as JSON to ``path`` atomically: a temporary file of its own in the same folder, then ``os.replace``.

    Two writers of one path never share a temporary file, so the file holds one writer's data whole."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def part_path(out: str, job: str, rank: int) -> str:
    """The file beside ``out`` where ``rank`` of the job ``job`` keeps the rows it has trained so far."""
    return f"{out}.{job}.rank{rank}.part.json"


POLL_S = 0.5   # how often a waiting rank looks at the store


def _await(board, key: str, watch, deadline: float, what: str) -> bytes:
    """The value of ``key`` in the store once set; a RuntimeError once a rank in ``watch`` reports failure or time is up."""
    while True:
        if board.check([key]):
            return board.get(key)
        for r in watch:
            if board.check([f"failed/{r}"]):
                raise RuntimeError(f"rank {r} failed ({board.get(f'failed/{r}').decode()}) while {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after --timeout-hours while {what}; give a longer --timeout-hours")
        time.sleep(POLL_S)


def _job_id(board, rank: int) -> str:
    """A name for this job that all its ranks share (rank 0 draws it and posts it in the store)."""
    if rank == 0:
        job = uuid.uuid4().hex[:12]
        board.set("job", job)
        return job
    return board.get("job").decode()


def _train_share(runs, base, max_members, rank, world, device, part, job) -> list:
    """Train this rank's runs (``rank, rank + world, ...``); with ``part``, every finished ensemble's rows go to that file."""
    mine = list(range(rank, len(runs), world))
    done = []

    def keep(rows):
        for row in rows:
            done.append(dict(row, index=mine[row["index"]], rank=rank, device=device))
        if part is not None:
            write_json(part, {"job": job, "rank": rank, "world": world, "rows": done})

    if mine:
        run_sweep([runs[i] for i in mine], base, device, max_members, progress=rank == 0, on_rows=keep)
    elif part is not None:
        keep([])
    return sorted(done, key=lambda r: r["index"])


_CALLS = itertools.count()  # run_distributed calls in this process: every rank makes the same calls, so they agree


def _board(store):
    """This call's corner of the ranks' key-value store (a fresh one for every call and every torchrun restart)."""
    restart = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return dist.PrefixStore(f"course_lib.sweep/{restart}/{next(_CALLS)}/", store)


def _exchange(runs, base, max_members, board, job, out, deadline, started_at):
    """Train this rank's share, post its rows in the store, and (rank 0) collect everyone's: the rows, or None off rank 0."""
    rank, world = dist.get_rank(), dist.get_world_size()
    device = _device_and_backend()[0]
    part = part_path(out, job, rank) if out is not None else None
    try:
        mine = _train_share(runs, base, max_members, rank, world, device, part, job)
        board.set(f"rows/{rank}", pickle.dumps(mine))
        if rank == 0:
            parts = [pickle.loads(_await(board, f"rows/{r}", range(1, world), deadline, f"rank 0 waited for rank {r}'s rows"))
                     for r in range(world)]
            rows = sorted((row for p in parts for row in p), key=lambda r: r["index"])
            if out is not None:
                write_json(out, {"seconds": time.perf_counter() - started_at, "job": job, "rows": rows})
            board.set("done", b"1")
        else:
            rows = None
            _await(board, "done", [0], deadline, f"rank {rank} waited for rank 0 to write the rows")
    except BaseException as e:
        try:
            board.set(f"failed/{rank}", f"{type(e).__name__}: {e}"[:500])
        except Exception:  # noqa: BLE001 -- the store may be gone with the job; the error that matters is e
            pass
        if part is not None and os.path.exists(part):
            print(f"rank {rank}: the rows it trained are kept in {part}", file=sys.stderr)
        raise
    if part is not None:
        os.remove(part)
    dist.barrier()  # every rank is done with the store, so rank 0 (which may host it) leaves last
    return rows


def run_distributed(runs, base: compare.MethodConfig = compare.MethodConfig(), max_members: int = 256,
                    out: str | None = None, timeout_hours: float = 24.0, pg_timeout_s: float | None = None):
    """The sweep split over the ranks of a torchrun job; rank 0 returns all rows (in the sweep's order), the others None.

    How the rows are gathered: no collective runs while ranks train, so no process-group timeout
    can fire however unequal their shares are. Each rank posts its rows (pickled) in the job's
    key-value store (the one the ranks met through) once its share is done; rank 0, when its own
    share is done, polls the store for them, for up to ``timeout_hours``, and stops at once if a
    rank reports that it failed (under torchrun a rank that dies takes the job down with it). Then
    rank 0 writes ``out``, posts "done", and one ``dist.barrier`` - run only when every rank has
    finished - lets the job end together. A store, not part files on a shared folder, carries the
    rows because the machines of a job need not share a file system.

    With ``out``, every rank also keeps the rows it has trained so far in its part file beside
    ``out`` (``part_path``: unique per job and rank, rewritten atomically after every ensemble)
    and removes it once rank 0 has written ``out``: when a rank fails, the work of the others stays
    in their part files. ``pg_timeout_s`` is the process group's timeout (torch's default if None).
    """
    started_at = time.perf_counter()
    runs = _check(runs, base, {})
    plan(runs, base, max_members)  # a bad max_members fails here, before anything trains
    if out is not None:
        check_out(out)
    for name, value in (("timeout_hours", timeout_hours), ("pg_timeout_s", pg_timeout_s)):
        if value is not None and not (isinstance(value, numbers.Real) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    wait = datetime.timedelta(hours=timeout_hours)
    started = not dist.is_initialized()
    if started:
        if "RANK" not in os.environ:
            raise RuntimeError("run_distributed needs the environment torchrun sets (RANK, WORLD_SIZE, MASTER_ADDR, ...): "
                               "start it with `python -m torch.distributed.run --nproc_per_node N -m course_lib.sweep ...`, "
                               "or call run_sweep for one process")
        store, rank, world = next(dist.rendezvous("env://", timeout=wait))
        board = _board(store)
        job = _job_id(board, rank)  # the ranks meet here, so they start the process group together
        dist.init_process_group(_device_and_backend()[1], store=store, rank=rank, world_size=world,
                                timeout=None if pg_timeout_s is None else datetime.timedelta(seconds=pg_timeout_s))
    else:  # the caller's group: its store is reachable only through this private function
        board = _board(dist.distributed_c10d._get_default_store())
        job = _job_id(board, dist.get_rank())
    try:
        return _exchange(runs, base, max_members, board, job, out, time.monotonic() + wait.total_seconds(), started_at)
    finally:
        if started:
            dist.destroy_process_group()


def write_spec(path: str, runs, base: compare.MethodConfig = compare.MethodConfig()) -> None:
    """Write a sweep (its base MethodConfig and its runs) as JSON for ``python -m course_lib.sweep --spec``."""
    runs = _check(runs, base, {})
    write_json(path, {"base": asdict(base), "runs": [asdict(r) for r in runs]})


def _parse_spec(spec):
    """(runs, base) from a spec's parsed JSON, every field checked; a ValueError names the field."""
    if not isinstance(spec, dict):
        raise ValueError(f"a spec is an object {{\"base\": {{...}}, \"runs\": [...]}}, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SPEC_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}{_hint(unknown[0], SPEC_FIELDS)}; a spec has {SPEC_FIELDS}")
    if "runs" not in spec:
        raise ValueError("lacks 'runs' (a list of {\"method\", \"target\", \"seed\", \"overrides\"})")
    if not isinstance(spec["runs"], list):
        raise ValueError(f"runs: give a list of runs, got {type(spec['runs']).__name__}")
    base = _config(compare.MethodConfig(), spec.get("base", {}), "base")
    return _check(spec["runs"], base, {}), base


def read_spec(path: str):
    """(runs, base) from a JSON file written by ``write_spec``; a bad file raises a ValueError naming the file and the field."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no sweep spec at {path!r}; write one with course_lib.sweep.write_spec")
    try:
        with open(path) as f:
            spec = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text file ({e.reason} at byte {e.start}); give the JSON of write_spec") from None
    try:
        return _parse_spec(spec)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_lib.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True, help="sweep JSON (course_lib.sweep.write_spec)")
    parser.add_argument("--out", required=True, help="where rank 0 writes the rows (JSON); its folder must exist")
    parser.add_argument("--max-members", type=int, default=256, help="largest ensemble one rank trains at once")
    parser.add_argument("--timeout-hours", type=float, default=24.0,
                        help="how long rank 0 waits for the other ranks' rows after its own share (default 24)")
    parser.add_argument("--pg-timeout-s", type=float, default=None,
                        help="the process group's timeout in seconds (torch's default if not given); no collective "
                             "runs while ranks train, so it bounds only the closing barrier")
    args = parser.parse_args(argv)
    try:  # everything that can be wrong with the command is found before anything trains
        check_out(args.out)
        runs, base = read_spec(args.spec)
        plan(runs, base, args.max_members)
        for flag, value in (("--timeout-hours", args.timeout_hours), ("--pg-timeout-s", args.pg_timeout_s)):
            if value is not None and not value > 0:
                raise ValueError(f"{flag} must be positive, got {value}")
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    start = time.perf_counter()
    rows = run_distributed(runs, base, args.max_members, out=args.out, timeout_hours=args.timeout_hours,
                           pg_timeout_s=args.pg_timeout_s)
    if rows is not None:
        print(f"{len(rows)} runs in {time.perf_counter() - start:.1f} s; rows in {args.out}")


if __name__ == "__main__":
    main()

"""The one training loop: alternating (``n_critic`` discriminator steps per generator step) or
simultaneous updates, with the method plugged in as an ``Objective`` (``course_lib.losses``).

It keeps a loss history, snapshots of both networks at chosen iterations, stops with a clear
error when a loss turns NaN/inf or explodes (restoring the last good snapshot), shows tqdm
progress, and saves checkpoints atomically. Only finite weights are ever kept: before every
snapshot and at the end, every parameter and buffer and a forward pass of G on a fixed probe batch
are checked; weights that fail count as a divergence. A run trained through the run store saves a
resumable checkpoint every ``resume_every`` seconds, so a killed kernel loses minutes, not the run. The same loop trains K runs at once when G and D are
ensembles (``course_lib.ensemble``). Nothing in the step loop waits for the GPU: logged numbers
and the divergence check stay on the device and come to the host every ``sync_every`` steps.
"""
from __future__ import annotations

import copy
import hashlib
import math
import numbers
import os
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from . import ensemble, models, store


OPTIMIZERS = {
    "adam": lambda params, cfg, lr: torch.optim.Adam(params, lr=lr, betas=cfg.betas),
    "sgd": lambda params, cfg, lr: torch.optim.SGD(params, lr=lr),
}
MEMBER_OPTIMIZERS = {  # the same, for an ensemble: one learning rate per member
    "adam": lambda params, cfg, lr: ensemble.MemberAdam(params, lr=lr, betas=cfg.betas),
    "sgd": lambda params, cfg, lr: ensemble.MemberSGD(params, lr=lr),
}
PER_MEMBER = ("lr_d", "lr_g", "seed")  # TrainConfig fields that may hold one value per ensemble member


@dataclass
class TrainConfig:
    steps: int = 2000             # generator updates
    batch_size: int = 256         # samples per minibatch (real and fake alike)
    n_critic: int = 1             # discriminator updates per generator update (alternating mode)
    lr_d: float = 1e-3            # discriminator learning rate (Adam); for an ensemble also one per member
    lr_g: float = 1e-3            # generator learning rate (Adam); for an ensemble also one per member
    betas: tuple = (0.5, 0.999)   # Adam's betas, as in DCGAN
    optimizer: str = "adam"       # "adam" or "sgd" (plain gradient steps show saturation undisguised)
    simultaneous: bool = False    # True: one minibatch, both gradients, then both steps
    snapshot_at: tuple = ()       # generator steps after which to keep copies of G and D (0 and the last always)
    seed: int = 0                 # seeds z, the minibatches and nothing else; for an ensemble also one per member
    max_loss: float = 1e6         # |loss| above this counts as divergence
    progress: bool = True         # tqdm progress bar
    desc: str = ""                # the progress bar's label (default: the objective's name)
    store: bool = True            # keep the trained run in the run store and load it next time (course_lib.store)
    sync_every: int = 50          # generator steps between bringing logs and the divergence check to the host
    consensus: float = 0.0        # gamma >= 0 of consensus optimization (simultaneous mode only): both losses get + gamma/2 ||v||^2
    average_d: float = 0.0        # decay in [0, 1) of a moving average of D's weights kept after every step (Polyak averaging; 0 = none)
    resume_every: float = 300.0   # seconds between resumable checkpoints of a run kept in the run store (0: at every sync)

    def __post_init__(self):
        for name in ("steps", "batch_size", "n_critic", "sync_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        for name in ("lr_d", "lr_g", "max_loss"):
            v = getattr(self, name)
            for i, x in enumerate(v if isinstance(v, (list, tuple)) and name != "max_loss" else [v]):
                where = f" (member {i})" if isinstance(v, (list, tuple)) else ""
                if isinstance(x, bool) or not (isinstance(x, (int, float)) and x > 0 and math.isfinite(x)):
                    raise ValueError(f"{name} must be a positive finite number{where}, got {x!r}")
                if name != "max_loss":
                    check_learning_rate(name, x, where)
        r = self.resume_every
        if isinstance(r, bool) or not (isinstance(r, (int, float)) and r >= 0):
            raise ValueError(f"resume_every (seconds between resumable checkpoints; 0 = at every sync) must be >= 0, got {r!r}")
        for i, x in enumerate(self.seed if isinstance(self.seed, (list, tuple)) else [self.seed]):
            if not isinstance(x, int) or x < 0:
                raise ValueError(f"seed must be a non-negative integer (or one per member), got {x!r}")
        for name in PER_MEMBER:
            if isinstance(getattr(self, name), (list, tuple)):
                if not getattr(self, name):
                    raise ValueError(f"{name}: an empty list; give one value, or one per ensemble member")
                setattr(self, name, tuple(getattr(self, name)))
        if not (len(self.betas) == 2 and all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be two numbers in [0, 1) (Adam's beta_1, beta_2), got {self.betas!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        if self.simultaneous and self.n_critic != 1:
            raise ValueError("simultaneous updates use one minibatch for both players: set n_critic=1")
        c = self.consensus
        if isinstance(c, bool) or not (isinstance(c, (int, float)) and math.isfinite(c) and c >= 0):
            raise ValueError(f"consensus (gamma of consensus optimization) must be a finite number >= 0, got {c!r}")
        if c > 0 and not self.simultaneous:
            raise ValueError(f"consensus={c:g} regularises the joint gradient of simultaneous updates: "
                             "set simultaneous=True (or consensus=0 for alternating updates)")
        a = self.average_d
        if isinstance(a, bool) or not (isinstance(a, (int, float)) and 0 <= a < 1):
            raise ValueError(f"average_d (the decay of D's weight average, e.g. 0.999; 0 = none) must be in [0, 1), got {a!r}")
        bad = [s for s in self.snapshot_at if not isinstance(s, int) or not 0 <= s <= self.steps]
        if bad:
            raise ValueError(f"snapshot_at must hold steps in [0, {self.steps}], got {bad}")

    def members(self) -> int | None:
        """K when some field holds one value per member (all such fields must agree), else None."""
        lengths = {n: len(getattr(self, n)) for n in PER_MEMBER if isinstance(getattr(self, n), tuple)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"per-member settings must all have one length (the ensemble's K), got {lengths}")
        return next(iter(lengths.values()), None)

    def member(self, i: int) -> "TrainConfig":
        """The single run that member i of an ensemble trained with these settings reproduces."""
        return replace(self, **{n: getattr(self, n)[i] for n in PER_MEMBER if isinstance(getattr(self, n), tuple)})


MAX_LR = 10.0  # above this no method here trains (and past ~3.4e38 a rate overflows float32)


def check_learning_rate(name: str, value, where: str = "") -> float:
    """``value`` as a float if it is a usable learning rate (finite, > 0, at most ``MAX_LR``), else a ValueError saying what to set.

    The one rule for every learning rate of the course (``TrainConfig``'s, ``compare.MethodConfig``'s).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}{where}: a learning rate must be a positive finite number, got {value!r}; "
                         f"set {name} to e.g. 1e-3 (typical values are 1e-4 to 1e-2)")
    if value > MAX_LR:
        raise ValueError(f"{name}{where}: a learning rate of {value:g} is too large: learning rates above {MAX_LR:g} "
                         f"never train (and past 3.4e38 one is infinite in float32); typical values are 1e-4 to 1e-2: "
                         f"set {name} to one of those")
    return float(value)


def evenly_spaced(steps: int, frames: int) -> tuple:
    """``frames - 2`` steps spread evenly over (0, steps), for ``snapshot_at`` (0 and the last are always kept)."""
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (the first and the last snapshot), got {frames}")
    return tuple(sorted({max(1, steps * i // (frames - 1)) for i in range(1, frames - 1)}))


@dataclass
class Snapshot:
    """Copies (on the CPU) of both networks' weights after ``step`` generator updates."""

    step: int
    G: dict
    D: dict
    extra: dict = field(default_factory=dict)

    def load_into(self, G: nn.Module, D: nn.Module) -> None:
        G.load_state_dict(self.G)
        D.load_state_dict(self.D)

    def generator(self, G: nn.Module) -> nn.Module:
        """A copy of ``G`` holding this snapshot's weights (G itself is untouched)."""
        g = copy.deepcopy(G)
        g.load_state_dict(self.G)
        return g.eval()

    def discriminator(self, D: nn.Module) -> nn.Module:
        d = copy.deepcopy(D)
        d.load_state_dict(self.D)
        return d.eval()


@dataclass
class History:
    """Per generator step: every logged number; plus the snapshots. For an ensemble, one History per member.

    ``diverged`` is None, or the message that says at which step and in which loss this run (or
    ensemble member) diverged; its log stops before that step.
    """

    log: dict = field(default_factory=lambda: defaultdict(list))
    snapshots: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    diverged: str | None = None
    D_average: dict | None = None  # with ``average_d``: D's weights averaged over the run (CPU copies)

    def __getitem__(self, key):
        return self.log[key]

    def __contains__(self, key) -> bool:
        """``"e_fake" in history``: was that number logged (without it, ``in`` would iterate __getitem__ forever)."""
        return key in self.log

    def last(self, key: str, n: int = 1) -> float:
        """Mean of the last ``n`` logged values of ``key``."""
        vals = self.log[key][-n:]
        return sum(vals) / len(vals)

    def averaged_discriminator(self, D: nn.Module) -> nn.Module:
        """A copy of ``D`` holding the run's moving average of its weights (train with ``average_d`` > 0)."""
        if self.D_average is None:
            raise ValueError("this run kept no weight average: train with TrainConfig(average_d=0.999) or similar")
        d = copy.deepcopy(D)
        d.load_state_dict(self.D_average)
        return d.eval()


class TrainingDiverged(RuntimeError):
    """A loss became NaN/inf or exceeded ``max_loss``; ``history`` holds everything up to then."""

    def __init__(self, message: str, history: History, step: int):
        super().__init__(message)
        self.history, self.step = history, step


def _state(module: nn.Module) -> dict:
    return store.to_cpu(dict(module.state_dict()))


def _finite(state: dict) -> bool:
    """Every floating-point tensor of a state_dict is finite."""
    return all(bool(torch.isfinite(v).all()) for v in state.values() if torch.is_tensor(v) and v.is_floating_point())


PROBE_SIZE = 64  # codes in the fixed probe batch that checks G's forward pass before a snapshot is kept


class _Runs:
    """What differs between one run and K at once: the random streams, the snapshots, the logs.

    Logged numbers and losses stay on the device, one entry per step; ``flush`` brings them to the
    host in one transfer every ``cfg.sync_every`` steps, checks every loss for NaN/inf or
    ``|loss| > max_loss`` and appends to the histories. A GPU never waits for the host in between.
    """

    def __init__(self, G, D, objective, cfg: TrainConfig):
        self.k = ensemble.ensemble_size(G)
        if ensemble.ensemble_size(D) != self.k:
            raise ValueError(f"G and D must both be single networks or ensembles of one size; got "
                             f"{self.k or 'a single network'} and {ensemble.ensemble_size(D) or 'a single network'}")
        sizes = {"TrainConfig": cfg.members(), "the objective's hyper-parameters": getattr(objective, "members", None)}
        sizes.update({f"objective network {type(m).__name__}": ensemble.ensemble_size(m) for m in objective.modules()})
        for what, k in sizes.items():
            if k is not None and k != self.k:
                raise ValueError(f"{what} give {k} members, but the networks are "
                                 f"{'an ensemble of ' + str(self.k) if self.k else 'a single run'}: "
                                 f"build the networks with ensemble.ensemble_of (K = {k}) or give one value per setting")
        self.cfg, self.G, self.D, self.objective = cfg, G, D, objective
        n = self.k or 1
        self.cfgs = [cfg.member(i) for i in range(n)] if cfg.members() else [cfg] * n
        self.gens = [torch.Generator().manual_seed(c.seed) for c in self.cfgs]
        self.histories = [History(config=asdict(c)) for c in self.cfgs]
        self.active = [True] * n
        self.pending, self.checks = [], []    # per step: (step, parts); per loss: (step, what, loss)
        self.extra = [p for m in objective.modules() for p in m.parameters()]
        probe_gens = [torch.Generator().manual_seed(2**31 - 1 - i) for i in range(n)]  # not the training streams
        self.probe = G.sample_z(PROBE_SIZE, probe_gens if self.k else probe_gens[0])

    # ---- random streams: member i draws exactly what its single run draws
    def z(self, n: int):
        return self.G.sample_z(n, self.gens if self.k else self.gens[0])

    def real(self, sample_real, n: int, device, dtype):
        if not self.k:
            return models.to_device(sample_real(n, self.gens[0]), device, dtype)
        samplers = sample_real if isinstance(sample_real, (list, tuple)) else [sample_real] * self.k
        if len(samplers) != self.k:
            raise ValueError(f"{len(samplers)} real-data samplers for an ensemble of {self.k}; give one, or one per member")
        return models.to_device(torch.stack([s(n, g) for s, g in zip(samplers, self.gens)]), device, dtype)

    def optimizers(self):
        cfg = self.cfg
        if not self.k:
            return (OPTIMIZERS[cfg.optimizer](self.D.parameters(), cfg, cfg.lr_d),
                    OPTIMIZERS[cfg.optimizer](list(self.G.parameters()) + self.extra, cfg, cfg.lr_g))
        lr_d, lr_g = [c.lr_d for c in self.cfgs], [c.lr_g for c in self.cfgs]
        return (MEMBER_OPTIMIZERS[cfg.optimizer](self.D.parameters(), cfg, lr_d),
                MEMBER_OPTIMIZERS[cfg.optimizer](list(self.G.parameters()) + self.extra, cfg, lr_g))

    # ---- only finite weights are kept
    def unhealthy(self, g: dict, d: dict) -> list:
        """[(member, what)] for active members whose weights (CPU copies g, d) or G's output on the probe batch are not finite."""
        was_training = self.G.training
        self.G.eval()
        with torch.no_grad():
            out = self.G(self.probe)
        self.G.train(was_training)
        n = self.k or 1
        out_ok = out.reshape(n, -1).isfinite().all(1).tolist()
        bad = []
        for i in range(n):
            if not self.active[i]:
                continue
            gi = ensemble.member_state(self.G, i, g) if self.k else g
            di = ensemble.member_state(self.D, i, d) if self.k else d
            what = ("G's weights" if not _finite(gi) else "D's weights" if not _finite(di)
                    else "G's output on the probe batch" if not out_ok[i] else None)
            if what:
                bad.append((i, what))
        return bad

    # ---- snapshots
    def snapshot(self, step: int, g: dict | None = None, d: dict | None = None):
        g = _state(self.G) if g is None else g
        d = _state(self.D) if d is None else d
        extra = self.objective.state()
        for i, h in enumerate(self.histories):
            if not self.active[i]:
                continue
            if self.k:
                mine = {k: (v[i] if isinstance(v, list) and len(v) == self.k else v) for k, v in extra.items()}
                h.snapshots.append(Snapshot(step, ensemble.member_state(self.G, i, g), ensemble.member_state(self.D, i, d), mine))
            else:
                h.snapshots.append(Snapshot(step, g, d, extra))

    # ---- logs and the divergence check, one transfer per flush
    def check(self, step: int, what: str, loss: torch.Tensor):
        self.checks.append((step, what, loss.detach()))

    def check_data(self, step: int, x: torch.Tensor):
        """Check the real minibatch for NaN/inf (per member): bad data must not be blamed on the learning rate."""
        n = self.k or 1
        ok = x.detach().reshape(n, -1).isfinite().all(1)
        self.checks.append((step, "real data", torch.where(ok, 0.0, float("nan")).reshape(-1) if self.k else
                            torch.where(ok[0], 0.0, float("nan"))))

    def log(self, step: int, parts: dict):
        self.pending.append((step, parts))

    def flush(self):
        """Bring pending logs and checks to the host; returns [(member, step, what, value)] for newly diverged members."""
        if not self.pending and not self.checks:
            return []
        n = self.k or 1
        host = self._to_host(n)
        rows = [(step, {k: (host[("part", j, k)] if torch.is_tensor(v) else [float(v)] * n) for k, v in parts.items()})
                for j, (step, parts) in enumerate(self.pending)]
        first_bad = {}
        for j, (step, what, _) in enumerate(self.checks):
            values = host[("check", j, None)]
            for i, v in enumerate(values):
                if self.active[i] and i not in first_bad and not (math.isfinite(v) and abs(v) <= self.cfg.max_loss):
                    first_bad[i] = (step, what, v)
        for step, parts in rows:
            for i, h in enumerate(self.histories):
                if self.active[i] and (i not in first_bad or step < first_bad[i][0]):
                    for k, v in parts.items():
                        h.log[k].append(v[i])
        self.pending, self.checks = [], []
        return [(i, *first_bad[i]) for i in sorted(first_bad)]

    def _to_host(self, n: int) -> dict:
        """Every pending tensor as a list of n floats, keyed (kind, index, name): one stack per logged name, one transfer."""
        columns = {}  # (kind, name) -> [(index, tensor)]
        for j, (_, parts) in enumerate(self.pending):
            for k, v in parts.items():
                if torch.is_tensor(v):
                    columns.setdefault(("part", k), []).append((j, v))
        for j, (_, _, loss) in enumerate(self.checks):
            columns.setdefault(("check", None), []).append((j, loss))
        if not columns:
            return {}
        blocks = [torch.stack([t.reshape(-1).expand(n) for _, t in col]).double() for col in columns.values()]
        values = torch.cat(blocks).cpu().tolist()  # the one transfer (and the one wait for the GPU)
        out, row = {}, 0
        for (kind, name), col in columns.items():
            for j, _ in col:
                out[(kind, j, name)] = values[row]
                row += 1
        return out

    def message(self, i, step, what, value=None):
        c = self.cfgs[i]
        who = f"member {i} of {self.k} (seed {c.seed})" if self.k else "training"
        last = self.histories[i].snapshots[-1].step
        then = ("it was stopped, restored to its last good snapshot" if self.k
                else "G and D were restored to the last good snapshot")
        where = f"{then} (step {last}, in history.snapshots[-1])"
        if what == "real data":
            return (f"{who} stopped at generator step {step}: the real minibatch (from sample_real) contains NaN or inf. "
                    f"{where}. This is the data, not the learning rate: check the data set or the sampler for "
                    "missing values (e.g. torch.isfinite(x).all()) and drop or fill them.")
        if value is None:  # the weights themselves, checked before a snapshot and at the end
            return (f"{who} diverged at generator step {step}: {what} are not finite after that update (NaN or inf), "
                    f"although every loss was. {where}. Lower the learning rates "
                    f"(lr_d={c.lr_d:g}, lr_g={c.lr_g:g}), or use a loss that does not blow up.")
        return (f"{who} diverged at generator step {step}: {what} = {value} (limit |loss| <= {self.cfg.max_loss:g}). "
                f"{where}. Lower the learning rates "
                f"(lr_d={c.lr_d:g}, lr_g={c.lr_g:g}), or use a loss that does not blow up.")


def _total(loss: torch.Tensor) -> torch.Tensor:
    """The scalar to differentiate: the loss, or for an ensemble the sum of the members' losses (each member gets its own gradient)."""
    return loss if loss.ndim == 0 else loss.sum()


def _plus(a, b):
    """a + b for gradients, where None (a parameter the loss does not use) counts as zero."""
    return b if a is None else a if b is None else a + b


def _squared_norm(grads, k: int | None) -> torch.Tensor:
    """||v||^2 over a list of gradients: a scalar, or one per member (K,) for an ensemble (parameters stacked over K)."""
    if k:
        return sum(g.reshape(k, -1).pow(2).sum(1) for g in grads)
    return sum(g.pow(2).sum() for g in grads)


def _joint_gradients(d_loss, g_loss, d_params, g_params, gamma: float, k: int | None):
    """(grad_D L_D, grad_G L_G, parts); for gamma > 0 each plus the gradient of gamma/2 ||v||^2, v = (grad_D L_D, grad_G L_G)
    the joint gradient field (Mescheder, Nowozin, Geiger 2017, arXiv:1705.10461, Algorithm 1, for minimised losses)."""
    if gamma == 0:
        d_grads = torch.autograd.grad(_total(d_loss), d_params, retain_graph=True, allow_unused=True)
        g_grads = torch.autograd.grad(_total(g_loss), g_params, allow_unused=True)
        return d_grads, g_grads, {}
    d_grads = torch.autograd.grad(_total(d_loss), d_params, create_graph=True, allow_unused=True)
    g_grads = torch.autograd.grad(_total(g_loss), g_params, create_graph=True, allow_unused=True)
    v_sq = _squared_norm([g for g in (*d_grads, *g_grads) if g is not None], k)  # ||v||^2, one per member
    penalty = 0.5 * gamma * v_sq
    reg = torch.autograd.grad(_total(penalty), d_params + g_params, allow_unused=True)
    d_grads = [_plus(g, r) for g, r in zip(d_grads, reg[:len(d_params)])]
    g_grads = [_plus(g, r) for g, r in zip(g_grads, reg[len(d_params):])]
    detach = lambda gs: [None if g is None else g.detach() for g in gs]  # noqa: E731
    return detach(d_grads), detach(g_grads), {"consensus": penalty.detach(), "joint_grad_norm2": v_sq.detach()}


def train(
    G: nn.Module,
    D: nn.Module,
    sample_real: Callable[[int, torch.Generator], torch.Tensor],
    objective,
    cfg: TrainConfig = TrainConfig(),
    callback: Callable | None = None,
):
    """Train G against D with ``objective``; ``sample_real(n, generator)`` gives real minibatches.

    Alternating mode: ``n_critic`` discriminator steps, then one generator step on fresh z.
    Simultaneous mode: one minibatch; both gradients from it; then both steps. With ``cfg.consensus`` = gamma > 0
    (consensus optimization, Mescheder et al. 2017) both losses get + gamma/2 ||v||^2, v the joint gradient field.
    After every discriminator step ``objective.after_d_step(D)`` runs, when the objective has one (WGAN's clipping).
    ``callback(step, G, D, history)`` runs after every generator step (the history is brought up
    to date before each call).

    Many runs at once: when G and D are ensembles of K members (``ensemble.ensemble_of``), every
    member trains as its own run, with its own seed and learning rates where ``cfg`` gives one per
    member, its own hyper-parameters and state where the objective does, and its own real data
    where ``sample_real`` is a list of K samplers; member i draws the same z and minibatches as
    the single run with its settings. Returns one ``History`` per member. A member that diverges
    is restored to its last good snapshot and stopped (a warning names it); the others go on.
    A single run that diverges raises ``TrainingDiverged``.

    The run store (``course_lib.store``): when ``cfg.store`` is on (the default; ``COURSE_STORE=off``
    turns it off everywhere) and no callback is given, a run trained before with the same networks,
    initial weights, objective, settings, data and training code is loaded instead of trained:
    G, D, the objective's state and the histories (snapshots included) come back as training left
    them, and a line on stderr says so.
    """
    if cfg.store and callback is None:
        return _train_or_load(G, D, sample_real, objective, cfg)
    return _train(G, D, sample_real, objective, cfg, callback)


def _history_payload(h: History) -> dict:
    return dict(log={k: list(v) for k, v in h.log.items()}, config=h.config, diverged=h.diverged,
                snapshots=[dict(step=s.step, G=s.G, D=s.D, extra=s.extra) for s in h.snapshots],
                D_average=h.D_average)


def _history_from(p: dict) -> History:
    log = defaultdict(list)
    log.update({k: list(v) for k, v in p["log"].items()})
    return History(log=log, snapshots=[Snapshot(s["step"], s["G"], s["D"], s["extra"]) for s in p["snapshots"]],
                   config=p["config"], diverged=p["diverged"], D_average=p.get("D_average"))


def _train_or_load(G, D, sample_real, objective, cfg):
    extra = objective.modules() if hasattr(objective, "modules") else []
    spec = dict(what="train", G=G, D=D, data=sample_real, objective=type(objective),
                objective_state=store.objective_state(objective), modules=extra,
                cfg={k: v for k, v in asdict(cfg).items() if k not in ("progress", "desc", "store", "resume_every")})
    trained = {}
    key, resume = _key_and_resume_path(spec)

    def fit():
        trained["histories"] = out = _train(G, D, sample_real, objective, cfg, resume=resume)
        histories = out if isinstance(out, list) else [out]
        return dict(G=_state(G), D=_state(D), modules=[_state(m) for m in extra],
                    objective=store.objective_state(objective), histories=[_history_payload(h) for h in histories],
                    ensemble=isinstance(out, list))

    payload, how, seconds = store.remember(spec, fit, validate=lambda p: _payload_problem(p, G, D, extra), key=key)
    if how == "trained":
        return trained["histories"]
    device = next(G.parameters()).device
    G.load_state_dict(payload["G"]), D.load_state_dict(payload["D"])
    for m, state in zip(extra, payload["modules"]):
        m.load_state_dict(state)
    if hasattr(objective, "to"):
        objective.to(device, next(G.parameters()).dtype)
    store.load_objective_state(objective, payload["objective"], device)
    histories = [_history_from(p) for p in payload["histories"]]
    G.eval(), D.eval()
    for h in histories:
        if h.diverged:
            warnings.warn(h.diverged, RuntimeWarning, stacklevel=3)
    if cfg.progress:
        label = cfg.desc or getattr(objective, "name", "train")
        print(f"{label}: loaded from the run store in {seconds:.1f} s ({cfg.steps:,} generator steps not retrained)",
              file=sys.stderr)
    return histories if payload["ensemble"] else histories[0]


def _same_tensors(state, like: dict) -> bool:
    return (isinstance(state, dict) and set(state) == set(like)
            and all(torch.is_tensor(state[k]) and state[k].shape == like[k].shape for k in like))


def _payload_problem(p, G, D, extra) -> str | None:
    """What is wrong with the structure of a stored training run for these networks, or None (checked before anything loads)."""
    if not isinstance(p, dict) or not {"G", "D", "modules", "objective", "histories", "ensemble"} <= set(p):
        return "it lacks some of G, D, modules, objective, histories, ensemble"
    for name, net in (("G", G), ("D", D)):
        if not _same_tensors(p[name], net.state_dict()):
            return f"its {name} does not fit the network's state_dict"
    if not isinstance(p["modules"], list) or len(p["modules"]) != len(extra) or not all(
            _same_tensors(s, m.state_dict()) for s, m in zip(p["modules"], extra)):
        return "its objective's networks do not fit"
    n = ensemble.ensemble_size(G)
    if not isinstance(p["histories"], list) or len(p["histories"]) != (n or 1) or p["ensemble"] is not bool(n):
        return "its histories do not match the number of runs"
    need = {"log", "config", "diverged", "snapshots"}
    if not all(isinstance(h, dict) and need <= set(h) and isinstance(h["log"], dict) and isinstance(h["snapshots"], list)
               for h in p["histories"]):
        return "a history lacks its log or snapshots"
    if not isinstance(p["objective"], dict):
        return "its objective state is not a dict"
    return None


def _key_and_resume_path(spec) -> tuple:
    """(the run's key, where it saves its resumable checkpoint in the store's temp area); (None, None) when the store
    is off or the run cannot be keyed (``store.remember`` then says so)."""
    root = store.store_root()
    if root is None:
        return None, None
    try:
        key = store.key_of(spec)
    except TypeError:
        return None, None
    return key, str(store.resume_path(root, key))


def _generators(objective) -> list:
    """The random generators an objective holds (MaxEnt's shuffles), in a fixed order."""
    out = []
    for name in sorted(vars(objective)):
        v = getattr(objective, name)
        for g in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(g, torch.Generator):
                out.append(g)
    return out


class _Resume:
    """A resumable checkpoint of ``_train``: networks, optimisers, every random stream, objective state, histories.

    Saved atomically with ``save_checkpoint`` (its sha256 beside it) every ``cfg.resume_every`` seconds
    at a step whose logs are flushed; a rerun of the same run (same key, so the same path) loads it and
    continues from that step, ending with the same weights as a run that was never interrupted.
    """

    def __init__(self, path, runs, opt_d, opt_g, average, device):
        self.path, self.runs, self.opt_d, self.opt_g, self.average, self.device = path, runs, opt_d, opt_g, average, device
        self.last = time.monotonic()

    def save(self, step: int) -> None:
        r = self.runs
        state = dict(step=step, G=_state(r.G), D=_state(r.D), modules=[_state(m) for m in r.objective.modules()],
                     objective=store.objective_state(r.objective), gens=[g.get_state() for g in r.gens],
                     objective_gens=[g.get_state() for g in _generators(r.objective)],
                     opt_d=self.opt_d.state_dict(), opt_g=self.opt_g.state_dict(), active=list(r.active),
                     histories=[_history_payload(h) for h in r.histories],
                     average=None if self.average is None else _state(self.average), cpu_rng=torch.get_rng_state(),
                     cuda_rng=torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None)
        try:
            save_checkpoint(self.path, **state)
        except OSError as err:
            warnings.warn(f"could not save the resumable checkpoint {self.path} ({err}); training goes on without it",
                          RuntimeWarning, stacklevel=3)
            self.path = None
        self.last = time.monotonic()

    def due(self, cfg) -> bool:
        return self.path is not None and time.monotonic() - self.last >= cfg.resume_every

    def load(self) -> int:
        """Restore everything from the checkpoint, if there is a sound one; returns the step it was saved after (0: none)."""
        if self.path is None or not os.path.exists(self.path):
            return 0
        try:
            c = load_checkpoint(self.path)
            r = self.runs
            r.G.load_state_dict(c["G"]), r.D.load_state_dict(c["D"])
            for m, s in zip(r.objective.modules(), c["modules"]):
                m.load_state_dict(s)
            store.load_objective_state(r.objective, c["objective"], self.device)
            for g, s in zip(r.gens, c["gens"]):
                g.set_state(s)
            for g, s in zip(_generators(r.objective), c["objective_gens"]):
                g.set_state(s)
            self.opt_d.load_state_dict(c["opt_d"]), self.opt_g.load_state_dict(c["opt_g"])
            r.active = list(c["active"])
            r.histories = [_history_from(p) for p in c["histories"]]
            if self.average is not None:
                self.average.load_state_dict(c["average"])
            torch.set_rng_state(c["cpu_rng"])
            if c["cuda_rng"] is not None and self.device.type == "cuda":
                torch.cuda.set_rng_state(c["cuda_rng"], self.device)
        except Exception as err:  # noqa: BLE001 - a checkpoint that does not restore is ignored: train from the start
            warnings.warn(f"the resumable checkpoint {self.path} could not be restored ({err}); training from the start",
                          RuntimeWarning, stacklevel=3)
            self.discard()
            raise _RestartFromScratch from err
        print(f"resumed from the checkpoint of generator step {c['step']:,} ({self.path})", file=sys.stderr)
        return int(c["step"])

    def discard(self) -> None:
        for p in (self.path, (self.path or "") + ".sha256"):
            if p and os.path.exists(p):
                os.remove(p)


class _RestartFromScratch(Exception):
    """A resumable checkpoint failed to restore after it had changed some state: start the run again from its initial state."""


def _train(G, D, sample_real, objective, cfg, callback=None, resume=None):
    if resume is None:
        return _train_from(G, D, sample_real, objective, cfg, callback, None)
    initial = (copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict()),
               [copy.deepcopy(m.state_dict()) for m in objective.modules()], copy.deepcopy(store.objective_state(objective)),
               [g.get_state() for g in _generators(objective)], torch.get_rng_state())
    try:
        return _train_from(G, D, sample_real, objective, cfg, callback, resume)
    except _RestartFromScratch:
        g, d, mods, obj, gens, rng = initial
        G.load_state_dict(g), D.load_state_dict(d)
        for m, s in zip(objective.modules(), mods):
            m.load_state_dict(s)
        store.load_objective_state(objective, obj, next(G.parameters()).device)
        for gen, s in zip(_generators(objective), gens):
            gen.set_state(s)
        torch.set_rng_state(rng)
        return _train_from(G, D, sample_real, objective, cfg, callback, None)


def _train_from(G, D, sample_real, objective, cfg, callback, resume_path):
    runs = _Runs(G, D, objective, cfg)
    device = next(G.parameters()).device
    dtype = next(G.parameters()).dtype
    if hasattr(objective, "to"):
        objective.to(device, dtype)
    opt_d, opt_g = runs.optimizers()
    d_params, g_params = list(D.parameters()), list(G.parameters()) + runs.extra
    after_d_step = getattr(objective, "after_d_step", None) or (lambda D: None)  # e.g. WGAN's weight clipping
    keep = set(cfg.snapshot_at) | {cfg.steps}
    average = AveragedModel(D, multi_avg_fn=get_ema_multi_avg_fn(cfg.average_d)) if cfg.average_d else None
    resume = _Resume(resume_path, runs, opt_d, opt_g, average, device) if resume_path else None
    start = resume.load() if resume else 0
    if start == 0:
        for i, what in runs.unhealthy(_state(G), _state(D)):
            raise ValueError(f"the initial {what} are not finite (NaN or inf): initialise the networks afresh")
        runs.snapshot(0)

    def stop(i, message, step):
        """Member i (or the single run) diverged: restore its last good snapshot; raise for a single run, else stop it."""
        history = runs.histories[i]
        history.diverged = message
        if not runs.k:
            history.snapshots[-1].load_into(G, D)
            if resume:
                resume.discard()
            raise TrainingDiverged(message, history, step)
        runs.active[i] = False
        last = history.snapshots[-1]
        ensemble.load_member(G, i, last.G), ensemble.load_member(D, i, last.D)
        opt_d.stop(i), opt_g.stop(i)
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def sync(step):
        for i, bad_step, what, value in runs.flush():
            stop(i, runs.message(i, bad_step, what, value), bad_step)

    def healthy_snapshot(step):
        """Check the weights; stop the members whose weights or probe output are not finite; snapshot the rest."""
        g, d = _state(G), _state(D)
        for i, what in runs.unhealthy(g, d):
            stop(i, runs.message(i, step, what), step)
        if runs.k and not all(runs.active):  # stopped members were restored: take their copies afresh
            g, d = _state(G), _state(D)
        return g, d

    G.train(), D.train()
    steps = range(start + 1, cfg.steps + 1)
    for step in tqdm(steps, initial=start, total=cfg.steps, disable=not cfg.progress,
                     desc=cfg.desc or getattr(objective, "name", "train")):
        if cfg.simultaneous:
            z = runs.z(cfg.batch_size)
            x_fake = G(z)
            # consensus differentiates grad_D L_D with respect to G too: the fakes stay attached to G
            x_fake_d = x_fake if cfg.consensus > 0 else x_fake.detach()
            x_real = runs.real(sample_real, cfg.batch_size, device, dtype)
            runs.check_data(step, x_real)
            d_loss, d_parts = objective.d_loss(D, x_real, x_fake_d)
            runs.check(step, "discriminator loss", d_loss)
            g_loss, g_parts = objective.g_loss(D, x_fake, z)
            runs.check(step, "generator loss", g_loss)
            opt_d.zero_grad(set_to_none=True), opt_g.zero_grad(set_to_none=True)
            d_grads, g_grads, c_parts = _joint_gradients(d_loss, g_loss, d_params, g_params, cfg.consensus, runs.k)
            g_parts = {**g_parts, **c_parts}
            for p, g in zip(d_params, d_grads):
                p.grad = g
            for p, g in zip(g_params, g_grads):
                p.grad = g
            opt_d.step()
            after_d_step(D)
            opt_g.step()
        else:
            for _ in range(cfg.n_critic):
                with torch.no_grad():
                    x_fake = G(runs.z(cfg.batch_size))
                x_real = runs.real(sample_real, cfg.batch_size, device, dtype)
                runs.check_data(step, x_real)
                d_loss, d_parts = objective.d_loss(D, x_real, x_fake)
                runs.check(step, "discriminator loss", d_loss)
                opt_d.zero_grad(set_to_none=True)
                _total(d_loss).backward()
                opt_d.step()
                after_d_step(D)
            z = runs.z(cfg.batch_size)
            g_loss, g_parts = objective.g_loss(D, G(z), z)
            runs.check(step, "generator loss", g_loss)
            opt_g.zero_grad(set_to_none=True)
            _total(g_loss).backward()
            opt_g.step()
        parts = {**d_parts, **g_parts}
        parts.update(objective.update(parts))
        runs.log(step, parts)
        synced = step in keep or step % cfg.sync_every == 0 or callback is not None
        if synced:
            sync(step)
        if step in keep:
            runs.snapshot(step, *healthy_snapshot(step))
        if average is not None:
            average.update_parameters(D)
        if callback is not None:
            callback(step, G, D, runs.histories if runs.k else runs.histories[0])
        if resume and synced and step < cfg.steps and resume.due(cfg):
            resume.save(step)
    sync(cfg.steps)
    if average is not None:
        avg = _state(average.module)
        for i, h in enumerate(runs.histories):
            h.D_average = ensemble.member_state(D, i, avg) if runs.k else avg
    G.eval(), D.eval()
    if resume:
        resume.discard()
    return runs.histories if runs.k else runs.histories[0]


# ---------------------------------------------------------------- checkpoints
def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_text(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(path: str, **tensors_and_numbers) -> str:
    """Write ``{name: state_dict | tensor | number}`` atomically (temp file, then rename) with a .sha256 beside it.

    The checksum file lists the new digest before the checkpoint is renamed into place and only the
    new one after: a kill at any moment leaves a checkpoint whose digest its ``.sha256`` lists.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(tensors_and_numbers, tmp)
        digest = _sha256(tmp)
        old = _listed_digests(path) if os.path.exists(path) else []
        _write_text(path + ".sha256", "".join(d + "\n" for d in old + [digest]))  # old or new: both check out
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _write_text(path + ".sha256", digest + "\n")
    return digest


def _listed_digests(path: str) -> list:
    try:
        with open(path + ".sha256") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def load_checkpoint(path: str, map_location="cpu", verify: bool = True) -> dict:
    """Load a checkpoint written by ``save_checkpoint`` (``weights_only=True``), checking its sha256.

    A checkpoint without its ``.sha256`` is refused (its bytes cannot be checked) unless ``verify=False``.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}; train first (the notebook does so when it is missing)")
    if verify:
        listed = _listed_digests(path)
        if not listed:
            raise ValueError(f"checkpoint {path!r} has no {os.path.basename(path)}.sha256 beside it, so its bytes cannot be "
                             "checked; copy the .sha256 file with it, or load_checkpoint(path, verify=False) if you trust it")
        if _sha256(path) not in listed:
            raise ValueError(f"checkpoint {path!r} does not match its sha256 (damaged or altered); delete it and its "
                             ".sha256 and train again")
    return torch.load(path, map_location=map_location, weights_only=True)

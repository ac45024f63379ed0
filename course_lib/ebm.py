"""Energy-based models trained by maximum likelihood with MCMC negatives.

The gradient of the negative log-likelihood of p_theta = exp(-E_theta) / Z_theta is

    grad_theta NLL = E_data[grad_theta E_theta(x)] - E_{p_theta}[grad_theta E_theta(x)],

and the second (negative) phase needs samples of the model itself. Here they come from Langevin
chains run on the current energy,

    x <- x - a grad_x E(x) + sigma sqrt(2 a) eps,   eps ~ N(0, I)

(unadjusted Langevin at temperature sigma^2; sigma = 1 targets p_theta as a -> 0), started from

* ``noise``: fresh uniform noise every update, a short-run chain (Nijkamp, Hill, Zhu and Wu 2019, arXiv:1903.12370);
* ``data``: the data batch itself, contrastive divergence CD-k (Hinton 2002);
* ``buffer``: a replay buffer of earlier chains' ends, a fraction restarted from noise each draw
  (persistent chains; Du and Mordatch 2019, arXiv:1903.08689).

The energy's loss is E_data[E] - E_chains[E] + alpha E[E_data^2 + E_chains^2] (Du and Mordatch's
small penalty on the energies' size keeps them from drifting). ``train_with_functional`` trains
the same networks with the loss functionals of ``course_lib.functionals`` on a grid of answers.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from . import functionals, store
from .energy import midpoint_grid
from .models import device_of
from .sampling import ChainResult, ula

INITS = ("noise", "data", "buffer")


def _positive(name: str, v, hint: str = "") -> float:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number{hint}, got {v!r}")
    return float(v)


def _count(name: str, v, least: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {v!r}")
    return v


def _fraction(name: str, v) -> float:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and 0 <= v <= 1):
        raise ValueError(f"{name} must be a fraction in [0, 1], got {v!r}")
    return float(v)


# ---------------------------------------------------------------- chains
def langevin_chains(E, x0: torch.Tensor, step: float, n_steps: int, noise: float = 1.0,
                    generator: torch.Generator | None = None, keep_every: int = 0, clamp=None) -> ChainResult:
    """n_steps of x <- x - a grad E(x) + sigma sqrt(2 a) eps from x0 (B, ...); ``clamp`` = (lo, hi) keeps images in range.

    ``sampling.ula`` at temperature sigma^2, with at least one step: noise is drawn on the CPU from
    ``generator`` and moved to x0's device, so a run is the same on any device. The energy's
    parameters collect no gradient.
    """
    step = _positive("the Langevin step size a", step, " (e.g. 0.01)")
    n_steps = _count("the chain length (Langevin steps)", n_steps)
    return ula(E, x0, step, n_steps, generator=generator, keep_every=keep_every, noise=noise, clamp=clamp)


class Uniform:
    """Uniform noise on a box ((x0, x1), (y0, y1), ...) or on [lo, hi] for an image ``shape``: where chains start."""

    def __init__(self, bounds=None, shape=None, lo: float = 0.0, hi: float = 1.0):
        if (bounds is None) == (shape is None):
            raise ValueError("give either bounds ((x0, x1), (y0, y1), ...) or an image shape with lo, hi")
        if bounds is not None:
            b = torch.as_tensor(bounds, dtype=torch.float32)
            if b.ndim != 2 or b.shape[1] != 2 or not bool((b[:, 1] > b[:, 0]).all()):
                raise ValueError(f"bounds must be ((x0, x1), (y0, y1), ...) with x0 < x1, got {bounds!r}")
            self.lo, self.hi, self.shape = b[:, 0], b[:, 1], (len(b),)
        else:
            if not hi > lo:
                raise ValueError(f"need lo < hi, got {lo!r}, {hi!r}")
            self.lo, self.hi, self.shape = torch.tensor(float(lo)), torch.tensor(float(hi)), tuple(shape)

    def __call__(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.lo + (self.hi - self.lo) * torch.rand((n,) + self.shape, generator=generator)


class ReplayBuffer:
    """Persistent chains (Du and Mordatch 2019): ``size`` stored states; each draw restarts a share ``reinit`` from noise."""

    def __init__(self, init: Uniform, size: int = 10000, reinit: float = 0.05, generator: torch.Generator | None = None):
        self.init = init
        self.size = _count("the buffer size", size)
        self.reinit = _fraction("the buffer's reinitialisation fraction", reinit)
        self.x = init(self.size, generator)

    def draw(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x0, idx, fresh): n states from random slots, each replaced by noise with probability ``reinit``."""
        idx = torch.randint(self.size, (n,), generator=generator)
        fresh = torch.rand(n, generator=generator) < self.reinit
        x0 = self.x[idx].clone()
        x0[fresh] = self.init(int(fresh.sum()), generator)
        return x0, idx, fresh

    def update(self, idx: torch.Tensor, x: torch.Tensor) -> None:
        """Write the chains' ends back into the slots they came from."""
        self.x[idx] = x.detach().cpu().to(self.x.dtype)


# ---------------------------------------------------------------- training by maximum likelihood
@dataclass
class EBMConfig:
    steps: int = 1500            # parameter updates of the energy
    batch_size: int = 256        # data points and chains per update
    lr: float = 1e-3             # Adam's learning rate
    betas: tuple = (0.0, 0.999)  # Adam's betas (beta_1 = 0 as in Du and Mordatch)
    init: str = "buffer"         # where chains start: "noise" (short-run), "data" (CD-k) or "buffer" (persistent)
    chain_steps: int = 40        # Langevin steps per update (k)
    step_size: float = 0.01      # Langevin step a
    noise: float = 1.0           # noise scale sigma (1 = the model's temperature)
    buffer_size: int = 10000     # replay buffer slots
    reinit: float = 0.05         # share of chains restarted from noise per draw
    alpha: float = 0.1           # weight of the energies' squared size
    clamp: tuple | None = None   # (lo, hi) range that chains are kept in (images)
    seed: int = 0                # seeds the data batches, chain starts and the chains' noise
    max_energy: float = 1e4      # |energy| above this counts as divergence
    progress: bool = True
    desc: str = ""
    store: bool = True           # keep the run in the run store (course_lib.store)

    def __post_init__(self):
        _count("steps", self.steps)
        _count("batch_size", self.batch_size)
        _positive("lr", self.lr, " (e.g. 1e-3)")
        _count("chain_steps (the chain length)", self.chain_steps)
        _positive("step_size (the Langevin step a)", self.step_size, " (e.g. 0.01)")
        if isinstance(self.noise, bool) or not (isinstance(self.noise, (int, float)) and self.noise >= 0):
            raise ValueError(f"noise (sigma) must be a number >= 0, got {self.noise!r}")
        _count("buffer_size", self.buffer_size)
        _fraction("reinit (the buffer's restart fraction)", self.reinit)
        if isinstance(self.alpha, bool) or not (isinstance(self.alpha, (int, float)) and self.alpha >= 0):
            raise ValueError(f"alpha (the energy-size penalty) must be a number >= 0, got {self.alpha!r}")
        if self.init not in INITS:
            raise ValueError(f"unknown chain initialisation {self.init!r}; choose one of {list(INITS)}")
        if not (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        _count("seed", self.seed, 0)


class EBMDiverged(RuntimeError):
    """The energy became NaN/inf or its size passed ``max_energy``."""


@dataclass
class EBMRun:
    E: nn.Module
    history: dict                 # per update: loss, e_data, e_chain (mean energies), gap = e_chain - e_data
    seconds: float                # training time (as measured when it was trained)
    cfg: EBMConfig
    buffer: torch.Tensor | None = None   # the replay buffer's states at the end (init="buffer")
    how: str = "trained"          # "trained" or "loaded"

    @property
    def seconds_per_update(self) -> float:
        return self.seconds / self.cfg.steps

    def last(self, key: str, n: int = 50) -> float:
        v = self.history[key][-n:]
        return sum(v) / len(v)


def ml_loss(e_data: torch.Tensor, e_chain: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    """L = mean E(x_data) - mean E(x_chain) + alpha mean(E(x_data)^2 + E(x_chain)^2)."""
    return e_data.mean() - e_chain.mean() + alpha * (e_data.pow(2) + e_chain.pow(2)).mean()


def _fit(E, sample_data, init: Uniform, cfg: EBMConfig, callback=None) -> dict:
    dev = device_of(E)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(E.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    buf = ReplayBuffer(init, cfg.buffer_size, cfg.reinit, gen) if cfg.init == "buffer" else None
    hist = {k: [] for k in ("loss", "e_data", "e_chain", "gap")}
    start = time.perf_counter()
    for step in tqdm(range(1, cfg.steps + 1), disable=not cfg.progress, desc=cfg.desc or f"EBM ({cfg.init} chains)"):
        x_data = sample_data(cfg.batch_size, gen).to(dev)
        if cfg.init == "noise":
            x0 = init(cfg.batch_size, gen)
        elif cfg.init == "data":
            x0 = x_data
        else:
            x0, idx, _ = buf.draw(cfg.batch_size, gen)
        x_chain = langevin_chains(E, x0.to(dev), cfg.step_size, cfg.chain_steps, cfg.noise, gen, clamp=cfg.clamp).z
        if buf is not None:
            buf.update(idx, x_chain)
        e_data, e_chain = E(x_data), E(x_chain)
        loss = ml_loss(e_data, e_chain, cfg.alpha)
        size = torch.maximum(e_data.detach().abs().max(), e_chain.detach().abs().max())
        if not (torch.isfinite(loss) and size < cfg.max_energy):
            raise EBMDiverged(f"the energy diverged at update {step} (loss {float(loss.detach()):.3g}, largest |E| {float(size):.3g}): "
                              f"lower the learning rate (now {cfg.lr:g}) or the Langevin step (now {cfg.step_size:g}), "
                              f"or raise alpha (now {cfg.alpha:g})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ed, ec = e_data.detach().mean(), e_chain.detach().mean()
        for k, v in (("loss", loss.detach()), ("e_data", ed), ("e_chain", ec), ("gap", ec - ed)):
            hist[k].append(v.item())
        if callback is not None:
            callback(step, cfg.steps)
    return dict(E=store.to_cpu(dict(E.state_dict())), history=hist, seconds=time.perf_counter() - start,
                buffer=None if buf is None else buf.x.clone())


def train_ebm(E: nn.Module, sample_data, init: Uniform, cfg: EBMConfig = EBMConfig(), callback=None) -> EBMRun:
    """Maximum likelihood with Langevin negatives (``cfg.init`` picks short-run, CD or replay-buffer chains); kept in the run store.

    ``callback(step, total)`` is called after each update of a run that trains (a panel's progress bar)."""
    if not isinstance(init, Uniform):
        raise ValueError(f"init must be an ebm.Uniform (where chains start), got {type(init).__name__}")
    spec = dict(what="ebm", E=E, data=sample_data, init=init,
                cfg={k: v for k, v in asdict(cfg).items() if k not in ("progress", "desc", "store")})
    if cfg.store:
        payload, how, seconds = store.remember(spec, lambda: _fit(E, sample_data, init, cfg, callback))
    else:
        payload, how, seconds = _fit(E, sample_data, init, cfg, callback), "trained", 0.0
    if how == "loaded":
        E.load_state_dict(payload["E"])
        if cfg.progress:
            print(f"{cfg.desc or 'EBM'}: loaded from the run store in {seconds:.1f} s ({cfg.steps:,} updates not retrained)",
                  file=sys.stderr)
    E.eval()
    return EBMRun(E, payload["history"], payload["seconds"], cfg, payload["buffer"], how)


class ChainSampler:
    """Samples of a trained EBM: chains of ``steps`` Langevin steps from fresh noise, or continued from the buffer's states.

    ``sample(n, generator)`` has a generator's signature, so ``energy.evaluate_2d`` scores it like one.
    """

    def __init__(self, E: nn.Module, init: Uniform, steps: int, step_size: float, noise: float = 1.0,
                 buffer: torch.Tensor | None = None, clamp=None):
        self.E, self.init, self.buffer, self.clamp = E, init, buffer, clamp
        self.steps, self.step_size, self.noise = _count("steps", steps), step_size, noise

    def sample(self, n: int, generator: torch.Generator | None = None, keep_every: int = 0):
        # One draw from ``generator`` seeds the chains' own: a caller's later draws (evaluate_2d's held-out
        # data) are then the same whatever the chain length, so every sampler is scored on the same points.
        own = torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        if self.buffer is not None:
            x0 = self.buffer[torch.randint(len(self.buffer), (n,), generator=own)]
        else:
            x0 = self.init(n, own)
        res = langevin_chains(self.E, x0.to(device_of(self.E)), self.step_size, self.steps, self.noise, own,
                              keep_every=keep_every, clamp=self.clamp)
        return res if keep_every else res.z.detach().cpu()


def sampler(run: EBMRun, init: Uniform, steps: int | None = None, from_buffer: bool | None = None) -> ChainSampler:
    """The run's own sampler: its chain settings; from its buffer when it has one (unless ``from_buffer=False``)."""
    use = run.buffer is not None if from_buffer is None else from_buffer
    if use and run.buffer is None:
        raise ValueError("this run kept no replay buffer (it was trained with init='noise' or 'data')")
    return ChainSampler(run.E, init, steps or run.cfg.chain_steps, run.cfg.step_size, run.cfg.noise,
                        run.buffer if use else None, run.cfg.clamp)


# ---------------------------------------------------------------- the loss functionals on a grid of answers
@dataclass
class FunctionalConfig:
    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    grid: int = 48               # the answers: a grid x grid lattice of cell midpoints over the box
    radius: float = 0.5          # answers within this distance of some example of the batch count as correct
    candidates: int = 64         # random answers per example among which the hinge and log losses find the most offending
    margin: float = 1.0          # the hinge's m
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        _count("steps", self.steps)
        _count("batch_size", self.batch_size)
        _count("grid", self.grid, 3)
        _count("candidates", self.candidates)
        _positive("lr", self.lr)
        _positive("radius", self.radius)
        functionals._check_margin(self.margin)


def answer_grid(bounds, n: int) -> tuple[torch.Tensor, float]:
    """The n x n cell midpoints over ``bounds`` (n^2, 2) and log of the cell area."""
    _, _, pts, cell = midpoint_grid(bounds, n, torch.float32)
    return pts, math.log(cell)


def contrast(E: nn.Module, x_data: torch.Tensor, bounds, n: int = 4000, seed: int = 0) -> float:
    """Mean energy over the box minus mean energy at the data (nats): 0 for a flat, useless energy."""
    u = Uniform(bounds)(n, torch.Generator().manual_seed(seed)).to(device_of(E))
    with torch.no_grad():
        return float(E(u).mean() - E(x_data.to(device_of(E))).mean())


def train_with_functional(E: nn.Module, name: str, sample_data, bounds, cfg: FunctionalConfig = FunctionalConfig()) -> dict:
    """Train E with the loss functional ``name`` where the answers are a grid over ``bounds``; history of loss and contrast."""
    if name not in functionals.NAMES:
        raise ValueError(f"unknown loss functional {name!r}; choose one of {list(functionals.NAMES)}")
    dev = device_of(E)
    gen = torch.Generator().manual_seed(cfg.seed)
    answers, log_dA = answer_grid(bounds, cfg.grid)
    answers = answers.to(dev)
    opt = torch.optim.Adam(E.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    check = sample_data(1000, torch.Generator().manual_seed(cfg.seed + 1)).to(dev)
    hist = {"loss": [], "contrast": [], "e_data": []}
    for step in tqdm(range(cfg.steps), disable=not cfg.progress, desc=f"{name} loss"):
        x = sample_data(cfg.batch_size, gen).to(dev)
        e_pos, e_ans = E(x), E(answers)
        e_all = e_ans.expand(len(x), -1)
        e_neg = None
        if name in ("hinge", "log"):
            # each example gets ``candidates`` random answers of the grid; an answer is incorrect when no example
            # of the batch lies within ``radius`` of it (it is off the data); the lowest incorrect one offends most
            pick = torch.randint(len(answers), (len(x), cfg.candidates), generator=gen).to(dev)
            off = torch.cdist(answers, x).min(dim=1).values > cfg.radius
            e_neg = functionals.most_offending(e_ans[pick], off[pick])
        loss = functionals.loss(name, e_pos, e_all, e_neg, margin=cfg.margin, log_volume=log_dA).mean()
        if not torch.isfinite(loss):
            raise EBMDiverged(f"the {name} loss became {float(loss)} at step {step}: lower the learning rate (now {cfg.lr:g})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hist["loss"].append(loss.detach().item())
        hist["e_data"].append(e_pos.detach().mean().item())
        if step % 50 == 0 or step == cfg.steps - 1:
            hist["contrast"].append(contrast(E, check, bounds))
    E.eval()
    return hist

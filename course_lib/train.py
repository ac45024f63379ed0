"""The one training loop: alternating (``n_critic`` discriminator steps per generator step) or
simultaneous updates, with the method plugged in as an ``Objective`` (``course_lib.losses``).

It keeps a loss history, snapshots of both networks at chosen iterations, stops with a clear
error when a loss turns NaN/inf or explodes (restoring the last good snapshot), shows tqdm
progress, and saves checkpoints atomically.
"""
from __future__ import annotations

import copy
import hashlib
import math
import os
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm


OPTIMIZERS = {
    "adam": lambda params, cfg, lr: torch.optim.Adam(params, lr=lr, betas=cfg.betas),
    "sgd": lambda params, cfg, lr: torch.optim.SGD(params, lr=lr),
}


@dataclass
class TrainConfig:
    steps: int = 2000             # generator updates
    batch_size: int = 256         # samples per minibatch (real and fake alike)
    n_critic: int = 1             # discriminator updates per generator update (alternating mode)
    lr_d: float = 1e-3            # discriminator learning rate (Adam)
    lr_g: float = 1e-3            # generator learning rate (Adam)
    betas: tuple = (0.5, 0.999)   # Adam's betas, as in DCGAN
    optimizer: str = "adam"       # "adam" or "sgd" (plain gradient steps show saturation undisguised)
    simultaneous: bool = False    # True: one minibatch, both gradients, then both steps
    snapshot_at: tuple = ()       # generator steps after which to keep copies of G and D (0 and the last always)
    seed: int = 0                 # seeds z, the minibatches and nothing else
    max_loss: float = 1e6         # |loss| above this counts as divergence
    progress: bool = True         # tqdm progress bar

    def __post_init__(self):
        for name in ("steps", "batch_size", "n_critic"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        for name in ("lr_d", "lr_g", "max_loss"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0 and math.isfinite(v)):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
        if self.simultaneous and self.n_critic != 1:
            raise ValueError("simultaneous updates use one minibatch for both players: set n_critic=1")
        bad = [s for s in self.snapshot_at if not isinstance(s, int) or not 0 <= s <= self.steps]
        if bad:
            raise ValueError(f"snapshot_at must hold steps in [0, {self.steps}], got {bad}")


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
    """Per generator step: every logged number; plus the snapshots."""

    log: dict = field(default_factory=lambda: defaultdict(list))
    snapshots: list = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.log[key]

    def last(self, key: str, n: int = 1) -> float:
        """Mean of the last ``n`` logged values of ``key``."""
        vals = self.log[key][-n:]
        return sum(vals) / len(vals)


class TrainingDiverged(RuntimeError):
    """A loss became NaN/inf or exceeded ``max_loss``; ``history`` holds everything up to then."""

    def __init__(self, message: str, history: History, step: int):
        super().__init__(message)
        self.history, self.step = history, step


def _state(module: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _check(loss: torch.Tensor, what: str, step: int, cfg: TrainConfig, history: History, G, D):
    value = float(loss.detach())
    if math.isfinite(value) and abs(value) <= cfg.max_loss:
        return
    last = history.snapshots[-1]
    last.load_into(G, D)
    raise TrainingDiverged(
        f"training diverged at generator step {step}: {what} = {value} "
        f"(limit |loss| <= {cfg.max_loss:g}). G and D were restored to the last good snapshot "
        f"(step {last.step}, in history.snapshots[-1]). Lower the learning rates "
        f"(lr_d={cfg.lr_d:g}, lr_g={cfg.lr_g:g}), or use a loss that does not blow up.",
        history, step,
    )


def train(
    G: nn.Module,
    D: nn.Module,
    sample_real: Callable[[int, torch.Generator], torch.Tensor],
    objective,
    cfg: TrainConfig = TrainConfig(),
    callback: Callable | None = None,
) -> History:
    """Train G against D with ``objective``; ``sample_real(n, generator)`` gives real minibatches.

    Alternating mode: ``n_critic`` discriminator steps, then one generator step on fresh z.
    Simultaneous mode: one minibatch; both gradients from it; then both steps.
    ``callback(step, G, D, history)`` runs after every generator step.
    """
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(cfg.seed)
    extra = [p for m in objective.modules() for p in m.parameters()]
    opt_d = OPTIMIZERS[cfg.optimizer](D.parameters(), cfg, cfg.lr_d)
    opt_g = OPTIMIZERS[cfg.optimizer](list(G.parameters()) + extra, cfg, cfg.lr_g)
    history = History(config=asdict(cfg))
    history.snapshots.append(Snapshot(0, _state(G), _state(D), objective.state()))
    keep = set(cfg.snapshot_at) | {cfg.steps}

    def real_batch():
        return sample_real(cfg.batch_size, gen).to(device)

    G.train(), D.train()
    for step in tqdm(range(1, cfg.steps + 1), disable=not cfg.progress, desc=getattr(objective, "name", "train")):
        if cfg.simultaneous:
            z = G.sample_z(cfg.batch_size, gen)
            x_fake = G(z)
            d_loss, d_parts = objective.d_loss(D, real_batch(), x_fake.detach())
            _check(d_loss, "discriminator loss", step, cfg, history, G, D)
            g_loss, g_parts = objective.g_loss(D, x_fake, z)
            _check(g_loss, "generator loss", step, cfg, history, G, D)
            opt_d.zero_grad(set_to_none=True), opt_g.zero_grad(set_to_none=True)
            d_grads = torch.autograd.grad(d_loss, list(D.parameters()), retain_graph=True, allow_unused=True)
            g_params = list(G.parameters()) + extra
            g_grads = torch.autograd.grad(g_loss, g_params, allow_unused=True)
            for p, g in zip(D.parameters(), d_grads):
                p.grad = g
            for p, g in zip(g_params, g_grads):
                p.grad = g
            opt_d.step(), opt_g.step()
        else:
            for _ in range(cfg.n_critic):
                with torch.no_grad():
                    x_fake = G(G.sample_z(cfg.batch_size, gen))
                d_loss, d_parts = objective.d_loss(D, real_batch(), x_fake)
                _check(d_loss, "discriminator loss", step, cfg, history, G, D)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
            z = G.sample_z(cfg.batch_size, gen)
            g_loss, g_parts = objective.g_loss(D, G(z), z)
            _check(g_loss, "generator loss", step, cfg, history, G, D)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
        parts = {**d_parts, **g_parts}
        parts.update(objective.update(parts))
        for k, v in parts.items():
            history.log[k].append(v)
        if step in keep:
            history.snapshots.append(Snapshot(step, _state(G), _state(D), objective.state()))
        if callback is not None:
            callback(step, G, D, history)
    G.eval(), D.eval()
    return history


# ---------------------------------------------------------------- checkpoints
def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(path: str, **tensors_and_numbers) -> str:
    """Write ``{name: state_dict | tensor | number}`` atomically (temp file, then rename) with a .sha256 beside it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(tensors_and_numbers, tmp)
        digest = _sha256(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    with open(path + ".sha256.tmp", "w") as f:
        f.write(digest + "\n")
    os.replace(path + ".sha256.tmp", path + ".sha256")
    return digest


def load_checkpoint(path: str, map_location="cpu") -> dict:
    """Load a checkpoint written by ``save_checkpoint`` (``weights_only=True``), checking its sha256."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}; train first (the notebook does so when it is missing)")
    want = path + ".sha256"
    if os.path.exists(want):
        expected = open(want).read().strip()
        if _sha256(path) != expected:
            raise ValueError(f"checkpoint {path!r} does not match its sha256; delete it and train again")
    return torch.load(path, map_location=map_location, weights_only=True)

"""Running and comparing the energy-based GANs of chapters 5-7 with the one trainer.

* ``make_toy_method`` / ``make_image_method``: the generator, discriminator and ``Objective`` of
  each method (GAN, EBGAN, EBGAN-PT, MAGAN, LS-GAN, BEGAN), built the same way everywhere;
* ``run_toy`` and ``compare``: train every method on 8-Gaussians and 25-Gaussians over several
  seeds and measure modes covered and the high-quality fraction (``metrics.mode_stats``);
  ``summarize`` and ``format_table`` turn the runs into the comparison table (mean and spread);
* small probes used by the notebooks: ``fit_discriminator`` (discriminator steps against fixed
  batches), ``energy_grid`` (an energy surface as numbers), ``latent_interpolation``; which
  digits a generator draws is judged by a classifier (``evaluation.judge_digits``).

Methods: GAN (Goodfellow et al. 2014, arXiv:1406.2661), EBGAN and EBGAN-PT (Zhao, Mathieu, LeCun
2016, arXiv:1609.03126), MAGAN (Wang et al. 2017, arXiv:1704.03817), Loss-Sensitive GAN (Qi 2017,
arXiv:1701.06264), BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717).
"""
from __future__ import annotations

import contextlib
import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace

import torch

from . import losses, metrics, models, toys
from .runtime import seed_everything
from .train import TrainConfig, train

METHODS = ("gan", "ebgan", "ebgan_pt", "magan", "lsgan", "began")
LABELS = {"gan": "GAN", "ebgan": "EBGAN", "ebgan_pt": "EBGAN-PT", "magan": "MAGAN", "lsgan": "LS-GAN", "began": "BEGAN"}


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    return method


@dataclass
class MethodConfig:
    """Sizes and hyper-parameters shared by every method (toy defaults; the notebooks override them)."""

    steps: int = 2000             # generator updates
    batch_size: int = 256         # real and generated samples per minibatch
    z_dim: int = 2                # latent size
    hidden: int = 128             # units per hidden layer (toys)
    depth: int = 2                # hidden layers (toys)
    code_dim: int = 8             # autoencoder code size
    width: int = 32               # channels of the conv networks (images)
    lr_d: float = 1e-3            # discriminator learning rate (Adam)
    lr_g: float = 1e-3            # generator learning rate (Adam)
    margin: float = 1.0           # EBGAN's m
    pt_weight: float = 0.1        # EBGAN-PT's weight of the pulling-away term (the paper's 0.1)
    magan_warmup: int = 200       # MAGAN's pre-training steps (D reconstructs real data only)
    magan_epoch: int = 100        # MAGAN's epoch length for the margin rule, in generator steps
    ls_lambda: float = 1.0        # LS-GAN's lambda
    lipschitz_weight: float = 0.1  # LS-GAN's gradient-norm penalty weight
    delta_scale: float = 1.0      # LS-GAN's Delta = delta_scale * mean |x - G(z)|
    gamma: float = 0.5            # BEGAN's diversity ratio
    lambda_k: float = 0.01        # BEGAN's learning rate for k_t
    n_eval: int = 2500            # generated samples for the mode statistics
    sigmoid_output: bool = True   # conv autoencoder ends with a sigmoid (BEGAN's is always linear)


def make_objective(method: str, cfg: MethodConfig) -> losses.Objective:
    """The ``Objective`` of ``method`` with the hyper-parameters of ``cfg``."""
    _check_method(method)
    if method == "gan":
        return losses.GANObjective("non_saturating")
    if method in ("ebgan", "ebgan_pt"):
        return losses.EBGANObjective(cfg.margin, cfg.pt_weight if method == "ebgan_pt" else 0.0)
    if method == "magan":
        return losses.MAGANObjective(cfg.magan_warmup, cfg.magan_epoch)
    if method == "lsgan":
        return losses.LossSensitiveObjective(cfg.ls_lambda, cfg.lipschitz_weight, cfg.delta_scale)
    return losses.BEGANObjective(cfg.gamma, cfg.lambda_k)


def make_toy_method(method: str, cfg: MethodConfig = MethodConfig(), x_dim: int = 2):
    """(G, D, objective) for points in R^x_dim: MLP generator; logit D for GAN, an MLP autoencoder's energy otherwise.

    LS-GAN's loss function is an autoencoder's error too: it must be bounded below, or E[L(x)] falls
    without end and the generator chases the ever lower values off the data (measured: a plain MLP
    output drifted to -2e5 in 2,000 steps).
    """
    _check_method(method)
    G = models.Generator(cfg.z_dim, x_dim, cfg.hidden, cfg.depth)
    if method == "gan":
        D = models.Discriminator(x_dim, cfg.hidden, cfg.depth)
    else:
        D = models.AutoencoderDiscriminator(x_dim, cfg.hidden, cfg.code_dim, cfg.depth, norm="l1" if method == "began" else "l2")
    return G, D, make_objective(method, cfg)


def make_image_method(method: str, cfg: MethodConfig, image_size: int = 28):
    """(G, D, objective) for (1, S, S) images: DCGAN-style conv generator, conv autoencoder (or conv critic) discriminator."""
    _check_method(method)
    if method == "gan":
        raise ValueError("the image chapters train the energy-based methods only; use 'ebgan', 'ebgan_pt', 'magan', 'lsgan' or 'began'")
    G = models.ConvGenerator(cfg.z_dim, image_size, 1, cfg.width)
    norm = "l1" if method == "began" else "l2"
    D = models.ConvAutoencoderDiscriminator(image_size, 1, cfg.width, cfg.code_dim, norm=norm,
                                            sigmoid_output=cfg.sigmoid_output and method != "began")
    return G, D, make_objective(method, cfg)


@contextlib.contextmanager
def _threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_toy(method: str, target: str, seed: int = 0, cfg: MethodConfig = MethodConfig(), device: str = "cpu",
            return_models: bool = False) -> dict:
    """Train ``method`` on the toy ``target`` from ``seed`` (one CPU thread) and measure its mode statistics."""
    _check_method(method)
    tgt = toys.make_target(target)
    if tgt.centers is None:
        raise ValueError(f"target {target!r} has no modes to count; use 'ring8' or 'grid25'")
    start = time.perf_counter()
    with _threads(1):
        seed_everything(seed)
        G, D, objective = make_toy_method(method, cfg, tgt.dim)
        G, D = G.to(device), D.to(device)
        tcfg = TrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr_d=cfg.lr_d, lr_g=cfg.lr_g, seed=seed, progress=False)
        history = train(G, D, tgt.sample, objective, tcfg)
        x = G.sample(cfg.n_eval, torch.Generator().manual_seed(10_000 + seed))
    stats = metrics.mode_stats(x, tgt.centers, tgt.std)
    row = dict(method=method, target=target, seed=seed, modes=stats.modes_covered, n_modes=stats.n_modes,
               hq=stats.high_quality_fraction, seconds=time.perf_counter() - start, cfg=asdict(cfg))
    if return_models:
        row.update(G=G, D=D, objective=objective, history=history, samples=x)
    return row


def _run_toy_job(args):
    method, target, seed, cfg = args
    torch.set_num_threads(1)
    return run_toy(method, target, seed, MethodConfig(**cfg))


def compare(methods=METHODS, targets=("ring8", "grid25"), seeds=(0, 1, 2), cfg: MethodConfig = MethodConfig(),
            processes: int = 1, per_target: dict | None = None) -> list:
    """Train every (method, target, seed) and return one row per run (modes covered, high-quality fraction, seconds).

    ``per_target`` maps a target to ``MethodConfig`` fields that replace ``cfg``'s for every method on
    that target (e.g. ``{"ring8": {"lr_d": 2e-4, "lr_g": 2e-4}}``). ``processes > 1`` runs the jobs in
    that many worker processes (each on one thread); the numbers are the same as with ``processes=1``
    because every run is seeded and single-threaded.
    """
    for m in methods:
        _check_method(m)
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, got {processes!r}")
    per_target = per_target or {}
    unknown = sorted(set(per_target) - set(targets))
    if unknown:
        raise ValueError(f"per_target names targets that are not compared: {unknown}; targets: {list(targets)}")
    cfgs = {t: asdict(with_overrides(cfg, **per_target.get(t, {}))) for t in targets}
    jobs = [(m, t, s, cfgs[t]) for t in targets for m in methods for s in seeds]
    if processes == 1:
        return [_run_toy_job(j) for j in jobs]
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(_run_toy_job, jobs))


def _mean_std(values):
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def summarize(rows: list) -> list:
    """One row per (target, method): mean and sample standard deviation over seeds of modes covered and high-quality fraction."""
    groups = {}
    for r in rows:
        groups.setdefault((r["target"], r["method"]), []).append(r)
    out = []
    for (target, method), rs in groups.items():
        m_mean, m_std = _mean_std([r["modes"] for r in rs])
        q_mean, q_std = _mean_std([r["hq"] for r in rs])
        out.append(dict(target=target, method=method, n_seeds=len(rs), n_modes=rs[0]["n_modes"],
                        modes_mean=m_mean, modes_std=m_std, hq_mean=q_mean, hq_std=q_std,
                        seconds=sum(r["seconds"] for r in rs)))
    return out


def format_table(summary: list) -> str:
    """The comparison as a Markdown table: modes covered and high-quality samples (%), mean +- std over seeds."""
    lines = ["| target | method | modes covered | high-quality samples (%) | seeds |", "|---|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['target']} | {LABELS.get(s['method'], s['method'])} | "
                     f"{s['modes_mean']:.1f} ± {s['modes_std']:.1f} / {s['n_modes']} | "
                     f"{100 * s['hq_mean']:.1f} ± {100 * s['hq_std']:.1f} | {s['n_seeds']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- probes used by the notebooks
def fit_discriminator(D, objective: losses.Objective, x_real, x_fake, steps: int = 50, lr: float = 1e-3,
                      batch_size: int = 256, seed: int = 0) -> dict:
    """Take ``steps`` Adam steps on D alone; returns the logged parts before each step and after the last (lists of steps + 1).

    ``x_real`` and ``x_fake`` are fixed batches (tensors) or samplers ``f(n, generator)`` drawn afresh
    (``batch_size`` each) at every step.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    dev = models.device_of(D)
    draw = lambda x: (x(batch_size, gen) if callable(x) else x).to(dev)  # noqa: E731
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    log = {}
    for i in range(steps + 1):
        loss, parts = objective.d_loss(D, draw(x_real), draw(x_fake))
        for k, v in parts.items():
            log.setdefault(k, []).append(v)
        if i < steps:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return log


@torch.no_grad()
def energy_grid(D, target: toys.Target, n: int = 100):
    """D over an n x n grid of ``target.bounds``: returns xs (n,), ys (n,), energies (n, n) (row-major in y)."""
    xs, ys, pts = toys.grid_2d(target.bounds, n)
    dev = models.device_of(D)
    e = torch.cat([D(pts[i:i + 8192].to(dev)).cpu() for i in range(0, len(pts), 8192)])
    return xs, ys, e.reshape(n, n)


@torch.no_grad()
def latent_interpolation(G, z0: torch.Tensor, z1: torch.Tensor, n: int = 8) -> torch.Tensor:
    """G((1 - t) z0 + t z1) for t = 0, 1/(n-1), ..., 1: (n, ...) samples on the CPU (G in eval mode)."""
    if n < 2:
        raise ValueError(f"n must be at least 2 (both end points), got {n!r}")
    t = torch.linspace(0, 1, n, device=z0.device)[:, None]
    was = G.training
    G.eval()
    x = G((1 - t) * z0.reshape(1, -1) + t * z1.reshape(1, -1)).cpu()
    G.train(was)
    return x


def with_overrides(cfg: MethodConfig, **kw) -> MethodConfig:
    """A copy of ``cfg`` with some fields replaced (unknown names raise ValueError)."""
    bad = sorted(set(kw) - set(asdict(cfg)))
    if bad:
        raise ValueError(f"unknown MethodConfig fields {bad}; allowed: {sorted(asdict(cfg))}")
    return replace(cfg, **kw)


def gradient_norms(D, points: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    """||grad_x D(x)|| at each point (B,), by autograd; its maximum over a grid estimates D's Lipschitz constant there."""
    dev = models.device_of(D)
    out = []
    for i in range(0, len(points), batch):
        x = points[i:i + batch].to(dev).requires_grad_(True)
        (g,) = torch.autograd.grad(D(x).sum(), x)
        out.append(g.reshape(len(x), -1).norm(dim=1).detach().cpu())
    return torch.cat(out)

"""Running and comparing the energy-based GANs of chapters 07-09 with the one trainer.

* ``make_toy_method`` / ``make_image_method``: the generator, discriminator and ``Objective`` of
  each method (GAN, EBGAN, EBGAN-PT, MAGAN, LS-GAN, BEGAN), built the same way everywhere;
* ``run_toy`` and ``compare``: train every method on 8-Gaussians and 25-Gaussians over several
  seeds and measure modes covered and the high-quality fraction (``metrics.mode_stats``);
  ``make_toy_ensemble`` and ``run_toy_ensemble`` train many seeds, settings and targets of one
  method at once (``course_lib.ensemble``), member i exactly as ``run_toy`` would train it alone;
  ``summarize`` and ``format_table`` turn the runs into the comparison table (mean and spread);
* small probes used by the notebooks: ``fit_discriminator`` (discriminator steps against fixed
  batches), ``energy_grid`` (an energy surface as numbers), ``latent_interpolation``; which
  digits a generator draws is judged by a classifier (``evaluation.judge_digits``).

Methods: GAN (Goodfellow et al. 2014, arXiv:1406.2661), EBGAN and EBGAN-PT (Zhao, Mathieu, LeCun
2017, arXiv:1609.03126), MAGAN (Wang et al. 2017, arXiv:1704.03817), Loss-Sensitive GAN (Qi 2017,
arXiv:1701.06264), BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717).
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass, replace

import torch

from . import ensemble, losses, methods, metrics, models, toys
from .runtime import PROFILES, num_threads, profile, seed_everything
from .train import MAX_LR as MAX_LEARNING_RATE, TrainConfig, check_learning_rate, train  # noqa: F401 - one rule for learning rates

# the course's methods, from the registry (course_lib.methods), where each is declared once
METHODS = methods.names("gan", "energy")   # the energy-based GANs and the GAN they are measured against
GAN_VARIANTS = methods.names("variant")    # chapter 05: WGAN, WGAN-GP, unrolled GAN, minibatch discrimination
TOY_METHODS = methods.names()              # ... with the maximum-entropy EBM of chapter 10 (toys only)
LABELS = methods.Labels()                  # name -> label, for every registered method (also those registered later)


def _check_method(method: str, allowed=None) -> str:
    """``method`` if it is registered (and among ``allowed``, when given); else a ValueError listing the choices."""
    methods.get(method)
    if allowed is not None and method not in allowed:
        raise ValueError(f"unknown method {method!r} here; choose one of {tuple(allowed)}")
    return method


def _is_number(value) -> bool:
    """True for a real number (an int, a float, a numpy scalar), False for bools, strings, tensors, None."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(name: str, value, low: int = 1) -> None:
    """An integer (not a bool) of at least ``low``, else a ValueError naming the field."""
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)) or value < low:
        raise ValueError(f"MethodConfig.{name} must be an integer >= {low}, got {value!r}; set {name} to a whole number "
                         f"of at least {low}")


def _check_range(name: str, value, low: float, high: float = math.inf, low_open: bool = False,
                 high_open: bool = False, what: str = "") -> None:
    """A finite number in the interval from ``low`` to ``high`` (each end open or closed), else a ValueError naming the field."""
    ok = _is_number(value) and math.isfinite(value) and (value > low if low_open else value >= low) and \
        (value < high if high_open else value <= high)
    if not ok:
        interval = (f"> {low:g}" if low_open else f">= {low:g}") if high == math.inf else \
            f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        where = f"in {interval}" if high != math.inf else interval
        raise ValueError(f"MethodConfig.{name}{what} must be a finite number {where}, got {value!r}; change {name} to a "
                         f"value {where}")


# the checks of MethodConfig's fields: name -> check(label, value); HYPER_FIELDS' checks run on each member's value
_INT_FIELDS = {"steps": 1, "batch_size": 1, "z_dim": 1, "hidden": 1, "d_hidden": 0, "depth": 1, "code_dim": 1, "width": 1,
               "magan_warmup": 0, "magan_epoch": 1, "unroll_steps": 0, "mbd_kernels": 1, "pack": 1, "n_critic": 1, "n_eval": 1}
_WEIGHTS = ("denoise", "pt_weight", "ls_lambda", "lipschitz_weight", "delta_scale", "maxent_lam", "mi_weight", "gp_lambda", "lambda_k",
            "consensus")
_FIELD_CHECKS = {
    **{n: (lambda low: lambda label, v: _check_int(label, v, low))(low) for n, low in _INT_FIELDS.items()},
    **{n: lambda label, v: _check_range(label, v, 0.0) for n in _WEIGHTS},
    **{n: lambda label, v: check_learning_rate(f"MethodConfig.{label}", v) for n in ("lr_d", "lr_g", "unroll_lr")},
    "beta1": lambda label, v: _check_range(label, v, 0.0, 1.0, high_open=True, what=" (Adam's beta_1)"),
    "margin": lambda label, v: _check_range(label, v, 0.0, what=" (EBGAN's margin m)"),
    "gamma": lambda label, v: _check_range(label, v, 0.0, 1.0, low_open=True, what=" (BEGAN's diversity ratio)"),
    "clip": lambda label, v: _check_range(label, v, 0.0, low_open=True, what=" (WGAN's weight clip)"),
}


@dataclass
class MethodConfig:
    """Sizes and hyper-parameters shared by every method (toy defaults; the notebooks override them)."""

    steps: int = 2000             # generator updates
    batch_size: int = 256         # real and generated samples per minibatch
    z_dim: int = 2                # latent size
    hidden: int = 128             # units per hidden layer (toys)
    d_hidden: int = 0             # the discriminator's (or energy's) units per hidden layer; 0: the same as the generator's
                                  # (a smaller D is the "weak discriminator" that makes GANs collapse on StackedMNIST)
    depth: int = 2                # hidden layers (toys)
    code_dim: int = 1             # autoencoder code size: 1 = a bottleneck for 2-D points, which cannot copy its input
                                  # (chapter 07, section 1b; image runs set their own)
    denoise: float = 0.0          # MLP autoencoders: std of the noise on their input while they train (> 0: a denoising
                                  # autoencoder, the other design that stops the copy)
    width: int = 32               # channels of the conv networks (images)
    lr_d: float = 1e-3            # discriminator learning rate (Adam)
    lr_g: float = 1e-3            # generator learning rate (Adam)
    beta1: float = 0.5            # Adam's beta_1 for both players (beta_2 = 0.999); 0.5 as in DCGAN
    margin: float = 1.0           # EBGAN's m
    pt_weight: float = 0.1        # EBGAN-PT's weight of the pulling-away term (the paper's 0.1)
    magan_warmup: int = 200       # MAGAN's pre-training steps (D reconstructs real data only)
    magan_epoch: int = 100        # MAGAN's epoch length for the margin rule, in generator steps
    ls_lambda: float = 1.0        # LS-GAN's lambda
    lipschitz_weight: float = 0.1  # LS-GAN's gradient-norm penalty weight
    delta_scale: float = 1.0      # LS-GAN's Delta = delta_scale * mean |x - G(z)|
    gamma: float = 0.5            # BEGAN's diversity ratio
    lambda_k: float = 0.01        # BEGAN's learning rate for k_t
    maxent_lam: float = 0.1       # MaxEnt EBM: weight of the energy's gradient penalty
    mi_weight: float = 1.0        # MaxEnt EBM: weight of the generator's entropy (mutual-information) term
    generator_loss: str = "non_saturating"  # GAN: "minimax", "non_saturating" or "maximum_likelihood"
    clip: float = 0.01            # WGAN: the critic's weights are clipped to [-clip, clip]
    gp_lambda: float = 10.0       # WGAN-GP: weight of the gradient penalty
    unroll_steps: int = 5         # unrolled GAN: discriminator steps the generator looks ahead through
    unroll_lr: float = 0.1        # unrolled GAN: step size of those look-ahead steps
    mbd_kernels: int = 8          # minibatch discrimination: kernels (features of closeness to the rest of the batch)
    pack: int = 2                 # PacGAN: samples D judges at once (the batch size must be a multiple of it)
    n_critic: int = 1             # discriminator updates per generator update
    simultaneous: bool = False    # both players step from the same point (else alternating: D first)
    consensus: float = 0.0        # consensus optimization's gamma (simultaneous updates only)
    n_eval: int = 2500            # generated samples for the mode statistics
    sigmoid_output: bool = True   # conv autoencoder ends with a sigmoid (BEGAN's is always linear)

    def __post_init__(self):
        """Check every field now, not when training starts: a ValueError names the field, its value and what to set.

        Fields in ``HYPER_FIELDS`` may hold one value per ensemble member (a list or tuple, as
        ``_per_member`` builds); each member's value is checked.
        """
        for name, check in _FIELD_CHECKS.items():
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                if name not in HYPER_FIELDS:
                    raise ValueError(f"MethodConfig.{name} takes one value, got {value!r}; only {HYPER_FIELDS} may hold "
                                     f"one value per ensemble member (give a list of MethodConfigs to vary {name})")
                if not value:
                    raise ValueError(f"MethodConfig.{name}: an empty list; give one value, or one per ensemble member")
                for i, v in enumerate(value):
                    check(f"{name}[{i}]", v)
            else:
                check(name, value)
        if not isinstance(self.generator_loss, str) or self.generator_loss not in losses.GENERATOR_LOSSES:
            raise ValueError(f"MethodConfig.generator_loss={self.generator_loss!r} is not a generator loss; "
                             f"set generator_loss to one of {sorted(losses.GENERATOR_LOSSES)}")
        for name in ("simultaneous", "sigmoid_output"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"MethodConfig.{name} must be True or False, got {getattr(self, name)!r}")


# settings that may differ between the members of one ensemble of some method (each method's own: methods.get(m).varying())
HYPER_FIELDS = tuple(dict.fromkeys(methods.PER_MEMBER_SHARED + tuple(f for m in methods.REGISTRY.values() for f in m.per_member)))


def make_objective(method: str, cfg: MethodConfig, T=None, seed=0) -> losses.Objective:
    """The ``Objective`` of ``method`` with the hyper-parameters of ``cfg`` (numbers, or one per member for ensembles).

    ``seed`` is the run's seed (one per member for ensembles): the MaxEnt EBM seeds its shuffles with it,
    WGAN-GP its interpolation weights. A method with a statistics network (the MaxEnt EBM) needs it as ``T``.
    """
    m = methods.get(method)
    if m.statistics is not None and T is None:
        raise ValueError(f"the {m.label}'s objective needs its statistics network T (make_toy_method builds one)")
    return m.objective(cfg, seed, T)


def make_toy_method(method: str, cfg: MethodConfig = MethodConfig(), x_dim: int = 2, seed: int = 0):
    """(G, D, objective) for points in R^x_dim: the MLP generator, and the method's own D (``methods``) and objective.

    ``seed`` is the run's seed, for objectives that draw random numbers of their own (``make_objective``).
    """
    m = methods.get(method)
    G = models.Generator(cfg.z_dim, x_dim, cfg.hidden, cfg.depth)
    d_cfg = replace(cfg, hidden=cfg.d_hidden) if cfg.d_hidden else cfg  # the discriminator's width (and T's)
    D = m.toy_D(d_cfg, x_dim)
    T = m.statistics(d_cfg, x_dim) if m.statistics is not None else None
    return G, D, make_objective(method, cfg, T, seed)


def make_image_method(method: str, cfg: MethodConfig, image_size: int = 28, seed: int = 0):
    """(G, D, objective) for (1, S, S) images: DCGAN-style conv generator, the method's conv discriminator (``methods``)."""
    m = methods.get(method)
    if m.image_D is None:
        raise ValueError(f"the image chapters train the energy-based GANs only; use one of "
                         f"{tuple(n for n, x in methods.REGISTRY.items() if x.image_D is not None)}")
    G = models.ConvGenerator(cfg.z_dim, image_size, 1, cfg.width)
    return G, m.image_D(cfg, image_size), make_objective(method, cfg, seed=seed)


class JudgedImages:
    """An image set as points in R^(C*H*W) for the MLP methods, scored by a classifier judge.

    EBGAN's grid search on MNIST (Zhao et al. 2016, section 5.1) used fully connected networks;
    this target lets the toy machinery (``run_toy_ensemble``, ``course_lib.sweep``) train them on
    flattened images. ``score`` reads the judge (``evaluation.DigitJudge``) as the mode statistics
    read a toy: "modes" are the classes among the recognisable samples, "hq" the recognisable share.
    The generator's outputs are clipped to the data's range [0, 1] before judging.
    """

    n_modes = 10

    def __init__(self, images: torch.Tensor, judge, name: str = "mnist"):
        if images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        self.name, self.shape = name, tuple(images.shape[1:])
        self.data = FlatImages(images.flatten(1).contiguous())  # the run store keys this, not the judge
        self.dim = self.data.points.shape[1]
        self.judge = judge

    @property
    def sample(self):
        """``sample(n, generator)``: n flattened images drawn uniformly with replacement, (n, C*H*W)."""
        return self.data.sample

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened samples back to images in [0, 1]: (n, C, H, W)."""
        return x.reshape(-1, *self.shape).clamp(0, 1)

    def score(self, x: torch.Tensor) -> dict:
        rep = self.judge(self.images(x))
        return dict(modes=rep["classes"], n_modes=self.n_modes, hq=rep["recognisable"], entropy_bits=rep["entropy_bits"])


class StackedImages(JudgedImages):
    """StackedMNIST (``data.StackedDigits``) as points in R^(3*28*28) for the MLP methods, scored as the papers score it.

    ``score`` reads every channel with the judge (``evaluation.stacked_modes``): "modes" are the modes covered of
    1,000 (every sample counts, as in VEEGAN and PacGAN), "kl" is KL(mode histogram || uniform) in nats and "hq" the
    share of samples whose every channel the judge recognises as a digit. Drawing and clipping as ``JudgedImages``.
    """

    def __init__(self, stacked, judge, name: str = "stacked_mnist"):
        self.name, self.shape, self.n_modes = name, (stacked.channels, 28, 28), stacked.n_modes
        self.data = FlatStacked(stacked)  # the run store keys this, not the judge
        self.dim = stacked.channels * 28 * 28
        self.judge = judge

    def score(self, x: torch.Tensor) -> dict:
        from .evaluation import stacked_modes
        rep = stacked_modes(self.judge, self.images(x))
        return dict(modes=rep["covered"], n_modes=self.n_modes, kl=rep["kl_uniform"],
                    hq=float(rep["recognisable"].double().mean()))


class FlatStacked:
    """``data.StackedDigits`` drawn flat: (n, C*28*28)."""

    def __init__(self, stacked):
        self.stacked = stacked

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.stacked.sample(n, generator).flatten(1)


class FlatImages:
    """Rows of a tensor to draw minibatches from: flattened images (N, D), or images (N, C, H, W) as they are."""

    def __init__(self, points: torch.Tensor):
        self.points = points

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n rows drawn uniformly with replacement: (n, D), or (n, C, H, W)."""
        return self.points[torch.randint(len(self.points), (n,), generator=generator)]


def _score_toy(tgt: toys.Target, x: torch.Tensor) -> dict:
    stats = metrics.mode_stats(x, tgt.centers, tgt.std)
    return dict(modes=stats.modes_covered, n_modes=stats.n_modes, hq=stats.high_quality_fraction)


def _measure(method, target, seed, cfg, G, D, objective, history, seconds, return_models) -> dict:
    """The row of one trained run: its mode statistics (or a judge's verdict) on ``n_eval`` samples drawn with seed 10,000 + seed."""
    tgt = _mode_target(target)
    x = G.sample(cfg.n_eval, torch.Generator().manual_seed(10_000 + seed))
    scores = tgt.score(x) if hasattr(tgt, "score") else _score_toy(tgt, x)
    row = dict(method=method, target=_name(target), seed=seed, **scores, seconds=seconds, cfg=asdict(cfg),
               diverged=history.diverged)
    if return_models:
        row.update(G=G, D=D, objective=objective, history=history, samples=x, target_object=tgt)
    return row


def _name(target) -> str:
    return target if isinstance(target, str) else getattr(target, "name", type(target).__name__)


def _mode_target(target):
    """The target a run learns and is scored on: a toy's name (``toys.TARGETS``), or the object itself.

    An object is any toy (``toys.GaussianMixture``, a user's own mixture) or data set with
    ``sample(n, generator)`` and ``dim``, scored by its mode statistics (``centers`` and ``std``) or by
    its own ``score(x)`` (a ``JudgedImages``).
    """
    tgt = toys.make_target(target) if isinstance(target, str) else target
    if not (callable(getattr(tgt, "sample", None)) and isinstance(getattr(tgt, "dim", None), int)):
        raise ValueError(f"a target is a toy's name ({sorted(toys.TARGETS)}) or an object with sample(n, generator) and "
                         f"dim, got {target!r}")
    if not hasattr(tgt, "score") and getattr(tgt, "centers", None) is None:
        raise ValueError(f"target {_name(target)!r} has no modes to count: give it centers and std (a GaussianMixture), "
                         "or a score(x) method, or use 'ring8' or 'grid25'")
    return tgt


def run_toy(method: str, target, seed: int = 0, cfg: MethodConfig = MethodConfig(), device: str = "cpu",
            return_models: bool = False, progress: bool = True, callback=None) -> dict:
    """Train ``method`` on the toy ``target`` (a name or a target object) from ``seed`` (one CPU thread) and measure its
    mode statistics.

    ``callback(step, G, D, history)`` runs after every generator step (as in ``train.train``)."""
    _check_method(method)
    tgt = _mode_target(target)
    start = time.perf_counter()
    with num_threads(1):
        seed_everything(seed)
        G, D, objective = make_toy_method(method, cfg, tgt.dim, seed=seed)
        G, D = G.to(device), D.to(device)
        for m in objective.modules():
            m.to(device)
        tcfg = TrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr_d=cfg.lr_d, lr_g=cfg.lr_g, betas=(cfg.beta1, 0.999),
                           n_critic=cfg.n_critic, simultaneous=cfg.simultaneous, consensus=cfg.consensus, seed=seed, progress=progress,
                           desc=f"{LABELS[method]} on {_name(target)}")
        history = train(G, D, tgt.sample, objective, tcfg, callback=callback)
        return _measure(method, target, seed, cfg, G, D, objective, history, time.perf_counter() - start, return_models)


def _shared(cfg: MethodConfig, method: str | None = None) -> dict:
    """The settings every member of one ensemble of ``method`` must share: those it reads but may not vary per member
    (``methods.Method.varying``). Without a method: all but ``HYPER_FIELDS``."""
    if method is None:
        return {k: v for k, v in asdict(cfg).items() if k not in HYPER_FIELDS}
    m = methods.get(method)
    return {k: v for k, v in asdict(cfg).items() if m.reads(k) and k not in m.varying()}


def _check_shared(cfgs: list, method: str) -> None:
    """Members of one ensemble may differ only in the settings their method lets vary (and in those it does not read)."""
    first = _shared(cfgs[0], method)
    for i, c in enumerate(cfgs[1:], 1):
        differ = sorted(k for k, v in _shared(c, method).items() if v != first[k])
        if differ:
            raise ValueError(f"members of one {LABELS[method]} ensemble share everything but "
                             f"{methods.get(method).varying()}; member {i} differs from member 0 in {differ}: "
                             "train those as separate ensembles")


def shared_groups(cfgs: list, max_members: int | None = None, method: str | None = None) -> list:
    """Indices of ``cfgs`` that can train as one ensemble of ``method`` (equal in all it shares, see ``_shared``), in order
    of first appearance, at most ``max_members`` per group."""
    groups = {}
    for i, c in enumerate(cfgs):
        key = tuple(sorted(_shared(c, method).items()))
        groups.setdefault(key, []).append(i)
    size = max_members or len(cfgs)
    return [idx[j:j + size] for idx in groups.values() for j in range(0, len(idx), size)]


def _per_member(cfgs: list, method: str) -> MethodConfig:
    """One MethodConfig whose per-member settings of ``method`` are lists (one value per member) where the members differ."""
    kw = {}
    for name in methods.get(method).varying():
        values = [getattr(c, name) for c in cfgs]
        if len(set(values)) > 1:
            kw[name] = values
    return replace(cfgs[0], **kw)


def _member_list(name: str, value, k: int) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * k
    if len(values) != k:
        raise ValueError(f"{name}: {len(values)} values for an ensemble of {k} members; give one, or one per member")
    return values


def make_toy_ensemble(method: str, seeds, cfgs=MethodConfig(), x_dim: int = 2):
    """(G, D, objective) for K = len(seeds) members of ``method``: member i is ``make_toy_method(method, cfgs[i], x_dim)``
    built after ``seed_everything(seeds[i])``, exactly as ``run_toy`` builds its single run.

    ``cfgs`` is one MethodConfig for all members or one per member; members may differ only in
    the learning rates and the method's per-member settings (``methods.Method.varying``: m, gamma, lambda_k, ...).
    """
    m = methods.get(method)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("an ensemble needs at least one member (K >= 1): give at least one seed")
    cfgs = _member_list("cfgs", cfgs, len(seeds))
    _check_shared(cfgs, method)
    nets = []
    for seed, cfg in zip(seeds, cfgs):
        seed_everything(seed)
        nets.append(make_toy_method(method, cfg, x_dim, seed=seed))
    G = ensemble.ensemble_of([n[0] for n in nets])
    D = ensemble.ensemble_of([n[1] for n in nets])
    T = ensemble.ensemble_of([n[2].T for n in nets]) if m.statistics is not None else None
    return G, D, make_objective(method, _per_member(cfgs, method), T, seeds)


def train_toy_ensemble(method: str, samplers, seeds, cfgs=MethodConfig(), train_cfg: TrainConfig | None = None,
                       device="cpu", x_dim: int = 2, progress: bool = True):
    """Build ``make_toy_ensemble(method, seeds, cfgs)`` on ``device`` and train it: returns (G, D, objective, histories).

    ``samplers`` is one ``sample(n, generator)`` or one per member. ``train_cfg`` defaults to the
    members' own budget and learning rates (``steps``, ``batch_size``, ``lr_d``, ``lr_g`` of ``cfgs``)
    with their seeds; give one to train otherwise (e.g. other Adam betas). ``progress``: one tqdm bar
    over the generator steps of the whole ensemble (for the default ``train_cfg``).
    """
    seeds = list(seeds)
    cfgs = _member_list("cfgs", cfgs, max(1, len(seeds)))
    G, D, objective = make_toy_ensemble(method, seeds, cfgs, x_dim)
    G, D = G.to(device), D.to(device)
    for m in objective.modules():
        m.to(device)
    if train_cfg is None:
        per = lambda name: tuple(getattr(c, name) for c in cfgs)  # noqa: E731
        c = cfgs[0]
        train_cfg = TrainConfig(steps=c.steps, batch_size=c.batch_size, lr_d=per("lr_d"), lr_g=per("lr_g"),
                                betas=(c.beta1, 0.999), n_critic=c.n_critic, simultaneous=c.simultaneous,
                                consensus=c.consensus, seed=tuple(seeds), progress=progress, desc=f"{LABELS[method]} x{len(seeds)} runs")
    return G, D, objective, train(G, D, samplers, objective, train_cfg)


def run_toy_ensemble(method: str, targets, seeds, cfgs=MethodConfig(), device: str = "cpu",
                     return_models: bool = False, progress: bool = True) -> list:
    """Train K runs of ``method`` at once (one ensemble) and measure each: one row per member, as ``run_toy`` gives.

    ``targets`` is a target (a toy's name or a ``JudgedImages``) or one per member (e.g. both toys in one ensemble); ``seeds`` one
    seed per member; ``cfgs`` one MethodConfig or one per member. Row i equals
    ``run_toy(method, targets[i], seeds[i], cfgs[i])`` up to rounding (exactly, in float64).
    """
    seeds = list(seeds)
    k = len(seeds)
    if k < 1:
        raise ValueError("an ensemble needs at least one member (K >= 1): give at least one seed")
    targets = _member_list("targets", targets, k)
    cfgs = _member_list("cfgs", cfgs, k)
    tgts = [_mode_target(t) for t in targets]
    dims = {t.dim for t in tgts}
    if len(dims) > 1:
        raise ValueError(f"members of one ensemble must share the data's dimension, got targets "
                         f"{sorted({_name(t) for t in targets})} of dimensions {sorted(dims)}")
    start = time.perf_counter()
    G, D, objective, histories = train_toy_ensemble(method, [t.sample for t in tgts], seeds, cfgs,
                                                    device=device, x_dim=dims.pop(), progress=progress)
    seconds = (time.perf_counter() - start) / k
    return [_measure(method, target, seed, cfg, ensemble.member(G, i).eval(), ensemble.member(D, i).eval(), objective,
                     histories[i], seconds, return_models)
            for i, (target, seed, cfg) in enumerate(zip(targets, seeds, cfgs))]


# The course's one 2-D comparison set-up, per profile. Chapter 07 tests the pulling-away term on it and chapter 09
# compares every method on it (the runs are shared through the run store), so one set-up gets one verdict.
BENCH = dict(  # MethodConfig fields (everything else: its defaults, e.g. the autoencoders' bottleneck)
    test=dict(steps=30, batch_size=64, hidden=16, depth=2, magan_warmup=10, magan_epoch=5),
    real=dict(steps=3000, batch_size=128, hidden=128, depth=2, magan_warmup=200, magan_epoch=100),
    full=dict(steps=20000, batch_size=100, hidden=400, depth=3, magan_warmup=200, magan_epoch=100),  # VEEGAN's, PacGAN's
)
BENCH_SEEDS = dict(test=(0,), real=(0, 1, 2, 3, 4), full=(0, 1, 2, 3, 4))
BENCH_LR = dict(ring8=2e-4, grid25=1e-3)  # one learning rate per target, the plain GAN's, for every method and both players


def bench(methods=METHODS, profile_name: str | None = None, **overrides):
    """(cfg, per_run, seeds) of the course's 2-D comparison in a profile (default: the active one).

    Use as ``compare(methods, ("ring8", "grid25"), seeds, cfg, per_run=per_run)``; ``overrides`` change
    MethodConfig fields of the set-up (a control, e.g. ``denoise=0.0``).
    """
    name = profile_name or profile()
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {PROFILES}")
    for m in methods:
        _check_method(m)
    cfg = MethodConfig(**{**BENCH[name], **overrides})
    per_run = {(t, m): dict(lr_d=lr, lr_g=lr) for t, lr in BENCH_LR.items() for m in methods}
    return cfg, per_run, BENCH_SEEDS[name]


def compare(methods=METHODS, targets=("ring8", "grid25"), seeds=(0, 1, 2), cfg: MethodConfig = MethodConfig(),
            per_target: dict | None = None, per_run: dict | None = None, device: str = "cpu", progress: bool = True) -> list:
    """Train every (method, target, seed) and return one row per run (modes covered, high-quality fraction, seconds).

    ``targets`` are toys' names or target objects (a ``toys.GaussianMixture`` of your own, a ``JudgedImages``).
    Each method trains as one ensemble whose members are its (target, seed) runs (``run_toy_ensemble``;
    targets whose settings differ in more than the method lets vary get an ensemble of their own); the numbers
    are those of the single runs. ``per_target`` maps a target's name to
    ``MethodConfig`` fields that replace ``cfg``'s for every method on that target (e.g.
    ``{"ring8": {"lr_d": 2e-4, "lr_g": 2e-4}}``). ``per_run`` maps (target, method) to fields that
    replace those in turn: each method's own settings, e.g. its best configuration from a grid
    search (``sweep.tuned``).
    To spread a larger sweep over processes or machines, see ``course_lib.sweep`` (torchrun).
    """
    for m in methods:
        _check_method(m)
    objects = {_name(t): t for t in targets}  # targets are names or objects; rows and per_target name them
    if len(objects) != len(targets):
        raise ValueError(f"two targets share a name: {[_name(t) for t in targets]}; give each its own name")
    names = list(objects)
    per_target = per_target or {}
    unknown = sorted(set(per_target) - set(names))
    if unknown:
        raise ValueError(f"per_target names targets that are not compared: {unknown}; targets: {names}")
    per_run = per_run or {}
    unknown = sorted(set(per_run) - {(t, m) for t in names for m in methods})
    if unknown:
        raise ValueError(f"per_run names (target, method) pairs that are not compared: {unknown}")
    cfgs = {(t, m): with_overrides(cfg, **{**per_target.get(t, {}), **per_run.get((t, m), {})})
            for t in names for m in methods}
    jobs = [(t, s) for t in names for s in seeds]
    rows = []
    for m in methods:
        for idx in shared_groups([cfgs[t, m] for t, _ in jobs], method=m):
            part = [jobs[i] for i in idx]
            rows += run_toy_ensemble(m, [objects[t] for t, _ in part], [s for _, s in part], [cfgs[t, m] for t, _ in part],
                                     device=device, progress=progress)
    order = {(t, m, s): i for i, (t, m, s) in enumerate((t, m, s) for t in names for m in methods for s in seeds)}
    return sorted(rows, key=lambda r: order[r["target"], r["method"], r["seed"]])


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
    after_d_step = getattr(objective, "after_d_step", None) or (lambda D: None)  # WGAN's clipping
    log = {}
    for i in range(steps + 1):
        loss, parts = objective.d_loss(D, draw(x_real), draw(x_fake))
        for k, v in parts.items():
            log.setdefault(k, []).append(v)
        if i < steps:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            after_d_step(D)
    return log


def generator_against_fixed_D(G, D, objective: losses.Objective, steps: int = 500, lr: float = 1e-3,
                              batch_size: int = 256, n_eval: int = 1000, seed: int = 0) -> dict:
    """Optimise G alone against a frozen D (the lecture's thought experiment); returns the spread of G's samples over time.

    spread = sqrt(mean_i ||x_i - mean(x)||^2) of ``n_eval`` samples from fixed codes, at every step
    (lists of steps + 1), and the final samples.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    z_eval = G.sample_z(n_eval, torch.Generator().manual_seed(seed + 1))
    opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    D.requires_grad_(False)
    spread, g_loss = [], []
    try:
        for i in range(steps + 1):
            with torch.no_grad():
                x = G(z_eval)
                spread.append(float((x - x.mean(0)).pow(2).sum(1).mean().sqrt()))
            if i < steps:
                z = G.sample_z(batch_size, gen)
                loss, parts = objective.g_loss(D, G(z), z)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                g_loss.append(float(loss.detach()))
    finally:
        D.requires_grad_(True)
    return dict(spread=spread, g_loss=g_loss, samples=x.cpu())


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

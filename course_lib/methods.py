"""Every method of the course, declared once: its name and label, its paper, the objective it builds
from its settings, the discriminator (or energy) it uses for points and for images, the settings it
reads and which of them may differ between the members of one ensemble.

``compare`` (single runs, ensembles, comparisons), ``sweep`` (and its ``tuned``), ``widgets`` and the
notebooks read this registry; nothing else names a method's parts. A new method is one ``register``
call (see ``tests/test_methods.py``, which adds one in a few lines and trains it everywhere):

    register(Method("hinge", "hinge GAN", "Lim & Ye 2017, arXiv:1705.02894", kind="variant",
                    objective=lambda cfg, seed, T: MyHingeObjective(), toy_D=_logit_D))

Settings live in ``compare.MethodConfig`` (a notebook still writes ``MethodConfig(margin=2.0)``),
which checks each value's type and range; a method reads only the fields it lists in ``settings``
(besides the budget, the architecture and the optimiser, which every method shares), and its
objective checks what only it requires (EBGAN's m > 0, MAGAN's warm-up in whole epochs).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

from torch import nn

from . import losses, models
from .energy import EnergyMLP, MaxEntObjective, StatisticsNetwork

# the settings every method reads: budget, architecture, optimiser, evaluation (MethodConfig's other fields are methods' own)
SHARED_SETTINGS = ("steps", "batch_size", "z_dim", "hidden", "d_hidden", "depth", "width", "lr_d", "lr_g", "beta1", "n_critic",
                   "simultaneous", "consensus", "n_eval")
PER_MEMBER_SHARED = ("lr_d", "lr_g")   # of those, the ones that may differ between the members of one ensemble
KINDS = ("gan", "energy", "ebm", "variant")  # the GAN, the energy-based GANs (07-09), the MaxEnt EBM (10), chapter 05's GANs


@dataclass(frozen=True)
class Method:
    """One method: what it is called, where it comes from, and how its parts are built from a ``MethodConfig``.

    ``objective(cfg, seed, T)`` builds its ``Objective`` (``seed``: the run's seed, or one per member of
    an ensemble; ``T``: the statistics network when the method has one); ``toy_D(cfg, x_dim)`` its
    discriminator or energy for points in R^x_dim; ``image_D(cfg, image_size)`` for (1, S, S) images,
    None where the course does not train it on images; ``statistics(cfg, x_dim)`` an extra network the
    objective holds (the MaxEnt EBM's T). ``settings``: the MethodConfig fields it reads besides
    ``SHARED_SETTINGS``; ``per_member``: those of them that may differ between ensemble members.
    """

    name: str
    label: str
    paper: str
    objective: Callable
    toy_D: Callable
    settings: tuple = ()
    per_member: tuple = ()
    image_D: Callable | None = None
    statistics: Callable | None = None
    kind: str = "variant"

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"a method's name is a Python identifier (it names runs and rows), got {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(f"method {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        stray = sorted(set(self.per_member) - set(self.settings))
        if stray:
            raise ValueError(f"method {self.name!r}: per_member {stray} must be among its settings {self.settings}")

    def varying(self) -> tuple:
        """The settings that may differ between the members of one ensemble of this method."""
        return PER_MEMBER_SHARED + tuple(self.per_member)

    def reads(self, field: str) -> bool:
        """Whether this method's runs depend on the MethodConfig field ``field``."""
        return field in SHARED_SETTINGS or field in self.settings


REGISTRY: dict = {}


def register(method: Method, replace: bool = False) -> Method:
    """Add ``method`` to the registry (``replace=True`` to redefine one); returns it."""
    if method.name in REGISTRY and not replace:
        raise ValueError(f"a method named {method.name!r} is registered already; give another name or replace=True")
    from .compare import MethodConfig  # the fields a method may read (compare imports this module)
    fields = set(MethodConfig.__dataclass_fields__)
    unknown = sorted(set(method.settings) - fields)
    if unknown:
        raise ValueError(f"method {method.name!r} reads {unknown}, which are not MethodConfig fields; "
                         f"choose among {sorted(fields - set(SHARED_SETTINGS))}")
    REGISTRY[method.name] = method
    return method


def get(name) -> Method:
    """The registered method called ``name``; a ValueError lists the choices."""
    if isinstance(name, Method):
        return name
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; choose one of {tuple(REGISTRY)}")
    return REGISTRY[name]


def names(*kinds: str) -> tuple:
    """The registered methods' names (of the given kinds), in the order they were registered."""
    return tuple(n for n, m in REGISTRY.items() if not kinds or m.kind in kinds)


class Labels(Mapping):
    """``{name: label}`` that reads the registry on every lookup, so that methods registered later have labels too."""

    def __getitem__(self, name):
        return get(name).label

    def __iter__(self):
        return iter(REGISTRY)

    def __len__(self):
        return len(REGISTRY)


# ---------------------------------------------------------------- the networks
def _logit_D(cfg, x_dim: int) -> nn.Module:
    return models.Discriminator(x_dim, cfg.hidden, cfg.depth)


def _autoencoder_D(norm: str):
    """An MLP autoencoder's reconstruction error as the energy (``norm`` "l2": EBGAN, MAGAN, LS-GAN; "l1": BEGAN)."""
    return lambda cfg, x_dim: models.AutoencoderDiscriminator(x_dim, cfg.hidden, cfg.code_dim, cfg.depth, norm=norm,
                                                              noise_std=cfg.denoise)


def _conv_autoencoder_D(norm: str, sigmoid: bool = True):
    """A conv autoencoder for (1, S, S) images; BEGAN's decoder is always linear (no sigmoid)."""
    return lambda cfg, size: models.ConvAutoencoderDiscriminator(size, 1, cfg.width, cfg.code_dim, norm=norm,
                                                                 sigmoid_output=cfg.sigmoid_output and sigmoid)


def _packed_D(cfg, x_dim: int) -> nn.Module:
    """PacGAN's D: the GAN's MLP discriminator on packs of ``cfg.pack`` samples, (B, d) -> (B/m, m d) -> (B/m,) logits."""
    if cfg.batch_size % cfg.pack:
        raise ValueError(f"PacGAN packs {cfg.pack} samples into one input of D, so batch_size must be a multiple of "
                         f"pack = {cfg.pack}; got batch_size = {cfg.batch_size}: change one of them")
    return models.PackedDiscriminator(models.Discriminator(cfg.pack * x_dim, cfg.hidden, cfg.depth), cfg.pack)


# LS-GAN's loss function is an autoencoder's error too: it must be bounded below, or E[L(x)] falls without end
# and the generator chases the ever lower values off the data (measured: a plain MLP output drifted to -2e5 in 2,000 steps).
for _m in (
    Method("gan", "GAN", "Goodfellow et al. 2014, arXiv:1406.2661", kind="gan",
           objective=lambda cfg, seed, T: losses.GANObjective(cfg.generator_loss), toy_D=_logit_D,
           settings=("generator_loss",)),
    Method("ebgan", "EBGAN", "Zhao, Mathieu & LeCun 2017, arXiv:1609.03126", kind="energy",
           objective=lambda cfg, seed, T: losses.EBGANObjective(cfg.margin, 0.0),
           toy_D=_autoencoder_D("l2"), image_D=_conv_autoencoder_D("l2"), settings=("margin", "code_dim", "denoise", "sigmoid_output"),
           per_member=("margin",)),
    Method("ebgan_pt", "EBGAN-PT", "Zhao, Mathieu & LeCun 2017, arXiv:1609.03126 (pulling-away term)", kind="energy",
           objective=lambda cfg, seed, T: losses.EBGANObjective(cfg.margin, cfg.pt_weight),
           toy_D=_autoencoder_D("l2"), image_D=_conv_autoencoder_D("l2"),
           settings=("margin", "pt_weight", "code_dim", "denoise", "sigmoid_output"), per_member=("margin", "pt_weight")),
    Method("magan", "MAGAN", "Wang et al. 2017, arXiv:1704.03817", kind="energy",
           objective=lambda cfg, seed, T: losses.MAGANObjective(cfg.magan_warmup, cfg.magan_epoch),
           toy_D=_autoencoder_D("l2"), image_D=_conv_autoencoder_D("l2"),
           settings=("magan_warmup", "magan_epoch", "code_dim", "denoise", "sigmoid_output")),
    Method("lsgan", "LS-GAN", "Qi 2017, arXiv:1701.06264 (loss-sensitive GAN)", kind="energy",
           objective=lambda cfg, seed, T: losses.LossSensitiveObjective(cfg.ls_lambda, cfg.lipschitz_weight, cfg.delta_scale),
           toy_D=_autoencoder_D("l2"), image_D=_conv_autoencoder_D("l2"),
           settings=("ls_lambda", "lipschitz_weight", "delta_scale", "code_dim", "denoise", "sigmoid_output"),
           per_member=("ls_lambda", "lipschitz_weight", "delta_scale")),
    Method("began", "BEGAN", "Berthelot, Schumm & Metz 2017, arXiv:1703.10717", kind="energy",
           objective=lambda cfg, seed, T: losses.BEGANObjective(cfg.gamma, cfg.lambda_k),
           toy_D=_autoencoder_D("l1"), image_D=_conv_autoencoder_D("l1", sigmoid=False),
           settings=("gamma", "lambda_k", "code_dim", "denoise"), per_member=("gamma", "lambda_k")),
    Method("maxent", "MaxEnt EBM", "Kumar, Ozair, Goyal, Courville & Bengio 2019, arXiv:1901.08508", kind="ebm",
           objective=lambda cfg, seed, T: MaxEntObjective(T, lam=cfg.maxent_lam, mi_weight=cfg.mi_weight, seed=seed),
           toy_D=lambda cfg, x_dim: EnergyMLP((x_dim,), cfg.hidden, cfg.depth),
           statistics=lambda cfg, x_dim: StatisticsNetwork((x_dim,), cfg.z_dim, cfg.hidden, cfg.depth),
           settings=("maxent_lam", "mi_weight"), per_member=("maxent_lam", "mi_weight")),
    Method("wgan", "WGAN", "Arjovsky, Chintala & Bottou 2017, arXiv:1701.07875",
           objective=lambda cfg, seed, T: losses.WGANObjective(cfg.clip), toy_D=_logit_D, settings=("clip",)),
    Method("wgan_gp", "WGAN-GP", "Gulrajani et al. 2017, arXiv:1704.00028",
           objective=lambda cfg, seed, T: losses.WGANGPObjective(cfg.gp_lambda, seed=seed), toy_D=_logit_D,
           settings=("gp_lambda",)),
    Method("unrolled", "unrolled GAN", "Metz, Poole, Pfau & Sohl-Dickstein 2017, arXiv:1611.02163",
           objective=lambda cfg, seed, T: losses.UnrolledGANObjective(cfg.unroll_steps, cfg.unroll_lr), toy_D=_logit_D,
           settings=("unroll_steps", "unroll_lr")),
    Method("pacgan", "PacGAN", "Lin, Khetan, Fanti & Oh 2018, arXiv:1712.04086 (packing)",
           objective=lambda cfg, seed, T: losses.GANObjective(cfg.generator_loss), toy_D=_packed_D,
           settings=("generator_loss", "pack")),
    Method("mbd", "GAN + minibatch discr.", "Salimans et al. 2016, arXiv:1606.03498 (minibatch discrimination)",
           objective=lambda cfg, seed, T: losses.GANObjective(cfg.generator_loss),
           toy_D=lambda cfg, x_dim: models.MinibatchDiscriminator(x_dim, cfg.hidden, cfg.depth, n_kernels=cfg.mbd_kernels),
           settings=("generator_loss", "mbd_kernels")),
):
    REGISTRY[_m.name] = _m  # checked against MethodConfig's fields by tests/test_methods.py (compare imports this module)

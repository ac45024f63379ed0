"""Losses as pure functions of the networks' outputs, plus the objectives the trainer plugs in.

A loss takes discriminator outputs (real first, then fake) and returns ``(loss, parts)``: the
scalar to minimise and a dict of floats for logging. It never calls ``backward`` or steps an
optimizer; the one trainer (``course_lib.train``) does that.

GAN family (Goodfellow et al. 2014; Goodfellow 2016, NIPS tutorial, section 3.2): ``d`` are
logits, D(x) = sigmoid(d). Using log sigmoid(d) = -softplus(-d) and log(1 - sigmoid(d)) =
-softplus(d) keeps every loss finite when D saturates.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _parts(**kw) -> dict:
    return {k: float(v.detach().mean()) if torch.is_tensor(v) else float(v) for k, v in kw.items()}


# ---------------------------------------------------------------- GAN: discriminator
def d_loss_cross_entropy(d_real: torch.Tensor, d_fake: torch.Tensor):
    """L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))], D = sigmoid(logit) (Goodfellow et al. 2014, eq. 1)."""
    loss_real = F.softplus(-d_real).mean()
    loss_fake = F.softplus(d_fake).mean()
    loss = loss_real + loss_fake
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_fake=loss_fake,
                        D_real=torch.sigmoid(d_real), D_fake=torch.sigmoid(d_fake))


# ---------------------------------------------------------------- GAN: generator
def g_loss_minimax(d_fake: torch.Tensor):
    """J_G = E_z[log(1 - D(G(z)))]: the minimax (saturating) loss, G minimises the game's value."""
    loss = -F.softplus(d_fake).mean()
    return loss, _parts(g_loss=loss)


def g_loss_non_saturating(d_fake: torch.Tensor):
    """J_G = -E_z[log D(G(z))]: the non-saturating heuristic (Goodfellow et al. 2014, section 3)."""
    loss = F.softplus(-d_fake).mean()
    return loss, _parts(g_loss=loss)


def g_loss_maximum_likelihood(d_fake: torch.Tensor):
    """J_G = -1/2 E_z[exp(sigma^-1(D(G(z))))]: minimising KL(p_data || p_G) when D is optimal (Goodfellow 2016, eq. 16)."""
    loss = -0.5 * torch.exp(d_fake).mean()
    return loss, _parts(g_loss=loss)


GENERATOR_LOSSES = {
    "minimax": g_loss_minimax,
    "non_saturating": g_loss_non_saturating,
    "maximum_likelihood": g_loss_maximum_likelihood,
}


def generator_loss(name: str):
    """The generator loss called ``name``: one of ``GENERATOR_LOSSES``."""
    if name not in GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {name!r}; choose one of {sorted(GENERATOR_LOSSES)}")
    return GENERATOR_LOSSES[name]


def generator_loss_of_D(name: str, D: torch.Tensor) -> torch.Tensor:
    """Per-sample generator loss as a function of the discriminator's probability D(G(z)) (for plots)."""
    D = torch.as_tensor(D, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    logit = torch.log(D) - torch.log1p(-D)
    fn = generator_loss(name)
    return torch.stack([fn(l.reshape(1))[0] for l in logit])


# ---------------------------------------------------------------- objectives the trainer plugs in
class Objective:
    """What the trainer asks of a method: a discriminator loss and a generator loss.

    ``d_loss(D, x_real, x_fake)`` and ``g_loss(D, x_fake, z)`` return ``(loss, parts)``.
    ``update(parts)`` runs once after every generator step (for state such as BEGAN's k_t) and
    may return more numbers to log. ``modules()`` lists extra networks trained with the generator.
    """

    name = "objective"

    def d_loss(self, D, x_real, x_fake):
        raise NotImplementedError

    def g_loss(self, D, x_fake, z):
        raise NotImplementedError

    def update(self, parts: dict) -> dict:
        return {}

    def modules(self) -> list:
        return []

    def state(self) -> dict:
        """Numbers that define the objective's current state (saved with snapshots)."""
        return {}


@dataclass
class GANObjective(Objective):
    """The original GAN: cross-entropy discriminator, generator loss chosen by name."""

    generator_loss: str = "non_saturating"  # one of GENERATOR_LOSSES

    def __post_init__(self):
        self._g = generator_loss(self.generator_loss)
        self.name = f"gan[{self.generator_loss}]"

    def d_loss(self, D, x_real, x_fake):
        return d_loss_cross_entropy(D(x_real), D(x_fake))

    def g_loss(self, D, x_fake, z):
        return self._g(D(x_fake))

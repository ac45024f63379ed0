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


# ================================================================ energy-based GANs (issue 4)
# Energies e = D(x) >= 0 (an autoencoder's reconstruction error, ``models.EnergyAutoencoder``):
# low on the data, high elsewhere. Real first, then fake, as above. Glossary: ``e_real`` = D(x),
# ``e_fake`` = D(G(z)) in the discriminator step, ``e_fake_g`` = D(G(z)) in the generator step.
import math as _math  # noqa: E402  (kept inside this section, which issue 4 appends)


def _check_positive(name: str, value, allow_zero: bool = False):
    ok = isinstance(value, (int, float)) and _math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        want = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {want}, got {value!r}")
    return float(value)


def hinge(a: torch.Tensor) -> torch.Tensor:
    """[a]+ = max(0, a), elementwise."""
    return torch.clamp(a, min=0)


def ebgan_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, margin: float):
    """L_D = E[D(x)] + E[[m - D(G(z))]+] (Zhao, Mathieu, LeCun 2016, arXiv:1609.03126, eq. 1)."""
    _check_positive("margin m", margin)
    loss_real = e_real.mean()
    loss_fake = hinge(margin - e_fake).mean()
    loss = loss_real + loss_fake
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_fake=loss_fake, e_real=e_real, e_fake=e_fake)


def pulling_away_term(codes: torch.Tensor) -> torch.Tensor:
    """f_PT(S) = 1/(N(N-1)) sum_{i != j} cos^2(e_i, e_j) over a batch of codes (N, d) (Zhao et al. 2016, eq. 4).

    The paper squares the cosine (the lecture slide writes it without the square): orthogonal codes
    give 0, identical (or exactly opposite) codes give 1.
    """
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"the pulling-away term needs a batch of at least 2 codes of shape (N, d), got {tuple(codes.shape)}")
    n = len(codes)
    unit = codes / codes.norm(dim=1, keepdim=True).clamp_min(1e-12)  # (N, d)
    cos2 = (unit @ unit.T) ** 2                                       # (N, N)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


def ebgan_g_loss(e_fake: torch.Tensor, codes: torch.Tensor | None = None, pt_weight: float = 0.0):
    """L_G = E[D(G(z))] + w_PT f_PT(Enc(G(z))) (Zhao et al. 2016, eqs. 2 and 4; w_PT = 0.1 in the paper)."""
    pt_weight = _check_positive("pt_weight (weight of the pulling-away term)", pt_weight, allow_zero=True)
    loss_energy = e_fake.mean()
    if pt_weight > 0:
        if codes is None:
            raise ValueError("pt_weight > 0 needs the generated batch's codes (the autoencoder's energy_and_codes)")
        pt = pulling_away_term(codes)
    else:
        pt = torch.zeros((), device=e_fake.device)
    loss = loss_energy + pt_weight * pt
    return loss, _parts(g_loss=loss, e_fake_g=e_fake, pt=pt)


def sample_distance(x_real: torch.Tensor, x_fake: torch.Tensor, norm: str = "l1") -> torch.Tensor:
    """Delta(x, G(z)) = (1/d) sum_d |x_d - G(z)_d| ("l1", Qi 2017) or the mean squared difference ("l2"), per pair (B,)."""
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    if x_real.shape != x_fake.shape:
        raise ValueError(f"real and generated batches must have the same shape, got {tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    diff = (x_real - x_fake).reshape(len(x_real), -1)
    return diff.abs().mean(1) if norm == "l1" else diff.pow(2).mean(1)


def gradient_norm_penalty(D, x: torch.Tensor) -> torch.Tensor:
    """R = E_x ||grad_x D(x)||^2, each sample's own gradient norm (Qi 2017, arXiv:1701.06264v1, section 5)."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)  # row i depends only on x_i
    return grad.reshape(len(x), -1).pow(2).sum(1).mean()


def lsgan_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, delta: torch.Tensor, lam: float = 1.0):
    """L_D = E[D(x)] + lambda E[(Delta(x, G(z)) + D(x) - D(G(z)))+] (Qi 2017, Loss-Sensitive GAN, arXiv:1701.06264, eq. 7)."""
    lam = _check_positive("lambda (weight of the margin term)", lam)
    loss_real = e_real.mean()
    violation = hinge(delta + e_real - e_fake)
    loss = loss_real + lam * violation.mean()
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_margin=violation, e_real=e_real, e_fake=e_fake,
                        delta=delta, violated=(violation > 0).float())


def lsgan_g_loss(e_fake: torch.Tensor):
    """L_G = E[D(G(z))] (Qi 2017, eq. 8)."""
    loss = e_fake.mean()
    return loss, _parts(g_loss=loss, e_fake_g=e_fake)


def began_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, k: float):
    """L_D = L(x) - k_t L(G(z)), L the autoencoder's pixel-wise L1 loss (Berthelot et al. 2017, arXiv:1703.10717, eq. 4)."""
    if not 0.0 <= k <= 1.0:
        raise ValueError(f"k_t must lie in [0, 1], got {k!r}")
    loss_real = e_real.mean()
    loss_fake = e_fake.mean()
    loss = loss_real - k * loss_fake
    return loss, _parts(d_loss=loss, e_real=e_real, e_fake=e_fake)


def began_g_loss(e_fake: torch.Tensor):
    """L_G = L(G(z)) (Berthelot et al. 2017, eq. 4)."""
    loss = e_fake.mean()
    return loss, _parts(g_loss=loss, e_fake_g=e_fake)


def began_k_update(k: float, e_real: float, e_fake: float, gamma: float, lambda_k: float) -> float:
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1) (Berthelot et al. 2017, eq. 4)."""
    return float(min(1.0, max(0.0, k + lambda_k * (gamma * e_real - e_fake))))


def began_convergence(e_real: float, e_fake: float, gamma: float) -> float:
    """M_global = L(x) + |gamma L(x) - L(G(z))| (Berthelot et al. 2017, section 3.4.1)."""
    return float(e_real + abs(gamma * e_real - e_fake))


def _energy_and_codes(D, x):
    if not hasattr(D, "energy_and_codes"):
        raise ValueError("the pulling-away term needs an autoencoder discriminator with energy_and_codes(x) "
                         "(models.AutoencoderDiscriminator or models.ConvAutoencoderDiscriminator)")
    return D.energy_and_codes(x)


@dataclass
class EBGANObjective(Objective):
    """EBGAN: L_D = D(x) + [m - D(G(z))]+, L_G = D(G(z)) + w_PT f_PT (Zhao et al. 2016); EBGAN-PT when pt_weight > 0."""

    margin: float = 1.0     # m > 0: fakes above m cost the discriminator nothing
    pt_weight: float = 0.0  # w_PT >= 0, weight of the pulling-away term in the generator loss (0.1 in the paper)

    def __post_init__(self):
        self.margin = _check_positive("margin m", self.margin)
        self.pt_weight = _check_positive("pt_weight (weight of the pulling-away term)", self.pt_weight, allow_zero=True)
        self.name = f"ebgan-pt[m={self.margin:g}]" if self.pt_weight > 0 else f"ebgan[m={self.margin:g}]"

    def d_loss(self, D, x_real, x_fake):
        return ebgan_d_loss(D(x_real), D(x_fake), self.margin)

    def g_loss(self, D, x_fake, z):
        if self.pt_weight > 0:
            e_fake, codes = _energy_and_codes(D, x_fake)
            return ebgan_g_loss(e_fake, codes, self.pt_weight)
        return ebgan_g_loss(D(x_fake))

    def state(self):
        return {"margin": self.margin}


class MAGANObjective(Objective):
    """MAGAN (Wang, Cully, Chang, Demiris 2017, arXiv:1704.03817): the EBGAN hinge with an adaptive margin.

    1. Pre-training (``warmup_steps`` generator steps): D learns to reconstruct real data only,
       L_D = E[D(x)], and G does not move (its loss is multiplied by 0). The margin starts at the
       mean real energy of the last warm-up epoch.
    2. Then L_D = D(x) + [m - D(G(z))]+, L_G = D(G(z)). At the end of every epoch of ``epoch_steps``
       generator steps, ``adapt_margin`` applies the paper's rule (Algorithm 1): with E_real, E_fake the
       epoch's mean energies and E_fake_prev the previous epoch's, set m <- E_real if E_real < m and
       E_real < E_fake and E_fake_prev <= E_fake (the generator stopped improving). The margin never grows.
    """

    def __init__(self, warmup_steps: int = 200, epoch_steps: int = 100):
        for label, v in (("warmup_steps", warmup_steps), ("epoch_steps", epoch_steps)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{label} must be a positive integer, got {v!r}")
        if warmup_steps % epoch_steps:
            raise ValueError(f"warmup_steps ({warmup_steps}) must be a multiple of epoch_steps ({epoch_steps})")
        self.warmup_steps, self.epoch_steps = warmup_steps, epoch_steps
        self.name = "magan"
        self.margin = float("nan")        # set at the end of pre-training
        self.t = 0                        # generator steps seen by update()
        self._sum_real = self._sum_fake = 0.0
        self._prev_fake = float("inf")    # S_G of the previous epoch (infinite at first, as in the paper)
        self.margins = []                 # (step, margin) after every change

    @property
    def warming_up(self) -> bool:
        return self.t < self.warmup_steps

    def d_loss(self, D, x_real, x_fake):
        e_real = D(x_real)
        if self.warming_up:  # pre-training: reconstruct real data only (generated energies only logged)
            with torch.no_grad():
                e_fake = D(x_fake)
            loss = e_real.mean()
            return loss, _parts(d_loss=loss, d_loss_real=loss, d_loss_fake=0.0, e_real=e_real, e_fake=e_fake)
        return ebgan_d_loss(e_real, D(x_fake), self.margin)

    def g_loss(self, D, x_fake, z):
        loss, parts = ebgan_g_loss(D(x_fake))
        if self.warming_up:  # G waits while D is pre-trained: zero gradient
            loss = 0.0 * loss
        return loss, parts

    def adapt_margin(self, e_real: float, e_fake: float) -> float:
        """The paper's rule: m <- E_real if E_real < m and E_real < E_fake and E_fake_prev <= E_fake; returns m (never larger)."""
        if e_real < self.margin and e_real < e_fake and self._prev_fake <= e_fake:
            self.margin = float(e_real)
            self.margins.append((self.t, self.margin))
        self._prev_fake = e_fake
        return self.margin

    def update(self, parts):
        self.t += 1
        self._sum_real += parts["e_real"]
        self._sum_fake += parts["e_fake_g"]
        if self.t % self.epoch_steps == 0:
            e_real, e_fake = self._sum_real / self.epoch_steps, self._sum_fake / self.epoch_steps
            self._sum_real = self._sum_fake = 0.0
            if self.t == self.warmup_steps:  # end of pre-training: the first margin
                self.margin = float(e_real)
                self.margins.append((self.t, self.margin))
            elif self.t > self.warmup_steps:
                self.adapt_margin(e_real, e_fake)
        return {"margin": self.margin}

    def state(self):
        return {"margin": self.margin, "t": self.t}


@dataclass
class LossSensitiveObjective(Objective):
    """Loss-Sensitive GAN (Qi 2017, arXiv:1701.06264), not least-squares GAN: D is a loss (energy) function.

    L_D = E[D(x)] + lambda E[(Delta(x, G(z)) + D(x) - D(G(z)))+] + kappa (R(x) + R(G(z))),
    L_G = E[D(G(z))], Delta the per-pair distance ``sample_distance`` between a real and a generated
    sample (paired by their place in the batch) times ``delta_scale``; R = ``gradient_norm_penalty``,
    the paper's direct gradient-norm regularizer that keeps D Lipschitz.
    """

    lam: float = 1.0              # lambda > 0, weight of the margin term
    lipschitz_weight: float = 1.0  # kappa >= 0, weight of the gradient-norm penalty (0: no Lipschitz regularization)
    delta_scale: float = 1.0      # Delta = delta_scale * sample_distance(x, G(z))
    distance: str = "l1"          # "l1" (the paper) or "l2"

    def __post_init__(self):
        self.lam = _check_positive("lambda (weight of the margin term)", self.lam)
        self.lipschitz_weight = _check_positive("lipschitz_weight", self.lipschitz_weight, allow_zero=True)
        self.delta_scale = _check_positive("delta_scale", self.delta_scale)
        if self.distance not in ("l1", "l2"):
            raise ValueError(f"distance must be 'l1' or 'l2', got {self.distance!r}")
        self.name = f"ls-gan[lambda={self.lam:g}, kappa={self.lipschitz_weight:g}]"

    def d_loss(self, D, x_real, x_fake):
        delta = self.delta_scale * sample_distance(x_real, x_fake, self.distance)
        loss, parts = lsgan_d_loss(D(x_real), D(x_fake), delta, self.lam)
        if self.lipschitz_weight > 0:
            penalty = gradient_norm_penalty(D, x_real) + gradient_norm_penalty(D, x_fake)
            loss = loss + self.lipschitz_weight * penalty
            parts.update(_parts(d_loss=loss, grad_penalty=penalty))
        return loss, parts

    def g_loss(self, D, x_fake, z):
        return lsgan_g_loss(D(x_fake))


class BEGANObjective(Objective):
    """BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717): L_D = L(x) - k_t L(G(z)), L_G = L(G(z)).

    After every generator step ``update_k`` sets k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
    and the convergence measure M_global = L(x) + |gamma L(x) - L(G(z))| is logged. Use an
    autoencoder discriminator with ``norm="l1"`` (pixel-wise L1 loss, as in the paper).
    """

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001, k0: float = 0.0):
        if not (isinstance(gamma, (int, float)) and 0 < gamma <= 1):
            raise ValueError(f"gamma (the diversity ratio E[L(G(z))]/E[L(x)]) must lie in (0, 1], got {gamma!r}")
        self.lambda_k = _check_positive("lambda_k (the learning rate of k_t)", lambda_k, allow_zero=True)
        if not 0 <= k0 <= 1:
            raise ValueError(f"k0 must lie in [0, 1], got {k0!r}")
        self.gamma, self.k = float(gamma), float(k0)
        self.name = f"began[gamma={self.gamma:g}]"

    def d_loss(self, D, x_real, x_fake):
        return began_d_loss(D(x_real), D(x_fake), self.k)

    def g_loss(self, D, x_fake, z):
        return began_g_loss(D(x_fake))

    def update_k(self, e_real: float, e_fake: float) -> float:
        """k <- clip(k + lambda_k (gamma e_real - e_fake), 0, 1); returns the new k."""
        self.k = began_k_update(self.k, e_real, e_fake, self.gamma, self.lambda_k)
        return self.k

    def update(self, parts):
        m_global = began_convergence(parts["e_real"], parts["e_fake_g"], self.gamma)
        return {"k": self.update_k(parts["e_real"], parts["e_fake_g"]), "M_global": m_global}

    def state(self):
        return {"k": self.k, "gamma": self.gamma}

"""Losses as pure functions of the networks' outputs, plus the objectives the trainer plugs in.

A loss takes discriminator outputs (real first, then fake) and returns ``(loss, parts)``: the
scalar to minimise and a dict of numbers for logging (detached tensors: the trainer brings them
to the host in bulk, so a GPU never waits). It never calls ``backward`` or steps an optimizer;
the one trainer (``course_lib.train``) does that.

Many runs at once (``course_lib.ensemble``): outputs may carry a leading member dimension, (K, B)
instead of (B,). Every loss averages over the last (sample) dimension only, so it returns one
loss per member, shape (K,), and a hyper-parameter (margin, gamma, ...) may be one number or one
per member (a sequence of K numbers); the trainer minimises the sum of the members' losses,
which gives each member exactly the gradient of its own loss.

GAN family (Goodfellow et al. 2014; Goodfellow 2016, NIPS tutorial, section 3.2): ``d`` are
logits, D(x) = sigmoid(d). Using log sigmoid(d) = -softplus(-d) and log(1 - sigmoid(d)) =
-softplus(d) keeps every loss finite when D saturates.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .models import batch_ndim, clean_energy


def _parts(**kw) -> dict:
    """Numbers to log: tensors detached (still on their device; per member for ensembles), anything else a float."""
    return {k: v.detach() if torch.is_tensor(v) else float(v) for k, v in kw.items()}


def _col(v, like: torch.Tensor):
    """A hyper-parameter (a number, or a tensor with one entry per member) shaped to broadcast against ``like`` (K, ...)."""
    if not torch.is_tensor(v) or v.ndim == 0:
        return v
    return v.to(like.device, like.dtype).reshape(-1, *([1] * (like.ndim - 1)))


def _check_members(name: str, value, check):
    """A hyper-parameter given as one number (checked by ``check``) or one per member (a list/tuple/1-D tensor: each checked)."""
    if isinstance(value, (list, tuple)) or (torch.is_tensor(value) and value.ndim == 1):
        values = [check(f"{name} of member {i}", float(v)) for i, v in enumerate(value)]
        if not values:
            raise ValueError(f"{name}: an empty list; give one number, or one per ensemble member")
        return torch.tensor(values, dtype=torch.float64)
    return check(name, value)


def n_members(**hyper) -> int | None:
    """K when some hyper-parameters are given per member (1-D tensors, or lists/tuples such as one seed per member;
    all such sequences must have one length), else None."""
    lengths = {k: len(v) for k, v in hyper.items() if (torch.is_tensor(v) and v.ndim == 1) or isinstance(v, (list, tuple))}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"hyper-parameters given per member must all have one length (the ensemble's K), got {lengths}")
    return next(iter(lengths.values()), None)


# ---------------------------------------------------------------- GAN: discriminator
def d_loss_cross_entropy(d_real: torch.Tensor, d_fake: torch.Tensor):
    """L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))], D = sigmoid(logit) (Goodfellow et al. 2014, eq. 1)."""
    loss_real = F.softplus(-d_real).mean(-1)
    loss_fake = F.softplus(d_fake).mean(-1)
    loss = loss_real + loss_fake
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_fake=loss_fake,
                        D_real=torch.sigmoid(d_real).mean(-1), D_fake=torch.sigmoid(d_fake).mean(-1))


# ---------------------------------------------------------------- GAN: generator
def g_loss_minimax(d_fake: torch.Tensor):
    """J_G = E_z[log(1 - D(G(z)))]: the minimax (saturating) loss, G minimises the game's value."""
    loss = -F.softplus(d_fake).mean(-1)
    return loss, _parts(g_loss=loss)


def g_loss_non_saturating(d_fake: torch.Tensor):
    """J_G = -E_z[log D(G(z))]: the non-saturating heuristic (Goodfellow et al. 2014, section 3)."""
    loss = F.softplus(-d_fake).mean(-1)
    return loss, _parts(g_loss=loss)


def g_loss_maximum_likelihood(d_fake: torch.Tensor):
    """J_G = -1/2 E_z[exp(sigma^-1(D(G(z))))]: minimising KL(p_data || p_G) when D is optimal (Goodfellow 2016, eq. 16)."""
    loss = -0.5 * torch.exp(d_fake).mean(-1)
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


_generator_loss_named = generator_loss  # for functions whose ``generator_loss`` argument hides the name


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
    may return more numbers to log; it keeps its state in tensors, so it never waits for a GPU.
    ``after_d_step(D)`` runs after every discriminator step (WGAN's weight clipping; a no-op by default).
    ``modules()`` lists extra networks trained with the generator. ``members`` is K when a
    hyper-parameter is given per ensemble member, else None; ``to(device, dtype)`` moves such
    per-member hyper-parameters (the trainer calls it once).
    """

    name = "objective"
    members = None

    def to(self, device, dtype=torch.float32):
        for k, v in vars(self).items():
            if torch.is_tensor(v):
                setattr(self, k, v.to(device, dtype if v.is_floating_point() else v.dtype))
        return self

    def d_loss(self, D, x_real, x_fake):
        raise NotImplementedError

    def g_loss(self, D, x_fake, z):
        raise NotImplementedError

    def update(self, parts: dict) -> dict:
        return {}

    def after_d_step(self, D) -> None:
        """Runs after every discriminator optimizer step (e.g. to clip D's weights); nothing by default."""

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
    if torch.is_tensor(value):  # one per member, checked when the objective was built, or state kept on the device
        return value
    ok = isinstance(value, (int, float)) and _math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        want = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {want}, got {value!r}")
    return float(value)


def hinge(a: torch.Tensor) -> torch.Tensor:
    """[a]+ = max(0, a), elementwise."""
    return torch.clamp(a, min=0)


def ebgan_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, margin: float):
    """L_D = E[D(x)] + E[[m - D(G(z))]+] (Zhao, Mathieu, LeCun 2017, arXiv:1609.03126, eq. 1)."""
    _check_positive("margin m", margin)
    loss_real = e_real.mean(-1)
    loss_fake = hinge(_col(margin, e_fake) - e_fake).mean(-1)
    loss = loss_real + loss_fake
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_fake=loss_fake, e_real=e_real.mean(-1), e_fake=e_fake.mean(-1))


def pulling_away_term(codes: torch.Tensor) -> torch.Tensor:
    """f_PT(S) = 1/(N(N-1)) sum_{i != j} cos^2(e_i, e_j) over a batch of codes (N, d) (Zhao et al. 2016, eq. 4).

    The paper squares the cosine (the lecture slide writes it without the square): orthogonal codes
    give 0, identical (or exactly opposite) codes give 1.
    """
    if codes.ndim < 2 or codes.shape[-2] < 2:
        raise ValueError(f"the pulling-away term needs a batch of at least 2 codes of shape (N, d), got {tuple(codes.shape)}")
    n = codes.shape[-2]  # codes (..., N, d): a leading member dimension gives one term per member
    unit = codes / codes.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # (N, d)
    cos2 = (unit @ unit.transpose(-1, -2)) ** 2                       # (N, N)
    return (cos2.sum((-2, -1)) - cos2.diagonal(dim1=-2, dim2=-1).sum(-1)) / (n * (n - 1))


def ebgan_g_loss(e_fake: torch.Tensor, codes: torch.Tensor | None = None, pt_weight: float = 0.0):
    """L_G = E[D(G(z))] + w_PT f_PT(Enc(G(z))) (Zhao et al. 2016, eqs. 2 and 4; w_PT = 0.1 in the paper)."""
    pt_weight = _check_positive("pt_weight (weight of the pulling-away term)", pt_weight, allow_zero=True)
    loss_energy = e_fake.mean(-1)
    if torch.is_tensor(pt_weight) or pt_weight > 0:
        if codes is None:
            raise ValueError("pt_weight > 0 needs the generated batch's codes (the autoencoder's energy_and_codes)")
        pt = pulling_away_term(codes)
    else:
        pt = torch.zeros_like(loss_energy)
    loss = loss_energy + _col(pt_weight, pt) * pt
    return loss, _parts(g_loss=loss, e_fake_g=loss_energy, pt=pt)


def sample_distance(x_real: torch.Tensor, x_fake: torch.Tensor, norm: str = "l1", n_batch_dims: int = 1) -> torch.Tensor:
    """Delta(x, G(z)) = (1/d) sum_d |x_d - G(z)_d| ("l1", Qi 2017) or the mean squared difference ("l2"), per pair (B,)
    ((K, B) for ensembles, ``n_batch_dims=2``)."""
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    if x_real.shape != x_fake.shape:
        raise ValueError(f"real and generated batches must have the same shape, got {tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    diff = (x_real - x_fake).flatten(n_batch_dims)
    return diff.abs().mean(-1) if norm == "l1" else diff.pow(2).mean(-1)


def gradient_norm_penalty(D, x: torch.Tensor) -> torch.Tensor:
    """R = E_x ||grad_x D(x)||^2, each sample's own gradient norm; one per member for ensembles.

    The course's own soft Lipschitz penalty for LS-GAN's loss function (Qi 2017, arXiv:1701.06264, asks for a
    Lipschitz L_theta; its revised version discusses gradient penalties for that purpose). It is in the spirit
    of WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028), which penalises (||grad_x D(x)|| - 1)^2 at random
    points between real and generated samples; this one penalises the squared norm at the samples themselves.
    """
    x = x.detach().requires_grad_(True)
    with clean_energy(D):  # the slope of the energy itself (a denoising autoencoder's without its input noise)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)  # row i depends only on x_i
    return grad.flatten(batch_ndim(D)).pow(2).sum(-1).mean(-1)


def lsgan_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, delta: torch.Tensor, lam: float = 1.0):
    """L_D = E[D(x)] + lambda E[(Delta(x, G(z)) + D(x) - D(G(z)))+] (Qi 2017, Loss-Sensitive GAN, arXiv:1701.06264, eq. 7)."""
    lam = _check_positive("lambda (weight of the margin term)", lam)
    loss_real = e_real.mean(-1)
    violation = hinge(delta + e_real - e_fake)
    margin_term = violation.mean(-1)
    loss = loss_real + _col(lam, margin_term) * margin_term
    return loss, _parts(d_loss=loss, d_loss_real=loss_real, d_loss_margin=margin_term, e_real=e_real.mean(-1),
                        e_fake=e_fake.mean(-1), delta=delta.mean(-1), violated=(violation > 0).float().mean(-1))


def lsgan_g_loss(e_fake: torch.Tensor):
    """L_G = E[D(G(z))] (Qi 2017, eq. 8)."""
    loss = e_fake.mean(-1)
    return loss, _parts(g_loss=loss, e_fake_g=loss)


def began_d_loss(e_real: torch.Tensor, e_fake: torch.Tensor, k: float):
    """L_D = L(x) - k_t L(G(z)), L the autoencoder's pixel-wise L1 loss (Berthelot et al. 2017, arXiv:1703.10717, eq. 4)."""
    if not torch.is_tensor(k) and not 0.0 <= k <= 1.0:  # a tensor k (per member) comes clipped from began_k_update
        raise ValueError(f"k_t must lie in [0, 1], got {k!r}")
    loss_real = e_real.mean(-1)
    loss_fake = e_fake.mean(-1)
    loss = loss_real - _col(k, loss_fake) * loss_fake
    return loss, _parts(d_loss=loss, e_real=loss_real, e_fake=loss_fake)


def began_g_loss(e_fake: torch.Tensor):
    """L_G = L(G(z)) (Berthelot et al. 2017, eq. 4)."""
    loss = e_fake.mean(-1)
    return loss, _parts(g_loss=loss, e_fake_g=loss)


def began_k_update(k: float, e_real: float, e_fake: float, gamma: float, lambda_k: float) -> float:
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1) (Berthelot et al. 2017, eq. 4); tensors in, tensors out (per member)."""
    if any(torch.is_tensor(v) for v in (k, e_real, e_fake, gamma, lambda_k)):
        return (k + lambda_k * (gamma * e_real - e_fake)).clamp(0.0, 1.0)
    return float(min(1.0, max(0.0, k + lambda_k * (gamma * e_real - e_fake))))


def began_convergence(e_real: float, e_fake: float, gamma: float) -> float:
    """M_global = L(x) + |gamma L(x) - L(G(z))| (Berthelot et al. 2017, section 3.4.1)."""
    m = e_real + abs(gamma * e_real - e_fake)
    return m if torch.is_tensor(m) else float(m)


def _energy_and_codes(D, x):
    if not hasattr(D, "energy_and_codes"):
        raise ValueError("the pulling-away term needs an autoencoder discriminator with energy_and_codes(x) "
                         "(models.AutoencoderDiscriminator or models.ConvAutoencoderDiscriminator)")
    return D.energy_and_codes(x)


def _fmt(v) -> str:
    """A hyper-parameter for a name: '0.5', or '[0.5, 1, 2]' when given per member."""
    if torch.is_tensor(v):
        return "[" + ", ".join(f"{x:g}" for x in v.tolist()) + "]"
    return f"{v:g}"


def _number(v):
    """A float, or a list of floats (one per member), for snapshots and printing (brings a tensor to the host)."""
    if torch.is_tensor(v):
        return v.item() if v.ndim == 0 else v.tolist()
    return v


def _on(v) -> bool:
    """True when a weight is switched on: > 0, or given per member (then each member decides by its own value)."""
    return torch.is_tensor(v) or v > 0


class EBGANObjective(Objective):
    """EBGAN: L_D = D(x) + [m - D(G(z))]+, L_G = D(G(z)) + w_PT f_PT (Zhao et al. 2016); EBGAN-PT when pt_weight > 0.

    ``margin`` (m > 0: fakes above m cost the discriminator nothing) and ``pt_weight`` (w_PT >= 0,
    0.1 in the paper) are numbers, or sequences with one number per ensemble member.
    """

    def __init__(self, margin=1.0, pt_weight=0.0):
        self.margin = _check_members("margin m", margin, _check_positive)
        self.pt_weight = _check_members("pt_weight (weight of the pulling-away term)", pt_weight,
                                        lambda n, v: _check_positive(n, v, allow_zero=True))
        self.members = n_members(margin=self.margin, pt_weight=self.pt_weight)
        prefix = "ebgan-pt" if _on(self.pt_weight) else "ebgan"
        self.name = f"{prefix}[m={_fmt(self.margin)}]"

    def d_loss(self, D, x_real, x_fake):
        return ebgan_d_loss(D(x_real), D(x_fake), self.margin)

    def g_loss(self, D, x_fake, z):
        if _on(self.pt_weight):
            e_fake, codes = _energy_and_codes(D, x_fake)
            return ebgan_g_loss(e_fake, codes, self.pt_weight)
        return ebgan_g_loss(D(x_fake))

    def state(self):
        return {"margin": _number(self.margin)}


def magan_margin_rule(margin, e_real, e_fake, e_fake_prev):
    """MAGAN's rule (Wang et al. 2017, Algorithm 1): m <- E_real if E_real < m and E_real < E_fake and E_fake_prev <= E_fake.

    Numbers in, a number out; tensors (one entry per member) in, a tensor out.
    """
    if any(torch.is_tensor(v) for v in (margin, e_real, e_fake, e_fake_prev)):
        change = (e_real < margin) & (e_real < e_fake) & (e_fake_prev <= e_fake)
        return torch.where(change, e_real, torch.as_tensor(margin, dtype=e_real.dtype, device=e_real.device))
    return float(e_real) if (e_real < margin and e_real < e_fake and e_fake_prev <= e_fake) else margin


class MAGANObjective(Objective):
    """MAGAN (Wang, Cully, Chang, Demiris 2017, arXiv:1704.03817): the EBGAN hinge with an adaptive margin.

    1. Pre-training (``warmup_steps`` generator steps): D learns to reconstruct real data only,
       L_D = E[D(x)], and G does not move (its loss is multiplied by 0). The margin starts at the
       mean real energy of the last warm-up epoch.
    2. Then L_D = D(x) + [m - D(G(z))]+, L_G = D(G(z)). At the end of every epoch of ``epoch_steps``
       generator steps, ``adapt_margin`` applies the paper's rule (Algorithm 1): with E_real, E_fake the
       epoch's mean energies and E_fake_prev the previous epoch's, set m <- E_real if E_real < m and
       E_real < E_fake and E_fake_prev <= E_fake (the generator stopped improving). The margin never grows.

    In an ensemble every member keeps its own margin and epoch sums (tensors of K entries); the
    warm-up and the epochs are counted in generator steps, the same for all.
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
        self._epochs = []                 # (step, margin) at the end of every epoch from the warm-up's on

    @property
    def warming_up(self) -> bool:
        return self.t < self.warmup_steps

    @property
    def margins(self) -> list:
        """(step, margin) after every change; for an ensemble, one such list per member."""
        seen = [(t, _number(m)) for t, m in self._epochs]
        if not seen or not isinstance(seen[0][1], list):
            return [(t, m) for i, (t, m) in enumerate(seen) if i == 0 or m != seen[i - 1][1]]
        per_member = []
        for k in range(len(seen[0][1])):
            ms = [(t, m[k]) for t, m in seen]
            per_member.append([(t, m) for i, (t, m) in enumerate(ms) if i == 0 or m != ms[i - 1][1]])
        return per_member

    def d_loss(self, D, x_real, x_fake):
        e_real = D(x_real)
        if self.warming_up:  # pre-training: reconstruct real data only (generated energies only logged)
            with torch.no_grad():
                e_fake = D(x_fake)
            loss = e_real.mean(-1)
            return loss, _parts(d_loss=loss, d_loss_real=loss, d_loss_fake=torch.zeros_like(loss),
                                e_real=loss, e_fake=e_fake.mean(-1))
        return ebgan_d_loss(e_real, D(x_fake), self.margin)

    def g_loss(self, D, x_fake, z):
        loss, parts = ebgan_g_loss(D(x_fake))
        if self.warming_up:  # G waits while D is pre-trained: zero gradient
            loss = 0.0 * loss
        return loss, parts

    def adapt_margin(self, e_real, e_fake):
        """The paper's rule (``magan_margin_rule``) on this epoch's mean energies; returns m (never larger)."""
        self.margin = magan_margin_rule(self.margin, e_real, e_fake, self._prev_fake)
        self._prev_fake = e_fake
        self._epochs.append((self.t, self.margin))
        return self.margin

    def update(self, parts):
        self.t += 1
        self._sum_real = self._sum_real + parts["e_real"]
        self._sum_fake = self._sum_fake + parts["e_fake_g"]
        if self.t % self.epoch_steps == 0:
            e_real, e_fake = self._sum_real / self.epoch_steps, self._sum_fake / self.epoch_steps
            self._sum_real = self._sum_fake = 0.0
            if self.t == self.warmup_steps:  # end of pre-training: the first margin
                self.margin = e_real.clone() if torch.is_tensor(e_real) else float(e_real)
                self._epochs.append((self.t, self.margin))
            elif self.t > self.warmup_steps:
                self.adapt_margin(e_real, e_fake)
        margin = self.margin
        if not torch.is_tensor(margin) and torch.is_tensor(parts["e_real"]):
            margin = torch.full_like(parts["e_real"], margin)
        return {"margin": margin}

    def state(self):
        return {"margin": _number(self.margin), "t": self.t}


class ReconstructionObjective(Objective):
    """L_D = E[D(x)]: an autoencoder energy fitted to real data alone (MAGAN's warm-up, without any generated samples)."""

    name = "reconstruction"

    def d_loss(self, D, x_real, x_fake):
        e_real = D(x_real).mean(-1)
        return e_real, _parts(d_loss=e_real, e_real=e_real)

    def g_loss(self, D, x_fake, z):
        raise ValueError("ReconstructionObjective fits the energy to real data alone and trains no generator; "
                         "use it with compare.fit_discriminator, or pick a GAN's objective for train()")


class LossSensitiveObjective(Objective):
    """Loss-Sensitive GAN (Qi 2017, arXiv:1701.06264), not least-squares GAN: D is a loss (energy) function.

    L_D = E[D(x)] + lambda E[(Delta(x, G(z)) + D(x) - D(G(z)))+] + kappa (R(x) + R(G(z))),
    L_G = E[D(G(z))], Delta the per-pair distance ``sample_distance`` between a real and a generated
    sample (paired by their place in the batch) times ``delta_scale``; R = ``gradient_norm_penalty``,
    the course's own penalty on the squared gradient norm, which keeps D's slope small (LS-GAN asks for
    a Lipschitz D; see ``gradient_norm_penalty`` for where the penalty comes from).
    ``lam`` (> 0), ``lipschitz_weight`` (kappa >= 0; 0: no Lipschitz regularization) and
    ``delta_scale`` (> 0) are numbers or one per ensemble member; ``distance`` is "l1" (the paper) or "l2".
    """

    def __init__(self, lam=1.0, lipschitz_weight=1.0, delta_scale=1.0, distance: str = "l1"):
        self.lam = _check_members("lambda (weight of the margin term)", lam, _check_positive)
        self.lipschitz_weight = _check_members("lipschitz_weight", lipschitz_weight,
                                               lambda n, v: _check_positive(n, v, allow_zero=True))
        self.delta_scale = _check_members("delta_scale", delta_scale, _check_positive)
        if distance not in ("l1", "l2"):
            raise ValueError(f"distance must be 'l1' or 'l2', got {distance!r}")
        self.distance = distance
        self.members = n_members(lam=self.lam, lipschitz_weight=self.lipschitz_weight, delta_scale=self.delta_scale)
        self.name = f"ls-gan[lambda={_fmt(self.lam)}, kappa={_fmt(self.lipschitz_weight)}]"

    def d_loss(self, D, x_real, x_fake):
        n = batch_ndim(D)
        distance = sample_distance(x_real, x_fake, self.distance, n)
        delta = _col(self.delta_scale, distance) * distance
        loss, parts = lsgan_d_loss(D(x_real), D(x_fake), delta, self.lam)
        if _on(self.lipschitz_weight):
            penalty = gradient_norm_penalty(D, x_real) + gradient_norm_penalty(D, x_fake)
            loss = loss + _col(self.lipschitz_weight, penalty) * penalty
            parts.update(_parts(d_loss=loss, grad_penalty=penalty))
        return loss, parts

    def g_loss(self, D, x_fake, z):
        return lsgan_g_loss(D(x_fake))


class BEGANObjective(Objective):
    """BEGAN (Berthelot, Schumm, Metz 2017, arXiv:1703.10717): L_D = L(x) - k_t L(G(z)), L_G = L(G(z)).

    After every generator step ``update_k`` sets k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
    and the convergence measure M_global = L(x) + |gamma L(x) - L(G(z))| is logged. Use an
    autoencoder discriminator with ``norm="l1"`` (pixel-wise L1 loss, as in the paper).
    ``gamma`` (in (0, 1]), ``lambda_k`` (>= 0) and ``k0`` (in [0, 1]) are numbers or one per
    ensemble member; every member keeps its own k_t.
    """

    def __init__(self, gamma=0.5, lambda_k=0.001, k0=0.0):
        def check_gamma(name, v):
            if not (isinstance(v, (int, float)) and 0 < v <= 1):
                raise ValueError(f"{name} (the diversity ratio E[L(G(z))]/E[L(x)]) must lie in (0, 1], got {v!r}")
            return float(v)

        def check_k0(name, v):
            if not (isinstance(v, (int, float)) and 0 <= v <= 1):
                raise ValueError(f"{name} must lie in [0, 1], got {v!r}")
            return float(v)

        self.gamma = _check_members("gamma", gamma, check_gamma)
        self.lambda_k = _check_members("lambda_k (the learning rate of k_t)", lambda_k,
                                       lambda n, v: _check_positive(n, v, allow_zero=True))
        self.k = _check_members("k0", k0, check_k0)
        self.members = n_members(gamma=self.gamma, lambda_k=self.lambda_k, k0=self.k)
        self.name = f"began[gamma={_fmt(self.gamma)}]"

    def d_loss(self, D, x_real, x_fake):
        return began_d_loss(D(x_real), D(x_fake), self.k)

    def g_loss(self, D, x_fake, z):
        return began_g_loss(D(x_fake))

    def update_k(self, e_real, e_fake):
        """k <- clip(k + lambda_k (gamma e_real - e_fake), 0, 1); returns the new k (a tensor when the energies are)."""
        self.k = began_k_update(self.k, e_real, e_fake, self.gamma, self.lambda_k)
        return self.k

    def update(self, parts):
        m_global = began_convergence(parts["e_real"], parts["e_fake_g"], self.gamma)
        return {"k": self.update_k(parts["e_real"], parts["e_fake_g"]), "M_global": m_global}

    def state(self):
        return {"k": _number(self.k), "gamma": _number(self.gamma)}


# ================================================================ training GANs: WGAN, WGAN-GP, unrolled GAN
# WGAN's critic outputs ``d_real`` = D(x), ``d_fake`` = D(G(z)) are unbounded real numbers (no sigmoid);
# the unrolled GAN's are logits, as in the GAN family above.
from torch.func import functional_call  # noqa: E402  (kept inside this section)

import numbers as _numbers  # noqa: E402

import numpy as _np  # noqa: E402

from .models import to_device  # noqa: E402


def wgan_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor):
    """L_D = E_z[D(G(z))] - E_x[D(x)]: the critic maximises E_x[D(x)] - E_z[D(G(z))] (Arjovsky, Chintala, Bottou 2017, arXiv:1701.07875, Algorithm 1)."""
    loss_real = -d_real.mean(-1)
    loss_fake = d_fake.mean(-1)
    loss = loss_real + loss_fake
    return loss, _parts(d_loss=loss, wasserstein=-loss, d_real=d_real.mean(-1), d_fake=d_fake.mean(-1))


def wgan_g_loss(d_fake: torch.Tensor):
    """L_G = -E_z[D(G(z))] (Arjovsky et al. 2017, Algorithm 1)."""
    loss = -d_fake.mean(-1)
    return loss, _parts(g_loss=loss)


def interpolates(x_real: torch.Tensor, x_fake: torch.Tensor, generator=None, n_batch_dims: int = 1) -> torch.Tensor:
    """x_hat = eps x + (1 - eps) G(z), one eps ~ U[0, 1] per sample (Gulrajani et al. 2017, arXiv:1704.00028, Algorithm 1); detached.

    eps is drawn from ``generator`` on its device (a CPU generator: the same numbers on every device), one per
    sample. For an ensemble (``n_batch_dims=2``, x of shape (K, B, ...)) ``generator`` is one torch.Generator, whose
    B numbers every member shares, or a list of K generators, one per member: member k then draws from its own
    stream exactly the numbers its single run draws from that generator.
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(f"real and generated batches must have the same shape, got {tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    lead, b = x_real.shape[:n_batch_dims - 1], x_real.shape[n_batch_dims - 1]
    if isinstance(generator, (list, tuple)):  # one stream per member: eps (K, B)
        if len(lead) != 1 or len(generator) != lead[0]:
            raise ValueError(f"{len(generator)} eps generators for a batch of shape {tuple(x_real.shape)}: give one generator, "
                             f"or one per ensemble member (a batch of shape (K, B, ...) with K = {len(generator)})")
        eps = torch.stack([to_device(torch.rand(b, generator=g, device=g.device), x_real.device, x_real.dtype) for g in generator])
    else:
        eps = torch.rand(b, generator=generator, device=generator.device if generator is not None else "cpu")
        eps = to_device(eps, x_real.device, x_real.dtype).expand(*lead, b)
    eps = eps.reshape(*lead, b, *([1] * (x_real.ndim - n_batch_dims)))  # (B, 1, ...) or (K, B, 1, ...)
    return eps * x_real.detach() + (1 - eps) * x_fake.detach()


def gradient_penalty(D, x_real: torch.Tensor, x_fake: torch.Tensor, generator=None, lam=10.0):
    """R = lambda E_x_hat[(||grad_x_hat D(x_hat)||_2 - 1)^2], one norm per sample (Gulrajani et al. 2017, eq. 3); (K,) for ensembles.

    ``generator``: the eps stream (``interpolates``), one torch.Generator or, for an ensemble, one per member.
    The gradient of sum_i D(x_hat_i) with respect to x_hat_i is D's gradient at x_hat_i because D treats samples
    independently; with minibatch discrimination (``models.MinibatchDiscriminator``) it would mix samples.
    """
    n = batch_ndim(D)
    x_hat = interpolates(x_real, x_fake, generator, n).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)  # row i: the gradient of D at x_hat_i
    norms = grad.flatten(n).norm(dim=-1)                                       # (B,) or (K, B): one norm per sample
    penalty = (norms - 1).pow(2).mean(-1)
    return _col(lam, penalty) * penalty


class WGANObjective(Objective):
    """WGAN (Arjovsky et al. 2017): L_D = E[D(G(z))] - E[D(x)], L_G = -E[D(G(z))]; after every critic step
    ``after_d_step`` clips every parameter of D (weights and biases) to [-c, c] (Algorithm 1, c = 0.01).

    The paper trains with RMSProp (lr 5e-5) and n_critic = 5; the trainer offers Adam and SGD, e.g.
    ``TrainConfig(n_critic=5, optimizer="sgd")`` or Adam with a small learning rate. ``clip`` (c > 0) is a
    number or one per ensemble member.
    """

    def __init__(self, clip=0.01):
        self.clip = _check_members("clip c (D's weights are clipped to [-c, c])", clip, _check_positive)
        self.members = n_members(clip=self.clip)
        self.name = f"wgan[c={_fmt(self.clip)}]"

    def d_loss(self, D, x_real, x_fake):
        return wgan_d_loss(D(x_real), D(x_fake))

    def g_loss(self, D, x_fake, z):
        return wgan_g_loss(D(x_fake))

    @torch.no_grad()
    def after_d_step(self, D):
        """w <- clip(w, -c, c) for every parameter of D (Arjovsky et al. 2017, Algorithm 1, line 7)."""
        for p in D.parameters():
            c = _col(self.clip, p)
            p.clamp_(min=-c, max=c)


def eps_seed(seed: int, t: int) -> int:
    """The 32-bit seed of the eps stream of critic step t of the run with ``seed``: numpy's SeedSequence((seed, t)).

    torch's CPU generator keeps only the low 32 bits of a seed, so (seed << 32) + t would give every seed the
    same stream; SeedSequence mixes all bits of (seed, t), so different seeds (or steps) give unrelated streams.
    """
    return int(_np.random.SeedSequence((seed, t)).generate_state(1)[0])


def _check_seed(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, _numbers.Integral) or v < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
    return int(v)


class WGANGPObjective(Objective):
    """WGAN-GP (Gulrajani et al. 2017): L_D = E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2], L_G = -E[D(G(z))].

    x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample (``interpolates``). The eps of the t-th critic step
    come from a torch.Generator seeded with ``eps_seed(seed, t)`` (``generators()``), so a run draws the same numbers
    whether it is trained in one go or loaded from the run store and continued, and different seeds draw different
    numbers. ``seed`` is an integer >= 0, or one per ensemble member: member k then draws what its single run with
    seed_k draws (one integer: every member draws the numbers of that seed). The paper: lambda = 10, n_critic = 5,
    Adam(lr 1e-4, betas (0, 0.9)). ``lam`` (> 0) is a number or one per ensemble member.
    """

    def __init__(self, lam=10.0, seed=0):
        self.lam = _check_members("lam (lambda, the weight of the gradient penalty)", lam, _check_positive)
        if isinstance(seed, (list, tuple)):
            if not seed:
                raise ValueError("seed: an empty list; give one integer, or one per ensemble member")
            seed = tuple(_check_seed(f"seed of member {i}", s) for i, s in enumerate(seed))
        else:
            seed = _check_seed("seed", seed)
        self.seed, self.t = seed, 0   # t: critic steps taken (which eps come next)
        self.members = n_members(lam=self.lam, seed=self.seed)
        self.name = f"wgan-gp[lambda={_fmt(self.lam)}]"

    def generators(self):
        """The CPU random streams of the next critic step's eps: one torch.Generator seeded with eps_seed(seed, t),
        or a list of them, one per member, when ``seed`` gives one per member."""
        if isinstance(self.seed, (list, tuple)):
            return [torch.Generator().manual_seed(eps_seed(s, self.t)) for s in self.seed]
        return torch.Generator().manual_seed(eps_seed(self.seed, self.t))

    def d_loss(self, D, x_real, x_fake):
        loss, parts = wgan_d_loss(D(x_real), D(x_fake))
        penalty = gradient_penalty(D, x_real, x_fake, self.generators(), self.lam)
        self.t += 1
        loss = loss + penalty
        parts.update(_parts(d_loss=loss, grad_penalty=penalty))
        return loss, parts

    def g_loss(self, D, x_fake, z):
        return wgan_g_loss(D(x_fake))

    def state(self):
        return {"t": self.t}


def unrolled_parameters(D, x_real: torch.Tensor, x_fake: torch.Tensor, steps: int, lr) -> dict:
    """phi_0 = phi, phi_{k+1} = phi_k - eta grad_phi L_D(phi_k), kept differentiable (Metz et al. 2016, arXiv:1611.02163, eq. 4).

    L_D is the GAN's cross-entropy loss on the same minibatch (x, G(z)) every step; the graph is kept
    (``create_graph``), so the result depends on G through x_fake and on D's parameters. D itself is not changed.
    Returns {name: tensor}, the parameters for ``torch.func.functional_call(D, ...)``.
    """
    params = dict(D.named_parameters())
    trained = [n for n, p in params.items() if p.requires_grad]
    buffers = dict(D.named_buffers())
    for _ in range(steps):
        d_real = functional_call(D, (params, buffers), (x_real,))
        d_fake = functional_call(D, (params, buffers), (x_fake,))
        loss, _ = d_loss_cross_entropy(d_real, d_fake)  # (K,) for an ensemble: the sum gives each member its own gradient
        grads = torch.autograd.grad(loss.sum(), [params[n] for n in trained], create_graph=True)
        params = {**params, **{n: params[n] - _col(lr, params[n]) * g for n, g in zip(trained, grads)}}
    return params


def unrolled_g_loss(D, x_real: torch.Tensor, x_fake: torch.Tensor, steps: int, lr, generator_loss: str = "minimax"):
    """L_G = E_z[log(1 - D_k(G(z)))], D_k = D after k differentiable gradient steps (``unrolled_parameters``) (Metz et al. 2016, eqs. 5-6).

    That is the paper's surrogate f_K(theta_G, theta_D) = f(theta_G, theta_D^K), the game's value under the unrolled D,
    which G minimises ("minimax"); ``generator_loss`` may name another of ``GENERATOR_LOSSES``, e.g. "non_saturating"
    (-E_z[log D_k(G(z))]), applied to the same unrolled D.
    """
    g_loss_fn = _generator_loss_named(generator_loss)
    params = unrolled_parameters(D, x_real, x_fake, steps, lr)
    d_fake = functional_call(D, (params, dict(D.named_buffers())), (x_fake,))
    loss, parts = g_loss_fn(d_fake)
    parts.update(_parts(D_fake_unrolled=torch.sigmoid(d_fake).mean(-1)))
    return loss, parts


class _LastBatch:
    """The last real minibatch; an object (not a number or tensor), so the run store neither keys nor saves it."""

    x = None


class UnrolledGANObjective(Objective):
    """Unrolled GAN (Metz, Poole, Pfau, Sohl-Dickstein 2016, arXiv:1611.02163): D learns with the cross-entropy
    loss; G minimises the game's value E_z[log(1 - D_k(G(z)))] against D unrolled k = ``unroll_steps`` steps ahead
    (the paper's eqs. 5-6: G differentiates the saddle objective f(theta_G, theta_D^K)), and the gradient flows back
    through the unrolling, so G sees how D would answer its move (which discourages collapsing onto the mode D
    currently rates best). ``generator_loss`` names the loss applied to D_k: "minimax" (the paper, the default) or
    another of ``GENERATOR_LOSSES``, e.g. "non_saturating" (-E_z[log D_k(G(z))], the common heuristic).

    Decisions: the unrolled steps are plain gradient descent with step ``unroll_lr`` (the paper unrolls its
    optimizer, Adam; from a fresh state Adam's first step is lr * sign(g), whose derivative is zero, and the trainer's
    Adam state is not the objective's to read); every unrolled step uses the real minibatch of the last
    discriminator step and the generator's current batch G(z); k = 0 is the plain GAN with that generator loss (for
    comparisons, same code path); k < 0 is an error. ``g_loss`` never changes D's weights. Ensembles work;
    ``unroll_lr`` may be one per member.
    """

    def __init__(self, unroll_steps: int = 5, unroll_lr=0.1, generator_loss: str = "minimax"):
        if isinstance(unroll_steps, bool) or not isinstance(unroll_steps, int) or unroll_steps < 0:
            raise ValueError(f"unroll_steps (k, the discriminator steps G looks ahead) must be an integer >= 0 "
                             f"(0: the plain GAN), got {unroll_steps!r}")
        self.unroll_steps = unroll_steps
        self.unroll_lr = _check_members("unroll_lr (the step size of the unrolled discriminator updates)", unroll_lr,
                                        _check_positive)
        _generator_loss_named(generator_loss)  # a clear ValueError for an unknown name
        self.generator_loss = generator_loss
        self.members = n_members(unroll_lr=self.unroll_lr)
        self.name = f"unrolled-gan[k={unroll_steps}]" if generator_loss == "minimax" else \
            f"unrolled-gan[k={unroll_steps}, {generator_loss}]"
        self._last = _LastBatch()

    def d_loss(self, D, x_real, x_fake):
        self._last.x = x_real.detach()
        return d_loss_cross_entropy(D(x_real), D(x_fake))

    def g_loss(self, D, x_fake, z):
        if self.unroll_steps and self._last.x is None:
            raise ValueError("the unrolled generator loss needs a real minibatch: call d_loss first (the trainer does, every step)")
        return unrolled_g_loss(D, self._last.x, x_fake, self.unroll_steps, self.unroll_lr, self.generator_loss)

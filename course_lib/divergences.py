"""f-divergences and their variational lower bounds: f-GAN (Nowozin, Cseke, Tomioka 2016, arXiv:1606.00709).

D_f(P || Q) = int q(x) f(p(x)/q(x)) dx with f convex and f(1) = 0 (section 2). For any critic T,
D_f(P || Q) >= E_P[T(x)] - E_Q[f*(T(x))], f*(t) = sup_u (u t - f(u)) the convex conjugate,
with equality at T*(x) = f'(p(x)/q(x)) (section 2, after Nguyen, Wainwright, Jordan 2010). The critic
network outputs a real number v = V(x); the output activation g_f maps it into dom f*, T = g_f(V)
(Eq. 6, Table 2). ``p`` is the data (P), ``q`` the generator (Q): real first, then fake, as everywhere.

============  ================================  ==================  ======================  ===========  ====================
name          f(u)                              f*(t)               g_f(v)                  dom f*       D_f(P || Q)
============  ================================  ==================  ======================  ===========  ====================
kl            u log u                           exp(t - 1)          v                       R            KL(P || Q)
reverse_kl    -log u                            -1 - log(-t)        -exp(-v)                t < 0        KL(Q || P)
pearson       (u - 1)^2                         t^2/4 + t           v                       R            int (p - q)^2 / q
hellinger     (sqrt(u) - 1)^2                   t / (1 - t)         1 - exp(-v)             t < 1        int (sqrt p - sqrt q)^2
js            -(u+1) log((1+u)/2) + u log u     -log(2 - exp(t))    log 2 - log(1+exp(-v))  t < log 2    2 JSD(P || Q)
gan           u log u - (u+1) log(u+1)          -log(1 - exp(t))    -log(1 + exp(-v))       t < 0        2 JSD(P || Q) - log 4
============  ================================  ==================  ======================  ===========  ====================

Two conventions to know. (1) ``js`` uses the paper's f, f* and g_f (Tables 1 and 2); that f integrates to
int p log(2p/(p+q)) + q log(2q/(p+q)) = 2 JSD, twice the Jensen-Shannon divergence of ``metrics.js_divergence``
(Table 1 writes a factor 1/2 in front of the integral, which its f does not have). (2) ``pearson``'s f is
taken on all of R, as the conjugate of Table 2 (defined for every t) requires.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from . import models
from .losses import Objective, _parts

LOG2 = math.log(2.0)
INF = math.inf


@dataclass(frozen=True)
class _FDivergence:
    f: Callable                    # the generator f(u)
    f_prime: Callable              # f'(u): the optimal critic is T*(x) = f'(p(x)/q(x))
    conjugate: Callable            # f*(t) on dom f*
    activation: Callable           # g_f(v): R -> dom f*
    inverse_activation: Callable   # g_f^{-1}(t)
    conjugate_of_activation: Callable  # f*(g_f(v)), written to stay finite for large |v|
    perspective: Callable          # q f(p/q), written to hold where p or q is 0
    domain: tuple                  # dom f* = the range of g_f, an open interval (lo, hi)
    f_domain: tuple = field(default=(0.0, INF))  # where f is defined (u = p/q >= 0, except pearson)


def _xlogy(a, b):
    return torch.xlogy(a, b)


_TABLE = {
    "kl": _FDivergence(
        f=lambda u: _xlogy(u, u),
        f_prime=lambda u: torch.log(u) + 1,
        conjugate=lambda t: torch.exp(t - 1),
        activation=lambda v: v,
        inverse_activation=lambda t: t,
        conjugate_of_activation=lambda v: torch.exp(v - 1),
        perspective=lambda p, q: _xlogy(p, p) - _xlogy(p, q),
        domain=(-INF, INF)),
    "reverse_kl": _FDivergence(
        f=lambda u: -torch.log(u),
        f_prime=lambda u: -1 / u,
        conjugate=lambda t: -1 - torch.log(-t),
        activation=lambda v: -torch.exp(-v),
        inverse_activation=lambda t: -torch.log(-t),
        conjugate_of_activation=lambda v: v - 1,
        perspective=lambda p, q: _xlogy(q, q) - _xlogy(q, p),
        domain=(-INF, 0.0)),
    "pearson": _FDivergence(
        f=lambda u: (u - 1) ** 2,
        f_prime=lambda u: 2 * (u - 1),
        conjugate=lambda t: t ** 2 / 4 + t,
        activation=lambda v: v,
        inverse_activation=lambda t: t,
        conjugate_of_activation=lambda v: v ** 2 / 4 + v,
        perspective=lambda p, q: torch.where(q > 0, (p - q) ** 2 / q.clamp_min(1e-300),
                                             torch.where(p > 0, torch.full_like(p, INF), torch.zeros_like(p))),
        domain=(-INF, INF), f_domain=(-INF, INF)),
    "hellinger": _FDivergence(
        f=lambda u: (torch.sqrt(u) - 1) ** 2,
        f_prime=lambda u: 1 - 1 / torch.sqrt(u),
        conjugate=lambda t: t / (1 - t),
        activation=lambda v: -torch.expm1(-v),
        inverse_activation=lambda t: -torch.log1p(-t),
        conjugate_of_activation=lambda v: torch.expm1(v),
        perspective=lambda p, q: (torch.sqrt(p) - torch.sqrt(q)) ** 2,
        domain=(-INF, 1.0)),
    "js": _FDivergence(
        f=lambda u: -(u + 1) * torch.log((1 + u) / 2) + _xlogy(u, u),
        f_prime=lambda u: torch.log(2 * u / (1 + u)),
        conjugate=lambda t: -torch.log(2 - torch.exp(t)),
        activation=lambda v: LOG2 - F.softplus(-v),
        inverse_activation=lambda t: -torch.log(2 * torch.exp(-t) - 1),
        conjugate_of_activation=lambda v: F.softplus(v) - LOG2,
        perspective=lambda p, q: (_xlogy(p, p) + _xlogy(q, q) - _xlogy(p + q, p + q) + LOG2 * (p + q)),
        domain=(-INF, LOG2)),
    "gan": _FDivergence(
        f=lambda u: _xlogy(u, u) - (u + 1) * torch.log(u + 1),
        f_prime=lambda u: torch.log(u / (1 + u)),
        conjugate=lambda t: -torch.log(-torch.expm1(t)),
        activation=lambda v: -F.softplus(-v),
        inverse_activation=lambda t: t - torch.log(-torch.expm1(t)),
        conjugate_of_activation=lambda v: F.softplus(v),
        perspective=lambda p, q: _xlogy(p, p) + _xlogy(q, q) - _xlogy(p + q, p + q),
        domain=(-INF, 0.0)),
}
DIVERGENCES = tuple(_TABLE)


def _get(name: str) -> _FDivergence:
    if name not in _TABLE:
        raise ValueError(f"unknown f-divergence {name!r}; choose one of {DIVERGENCES}")
    return _TABLE[name]


def _t(x) -> torch.Tensor:
    """x as a floating tensor (float64 unless it is a floating tensor already)."""
    return x if torch.is_tensor(x) and x.is_floating_point() else torch.as_tensor(x, dtype=torch.float64)


def f(name: str, u) -> torch.Tensor:
    """The generator f(u) of the f-divergence ``name`` (Nowozin et al. 2016, Table 1)."""
    return _get(name).f(_t(u))


def f_prime(name: str, u) -> torch.Tensor:
    """f'(u); T*(x) = f'(p(x)/q(x)) is the critic that makes the bound tight (Nowozin et al. 2016, section 2)."""
    return _get(name).f_prime(_t(u))


def optimal_critic(name: str, p, q) -> torch.Tensor:
    """T*(x) = f'(p(x)/q(x)) from the two densities at x (Nowozin et al. 2016, section 2)."""
    p, q = _t(p), _t(q)
    return f_prime(name, p / q)


def conjugate(name: str, t) -> torch.Tensor:
    """f*(t) = sup_u (u t - f(u)) (Nowozin et al. 2016, Table 2); +inf outside dom f*."""
    d, t = _get(name), _t(t)
    lo, hi = d.domain
    inside = (t > lo) & (t < hi)
    safe = torch.where(inside, t, torch.full_like(t, -1.0))  # -1 lies in every dom f*; the masked values are replaced
    return torch.where(inside, d.conjugate(safe), INF)


def activation(name: str, v) -> torch.Tensor:
    """T = g_f(v): maps the critic's real output into dom f* (Nowozin et al. 2016, Table 2)."""
    return _get(name).activation(_t(v))


def inverse_activation(name: str, t) -> torch.Tensor:
    """v = g_f^{-1}(t): the network output that gives the critic value t in dom f*."""
    return _get(name).inverse_activation(_t(t))


def conjugate_domain(name: str) -> tuple:
    """dom f* = the range of g_f, an open interval (lo, hi) (Nowozin et al. 2016, Table 2)."""
    return _get(name).domain


def f_domain(name: str) -> tuple:
    """Where the generator f is defined (u = p/q): (0, inf), or all of R for pearson."""
    return _get(name).f_domain


def variational_bound(name: str, v_real: torch.Tensor, v_fake: torch.Tensor) -> torch.Tensor:
    """F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))] <= D_f(P || Q) (Nowozin et al. 2016, Eq. 6); per member for (K, B) inputs."""
    d = _get(name)
    return d.activation(v_real).mean(-1) - d.conjugate_of_activation(v_fake).mean(-1)


def exact_divergence(name: str, p, q, x) -> float:
    """D_f(P || Q) = int q(x) f(p(x)/q(x)) dx by the trapezoid rule on the 1-D grid x (densities p, q at x)."""
    d = _get(name)
    p, q, x = _t(p), _t(q), _t(x)
    if not (p.ndim == q.ndim == x.ndim == 1 and len(p) == len(q) == len(x) >= 2):
        raise ValueError(f"p, q and x must be 1-D arrays of one length >= 2, got shapes {tuple(p.shape)}, "
                         f"{tuple(q.shape)} and {tuple(x.shape)}")
    if not bool((x[1:] > x[:-1]).all()):
        raise ValueError("the grid x must be strictly increasing")
    if bool((p < 0).any()) or bool((q < 0).any()):
        raise ValueError("densities p and q must be >= 0 everywhere on the grid")
    return float(torch.trapezoid(d.perspective(p, q), x))


def gaussian_kl(m1: float, s1: float, m2: float, s2: float) -> float:
    """KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2, in nats."""
    if not (s1 > 0 and s2 > 0):
        raise ValueError(f"standard deviations must be > 0, got s1={s1!r}, s2={s2!r}")
    return math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


# ---------------------------------------------------------------- f-GAN losses and objective
def fgan_d_loss(name: str, v_real: torch.Tensor, v_fake: torch.Tensor):
    """L_D = -(E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]): the critic maximises the bound (Nowozin et al. 2016, Eq. 6)."""
    d = _get(name)
    t_real = d.activation(v_real).mean(-1)
    conj_fake = d.conjugate_of_activation(v_fake).mean(-1)
    bound = t_real - conj_fake
    loss = -bound
    return loss, _parts(d_loss=loss, bound=bound, T_real=t_real, conj_fake=conj_fake)


def fgan_g_loss_alternative(name: str, v_fake: torch.Tensor):
    """L_G = -E_Q[g_f(V(G(z)))]: the paper's practical generator loss (Nowozin et al. 2016, section 3, practical considerations)."""
    loss = -_get(name).activation(v_fake).mean(-1)
    return loss, _parts(g_loss=loss)


def fgan_g_loss_saddle(name: str, v_fake: torch.Tensor):
    """L_G = -E_Q[f*(g_f(V(G(z))))]: G's part of the saddle-point objective (Nowozin et al. 2016, Eq. 6)."""
    loss = -_get(name).conjugate_of_activation(v_fake).mean(-1)
    return loss, _parts(g_loss=loss)


FGAN_GENERATOR_LOSSES = {"alternative": fgan_g_loss_alternative, "saddle": fgan_g_loss_saddle}


def fgan_g_loss(name: str, v_fake: torch.Tensor, kind: str = "alternative"):
    """The f-GAN generator loss ``kind``, one of ``FGAN_GENERATOR_LOSSES`` ("alternative" or "saddle")."""
    if kind not in FGAN_GENERATOR_LOSSES:
        raise ValueError(f"unknown f-GAN generator loss {kind!r}; choose 'alternative' or 'saddle'")
    return FGAN_GENERATOR_LOSSES[kind](name, v_fake)


class FGANObjective(Objective):
    """f-GAN (Nowozin et al. 2016): D is the variational function V, T = g_f(V); the critic maximises
    F = E_P[g_f(V)] - E_Q[f*(g_f(V))] (its loss is -F) and ``bound`` logs F, the estimate of D_f(P || Q_G).

    The generator loss: ``"alternative"`` (default), minimise -E_Q[g_f(V(G(z)))], the paper's practical
    choice (section 3, practical considerations), which generalises the non-saturating loss of Goodfellow
    et al. 2014 (for ``gan`` it is exactly -E log D(G(z))) and gives stronger gradients when D rejects the
    fakes; or ``"saddle"``, minimise -E_Q[f*(g_f(V(G(z))))], G's part of Eq. 6 itself, under which G
    minimises D_f when the critic is optimal (for ``gan``: the minimax loss). Both are stationary at Q = P,
    where T* = f'(1) is constant.
    """

    def __init__(self, divergence: str = "js", generator_loss: str = "alternative"):
        _get(divergence)
        if generator_loss not in FGAN_GENERATOR_LOSSES:
            raise ValueError(f"unknown f-GAN generator loss {generator_loss!r}; choose 'alternative' or 'saddle'")
        self.divergence, self.generator_loss = divergence, generator_loss
        self.name = f"f-gan[{divergence}]" + ("" if generator_loss == "alternative" else "[saddle]")

    def d_loss(self, D, x_real, x_fake):
        return fgan_d_loss(self.divergence, D(x_real), D(x_fake))

    def g_loss(self, D, x_fake, z):
        return FGAN_GENERATOR_LOSSES[self.generator_loss](self.divergence, D(x_fake))


# ---------------------------------------------------------------- estimating D_f with a trained critic
@dataclass
class CriticFit:
    bound: float        # F = E_P[g_f(V)] - E_Q[f*(g_f(V))] on fresh samples after training (<= D_f up to sampling noise)
    critic: torch.nn.Module  # V: x (B, dim) -> (B,), in eval mode
    history: list       # the minibatch bound after every step


def fit_critic_bound(name: str, sample_p: Callable, sample_q: Callable, steps: int = 500, batch_size: int = 512,
                     hidden: int = 32, depth: int = 2, lr: float = 5e-3, n_eval: int = 50_000, seed: int = 0,
                     device="cpu") -> CriticFit:
    """max_V E_P[g_f(V)] - E_Q[f*(g_f(V))] by Adam on an MLP critic; ``sample_p(n, generator)``, ``sample_q`` give (n, dim) on the CPU."""
    _get(name)
    if not (isinstance(steps, int) and steps >= 1 and isinstance(n_eval, int) and n_eval >= 1):
        raise ValueError(f"steps and n_eval must be positive integers, got steps={steps!r}, n_eval={n_eval!r}")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    dim = sample_p(1, gen).shape[-1]
    with torch.random.fork_rng(devices=[]):  # the critic's initial weights from ``seed``, the global stream untouched
        torch.manual_seed(seed)
        critic = models.Discriminator(dim, hidden, depth).to(device)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    draw = lambda sampler, n: models.to_device(sampler(n, gen), device, torch.float32)  # noqa: E731
    history = []
    for _ in range(steps):
        bound = variational_bound(name, critic(draw(sample_p, batch_size)), critic(draw(sample_q, batch_size)))
        opt.zero_grad(set_to_none=True)
        (-bound).backward()
        opt.step()
        history.append(bound.detach())
    critic.eval()
    with torch.no_grad():
        final = variational_bound(name, critic(draw(sample_p, n_eval)), critic(draw(sample_q, n_eval)))
    return CriticFit(float(final), critic, torch.stack(history).cpu().tolist())

"""Factor analysis fitted by EM, and the ELBO identity log p(x) = ELBO(q) + KL(q || p(z|x)).

The model (Bishop 2006, "Pattern Recognition and Machine Learning", section 12.2.4; EM for it:
Rubin & Thayer 1982, Ghahramani & Hinton 1996):

    z ~ N(0, I_K),   x = W z + mu + eps,   eps ~ N(0, Psi),  Psi = diag(psi),

so that p(x) = N(mu, W W^T + Psi): a low-rank *shared* part W W^T plus a diagonal *private*
part Psi. Shapes: x (N, D), W (D, K), mu (D,), psi (D,). Everything runs in float64 on the CPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

_LOG2PI = math.log(2 * math.pi)


@dataclass
class FAParams:
    """Factor-analysis parameters: loadings W (D, K), mean mu (D,), private variances psi (D,)."""

    W: torch.Tensor    # (D, K) factor loadings
    mu: torch.Tensor   # (D,) mean
    psi: torch.Tensor  # (D,) diagonal of Psi, > 0

    def __post_init__(self):
        self.W, self.mu, self.psi = (torch.as_tensor(t, dtype=torch.float64) for t in (self.W, self.mu, self.psi))
        D = self.W.shape[0]
        if self.W.ndim != 2 or self.mu.shape != (D,) or self.psi.shape != (D,):
            raise ValueError(f"need W (D, K), mu (D,), psi (D,); got {tuple(self.W.shape)}, "
                             f"{tuple(self.mu.shape)}, {tuple(self.psi.shape)}")
        if not bool((self.psi > 0).all()):
            raise ValueError("psi (the private variances) must be > 0")

    @property
    def D(self) -> int:
        return self.W.shape[0]

    @property
    def K(self) -> int:
        return self.W.shape[1]

    def covariance(self) -> torch.Tensor:
        """C = W W^T + Psi, the covariance of the marginal p(x) = N(mu, C), (D, D)."""
        return self.W @ self.W.T + torch.diag(self.psi)


def _x(x) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be (N, D), got shape {tuple(x.shape)}")
    return x


def sample_fa(params: FAParams, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw n points: z ~ N(0, I), x = W z + mu + sqrt(psi) * eps; returns (x (n, D), z (n, K))."""
    z = torch.randn(n, params.K, generator=generator, dtype=torch.float64)
    eps = torch.randn(n, params.D, generator=generator, dtype=torch.float64)
    return z @ params.W.T + params.mu + eps * params.psi.sqrt(), z


def log_likelihood(x, params: FAParams) -> torch.Tensor:
    """log N(x; mu, W W^T + Psi) per point, (N,), via a Cholesky factor of the covariance."""
    x = _x(x)
    L = torch.linalg.cholesky(params.covariance())
    r = torch.linalg.solve_triangular(L, (x - params.mu).T, upper=False)  # (D, N) = L^{-1}(x - mu)
    return -0.5 * (params.D * _LOG2PI + 2 * torch.log(torch.diagonal(L)).sum() + (r ** 2).sum(0))


def posterior(x, params: FAParams) -> tuple[torch.Tensor, torch.Tensor]:
    """p(z | x) = N(m, S): S = (I + W^T Psi^-1 W)^-1, m = S W^T Psi^-1 (x - mu); returns m (N, K) and S (K, K)."""
    x = _x(x)
    WtPinv = params.W.T / params.psi                                   # (K, D) = W^T Psi^-1
    S = torch.linalg.inv(torch.eye(params.K, dtype=torch.float64) + WtPinv @ params.W)
    m = (x - params.mu) @ (S @ WtPinv).T                               # (N, K)
    return m, S


def e_step(x, params: FAParams) -> tuple[torch.Tensor, torch.Tensor]:
    """The two sufficient statistics per point: E[z | x_i] = m_i (N, K) and E[z z^T | x_i] = S + m_i m_i^T (N, K, K)."""
    m, S = posterior(x, params)
    return m, S[None] + m[:, :, None] * m[:, None, :]


def m_step(x, Ez: torch.Tensor, Ezz: torch.Tensor, mu: torch.Tensor) -> FAParams:
    """W = [sum_i (x_i - mu) E[z_i]^T] [sum_i E[z_i z_i^T]]^-1,  psi = diag(1/N sum_i [(x_i - mu)(x_i - mu)^T - W E[z_i] (x_i - mu)^T])
    with the new W in the second term (Bishop eq. 12.69-12.70: Psi = diag(S - W 1/N sum_i E[z_i](x_i - mu)^T))."""
    x = _x(x)
    xc = x - mu                                                         # (N, D)
    W = torch.linalg.solve(Ezz.sum(0), (xc.T @ Ez).T).T               # (D, K); sum E[zz^T] is symmetric
    psi = ((xc * xc).mean(0) - ((xc.T @ Ez) / len(x) * W).sum(1)).clamp_min(1e-9)
    return FAParams(W, mu, psi)


def fit_em(x, n_factors: int, iters: int = 200, seed: int = 0, init: FAParams | None = None,
           tol: float = 0.0) -> tuple[FAParams, list]:
    """Maximum-likelihood factor analysis by EM; returns the parameters and the mean log-likelihood before each step and at the end.

    mu is the sample mean (its maximum-likelihood value, fixed); W starts as N(0, 0.1 * var) entries
    from ``seed`` unless ``init`` is given; psi starts as the sample variances. Stops early when the
    mean log-likelihood rises by less than ``tol`` in one iteration (tol=0: run all ``iters``).
    """
    x = _x(x)
    if not (isinstance(n_factors, int) and 1 <= n_factors < x.shape[1]):
        raise ValueError(f"n_factors must be an integer in [1, D-1] = [1, {x.shape[1] - 1}], got {n_factors!r}")
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    mu = x.mean(0)
    if init is None:
        g = torch.Generator().manual_seed(seed)
        var = x.var(0)
        W0 = torch.randn(x.shape[1], n_factors, generator=g, dtype=torch.float64) * (0.1 * var).sqrt()[:, None]
        init = FAParams(W0, mu, var.clone())
    params = FAParams(init.W, mu, init.psi)
    history = [float(log_likelihood(x, params).mean())]
    for _ in range(iters):
        params = m_step(x, *e_step(x, params), mu)
        history.append(float(log_likelihood(x, params).mean()))
        if tol > 0 and history[-1] - history[-2] < tol:
            break
    return params, history


def align_rotation(W_hat, W_true) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthogonal Procrustes: R = U V^T from svd(W_hat^T W_true) minimises ||W_hat R - W_true||_F; returns (W_hat R, R).

    p(x) depends on W only through W W^T, so W is identified only up to such a rotation R."""
    W_hat, W_true = (torch.as_tensor(t, dtype=torch.float64) for t in (W_hat, W_true))
    if W_hat.shape != W_true.shape:
        raise ValueError(f"W_hat and W_true must have the same shape, got {tuple(W_hat.shape)} and {tuple(W_true.shape)}")
    U, _, Vh = torch.linalg.svd(W_hat.T @ W_true)
    R = U @ Vh
    return W_hat @ R, R


def decompose_orthogonal_2d(R) -> tuple[int | None, float]:
    """Write a 2x2 orthogonal R as R = F Rot(theta), Rot(theta) = [[cos, -sin], [sin, cos]]; returns (flipped, theta in degrees).

    det R = +1: F = I and ``flipped`` is None (a pure rotation). det R = -1 (R is a reflection): F flips the
    sign of one factor, ``flipped`` = 0 or 1, chosen so that |theta| <= 90. So W_hat R is W_hat with factor
    ``flipped``'s column negated, then rotated by theta."""
    R = torch.as_tensor(R, dtype=torch.float64)
    if R.shape != (2, 2) or not torch.allclose(R @ R.T, torch.eye(2, dtype=torch.float64), atol=1e-8):
        raise ValueError(f"R must be a 2x2 orthogonal matrix (R R^T = I), got shape {tuple(R.shape)}")
    flipped = None
    if float(torch.det(R)) < 0:
        F1 = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))    # flips factor 1 (0-based)
        rot = F1 @ R                                                       # F is its own inverse
        flipped = 1
        if float(rot[0, 0]) < 0:     # flipping factor 0 instead (F0 = -F1) turns the rotation by 180 degrees
            rot, flipped = -rot, 0
        R = rot
    return flipped, math.degrees(math.atan2(float(R[1, 0]), float(R[0, 0])))


def gaussian_kl(m1, S1, m2, S2) -> torch.Tensor:
    """KL(N(m1, S1) || N(m2, S2)) = 1/2 [tr(S2^-1 S1) + (m2-m1)^T S2^-1 (m2-m1) - K + log det S2 - log det S1]."""
    m1, S1, m2, S2 = (torch.as_tensor(t, dtype=torch.float64) for t in (m1, S1, m2, S2))
    K = m1.shape[-1]
    d = (m2 - m1)[..., None]
    S2inv = torch.linalg.inv(S2)
    return 0.5 * (torch.diagonal(S2inv @ S1, dim1=-2, dim2=-1).sum(-1) + (d.transpose(-1, -2) @ S2inv @ d)[..., 0, 0]
                  - K + torch.logdet(S2) - torch.logdet(S1))


def elbo(x, params: FAParams, q_mean, q_cov) -> torch.Tensor:
    """ELBO(q) = E_q[log p(x | z)] + E_q[log p(z)] + H[q] for a Gaussian q(z) = N(q_mean, q_cov), in closed form, per point (N,).

    E_q[log p(x|z)] = -1/2 [D log 2pi + sum_d log psi_d + sum_d ((x - mu - W m)_d^2 + (W S W^T)_dd) / psi_d],
    E_q[log p(z)]   = -1/2 [K log 2pi + m^T m + tr S],   H[q] = 1/2 [K log(2 pi e) + log det S].
    """
    x = _x(x)
    m = torch.as_tensor(q_mean, dtype=torch.float64).expand(len(x), params.K)   # (N, K)
    S = torch.as_tensor(q_cov, dtype=torch.float64)
    if S.shape != (params.K, params.K):
        raise ValueError(f"q_cov must be ({params.K}, {params.K}) (one covariance shared by the points), got {tuple(S.shape)}")
    r = x - params.mu - m @ params.W.T                                          # (N, D)
    wsw = torch.diagonal(params.W @ S @ params.W.T)                              # (D,)
    e_lik = -0.5 * (params.D * _LOG2PI + torch.log(params.psi).sum() + ((r ** 2 + wsw) / params.psi).sum(1))
    e_prior = -0.5 * (params.K * _LOG2PI + (m ** 2).sum(1) + torch.trace(S))
    entropy = 0.5 * (params.K * (1 + _LOG2PI) + torch.logdet(S))
    return e_lik + e_prior + entropy

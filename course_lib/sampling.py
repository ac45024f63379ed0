"""Langevin samplers for an energy U: the Metropolis-adjusted Langevin algorithm (MALA; Roberts
and Tweedie 1996) and, as a switch, the unadjusted Langevin algorithm (ULA), used in the latent
space of a generator as in Kumar et al. 2019 (arXiv:1901.08508, section 4).

One step with step size alpha > 0 proposes

    z' = z - alpha grad U(z) + sqrt(2 alpha) eps,   eps ~ N(0, I),

so q(z' | z) = N(z'; z - alpha grad U(z), 2 alpha I). MALA accepts z' with probability

    min{1, exp(-U(z') + U(z)) q(z | z') / q(z' | z)},
    log q(z' | z) = -||z' - z + alpha grad U(z)||^2 / (4 alpha) + const,

which makes exp(-U) exactly invariant; ULA always accepts and is biased by O(alpha).

Latent energy (our choice, explained in the notebook): U(z) = E_theta(G(z)) + ||z||^2 / 2, so the
chain targets pi(z) proportional to N(z; 0, I) exp(-E_theta(G(z))): the prior keeps z where G was
trained, and without it exp(-E(G(z))) need not be normalisable in z. Because the tilt exp(-E(G(z)))
depends on z only through x = G(z), the samples x = G(z) of pi follow

    p_G(x) exp(-E_theta(x)) / C,

the generator's own density p_G reweighted by exp(-E_theta): NOT p_theta = exp(-E_theta) / Z_theta.
It equals p_theta only where p_G is flat; where G has learned p_G ~ p_theta it is ~ p_theta^2 / C',
the model at half its temperature (sharper). (For an invertible G, U(z) = E_theta(G(z)) -
log |det dG/dz| would target p_theta itself.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class ChainResult:
    """What a run of Langevin chains returns."""

    z: torch.Tensor                 # (B, d) final states, on the input's device
    acceptance_rate: float          # accepted proposals / all proposals (1.0 for ULA)
    accept_per_step: list = field(default_factory=list)  # acceptance rate of each step across chains
    trace: list = field(default_factory=list)            # CPU copies of z every ``keep_every`` steps (first = start)


def _check_step(step: float) -> float:
    if not (isinstance(step, (int, float)) and math.isfinite(step) and step > 0):
        raise ValueError(f"Langevin step size alpha must be a positive finite number (e.g. 1e-2), got {step!r}")
    return float(step)


def energy_and_grad(U, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """U(z) (B,) and grad_z U(z) (B, d) by autograd, both detached (no parameter gradients are kept)."""
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        u = U(z)
        (g,) = torch.autograd.grad(u.sum(), z)
    return u.detach(), g.detach()


def log_q(z_to: torch.Tensor, z_from: torch.Tensor, grad_from: torch.Tensor, step: float) -> torch.Tensor:
    """log q(z_to | z_from) = -||z_to - z_from + alpha grad U(z_from)||^2 / (4 alpha), up to a constant that cancels; (B,)."""
    return -(z_to - z_from + step * grad_from).flatten(1).pow(2).sum(1) / (4 * step)


def langevin(U, z0: torch.Tensor, step: float, n_steps: int, adjust: bool = True,
             generator: torch.Generator | None = None, keep_every: int = 0,
             noise: float = 1.0, clamp: tuple[float, float] | None = None) -> ChainResult:
    """Run B Langevin chains from z0 (B, ...) on the energy U: MALA when ``adjust`` (Metropolis-Hastings correction), else ULA.

    ULA alone takes a noise scale sigma (z' = z - alpha grad U + sigma sqrt(2 alpha) eps, the
    temperature sigma^2) and a ``clamp`` (lo, hi) that keeps images in range; both would break
    MALA's detailed balance. Noise and uniforms are drawn on the CPU from ``generator`` and moved to
    z0's device, so a run is reproducible on any device; ULA never waits on the device.
    """
    step = _check_step(step)
    if not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    if isinstance(noise, bool) or not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"the noise scale sigma must be a finite number >= 0 (1 = the model's own temperature), got {noise!r}")
    if adjust and (noise != 1 or clamp is not None):
        raise ValueError("a noise scale other than 1 or a clamp breaks MALA's detailed balance: use adjust=False (ULA)")
    z = z0.detach().clone()
    u, g = energy_and_grad(U, z)
    trace = [z.cpu().clone()] if keep_every else []
    scale = noise * math.sqrt(2 * step)
    accepted, per_step = 0, []
    for t in range(1, n_steps + 1):
        prop = z - step * g
        if scale:
            prop = prop + scale * torch.randn(z.shape, generator=generator).to(z.device, z.dtype)
        if clamp is not None:
            prop = prop.clamp(*clamp)
        u_p, g_p = energy_and_grad(U, prop)
        if adjust:
            log_r = (u - u_p) + log_q(z, prop, g_p, step) - log_q(prop, z, g, step)  # (B,)
            log_u = torch.rand(len(z), generator=generator).log().to(z.device, log_r.dtype)
            ok = (log_u < log_r) & torch.isfinite(u_p)
            shape = (-1,) + (1,) * (z.ndim - 1)
            z = torch.where(ok.view(shape), prop, z)
            u = torch.where(ok, u_p, u)
            g = torch.where(ok.view(shape), g_p, g)
            n_ok = int(ok.sum())
            accepted += n_ok
            per_step.append(n_ok / len(z))
        else:
            z, u, g = prop, u_p, g_p
            per_step.append(1.0)
        if keep_every and t % keep_every == 0:
            trace.append(z.cpu().clone())
    rate = (accepted / (len(z) * n_steps) if adjust else 1.0) if n_steps else float("nan")
    return ChainResult(z, rate, per_step, trace)


def mala(U, z0, step, n_steps, generator=None, keep_every: int = 0) -> ChainResult:
    """Metropolis-adjusted Langevin: ``langevin(..., adjust=True)``; exp(-U) is invariant."""
    return langevin(U, z0, step, n_steps, adjust=True, generator=generator, keep_every=keep_every)


def ula(U, z0, step, n_steps, generator=None, keep_every: int = 0, noise: float = 1.0, clamp=None) -> ChainResult:
    """Unadjusted Langevin: ``langevin(..., adjust=False)``; every proposal accepted, stationary law biased by O(alpha)."""
    return langevin(U, z0, step, n_steps, adjust=False, generator=generator, keep_every=keep_every, noise=noise, clamp=clamp)


def latent_energy(E, G, prior: bool = True):
    """U(z) = E_theta(G(z)) + ||z||^2 / 2 (``prior=True``; the N(0, I) prior's energy), or E_theta(G(z)) alone.

    With the prior, G(z) of z ~ exp(-U) follows p_G(x) exp(-E_theta(x)) / C (the generator's density
    tilted by the energy; see the module docstring), not p_theta.
    """
    def U(z: torch.Tensor) -> torch.Tensor:
        u = E(G(z))
        return u + 0.5 * z.flatten(1).pow(2).sum(1) if prior else u
    return U


def gaussian_energy(mean: torch.Tensor, cov: torch.Tensor):
    """U(z) = (z - mu)^T Sigma^{-1} (z - mu) / 2: the energy of N(mu, Sigma), for tests and demonstrations."""
    mean = torch.as_tensor(mean, dtype=torch.float32)
    prec = torch.linalg.inv(torch.as_tensor(cov, dtype=torch.float32))

    def U(z):
        d = z - mean.to(z.device)
        return 0.5 * ((d @ prec.to(z.device)) * d).sum(1)
    return U

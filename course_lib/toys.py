"""Toy target distributions with samplers and, where it exists, the exact density.

Every target has ``sample(n, generator)`` returning an ``(n, dim)`` float tensor on the CPU,
``dim``, ``bounds`` (a box for plots and grids) and, when the density is known in closed form,
``log_prob(x)``. Mixtures also expose ``centers`` and ``std`` for the mode metric.

The lecture's targets (Hung-yi Lee, "Energy-based GAN", after B. Striner's experiments):
``origin`` (all data at one point), ``line`` (a segment in the plane), ``gaussian1d``.
The mode-coverage classics: ``ring8`` (Metz et al. 2017, unrolled GAN) and ``grid25``
(Srivastava et al. 2017, VEEGAN); plus ``swissroll`` and ``rings``.
"""
from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)


class Target:
    """A distribution to learn from samples."""

    name: str = "target"
    dim: int = 2
    bounds: tuple = ((-1.0, 1.0), (-1.0, 1.0))
    centers: torch.Tensor | None = None
    std: float | None = None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    @property
    def has_density(self) -> bool:
        return type(self).log_prob is not Target.log_prob

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(
            f"target {self.name!r} has no density in closed form (it is singular or unknown); "
            "use a sample distance such as metrics.wasserstein_distance instead"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def _floating(x) -> torch.Tensor:
    """x as a floating tensor, keeping float64 when given (for exact integrals in tests)."""
    x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.float()


def _check_n(n: int) -> int:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be a positive integer, got {n!r}")
    return n


class GaussianMixture(Target):
    """p(x) = sum_k w_k N(x; c_k, std^2 I): isotropic Gaussians of one width."""

    def __init__(self, centers, std: float, weights=None, name: str = "mixture", margin: float = 1.0):
        centers = torch.as_tensor(centers, dtype=torch.float32)
        if centers.ndim == 1:
            centers = centers[:, None]
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        k = centers.shape[0]
        weights = torch.full((k,), 1.0 / k) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        if weights.shape != (k,) or (weights < 0).any() or abs(float(weights.sum()) - 1) > 1e-5:
            raise ValueError("weights must be k non-negative numbers summing to 1")
        self.centers, self.std, self.weights, self.name = centers, float(std), weights, name
        self.dim = centers.shape[1]
        lo = centers.min(0).values - margin - 3 * std
        hi = centers.max(0).values + margin + 3 * std
        self.bounds = tuple((float(a), float(b)) for a, b in zip(lo, hi))

    def sample(self, n, generator=None):
        idx = torch.multinomial(self.weights, _check_n(n), replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator)
        return self.centers[idx] + self.std * noise

    def log_prob(self, x):
        """log sum_k w_k N(x; c_k, std^2 I)."""
        x = _floating(x).reshape(-1, self.dim)
        sq = ((x[:, None, :] - self.centers.to(x)) ** 2).sum(-1)  # (n, k)
        log_n = -0.5 * sq / self.std**2 - self.dim * (math.log(self.std) + 0.5 * LOG_2PI)
        return torch.logsumexp(log_n + self.weights.to(x).log(), dim=1)


class Origin(Target):
    """All data at one point (the lecture's Pdata = "origin"); a point mass has no density."""

    name, dim = "origin", 2
    bounds = ((-2.0, 2.0), (-2.0, 2.0))

    def __init__(self, point=(0.0, 0.0)):
        self.point = torch.as_tensor(point, dtype=torch.float32)
        self.dim = self.point.numel()
        self.centers = self.point[None]

    def sample(self, n, generator=None):
        return self.point.expand(_check_n(n), self.dim).clone()


class Line(Target):
    """Uniform on the segment from ``a`` to ``b`` (the lecture's Pdata = "line"); singular in 2-D."""

    name, dim = "line", 2
    bounds = ((-2.0, 2.0), (-2.0, 2.0))

    def __init__(self, a=(-1.0, -1.0), b=(1.0, 1.0)):
        self.a = torch.as_tensor(a, dtype=torch.float32)
        self.b = torch.as_tensor(b, dtype=torch.float32)

    def sample(self, n, generator=None):
        t = torch.rand(_check_n(n), 1, generator=generator)
        return self.a + t * (self.b - self.a)


class SwissRoll(Target):
    """A noisy 2-D swiss roll: r = t, angle = t, t ~ U[1.5 pi, 4.5 pi], scaled by 1/5 (no closed-form density)."""

    name, dim = "swissroll", 2
    bounds = ((-3.0, 3.0), (-3.0, 3.0))

    def __init__(self, noise: float = 0.1):
        self.noise = noise

    def sample(self, n, generator=None):
        t = 1.5 * math.pi * (1 + 2 * torch.rand(_check_n(n), generator=generator))
        x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 5.0
        return x + self.noise * torch.randn(n, 2, generator=generator)


class Rings(Target):
    """Concentric rings: angle ~ U[0, 2 pi), radius ~ N(r_k, s^2) with ring k chosen uniformly."""

    name, dim = "rings", 2

    def __init__(self, radii=(1.0, 2.0, 3.0), width: float = 0.08):
        self.radii = torch.as_tensor(radii, dtype=torch.float32)
        self.width = float(width)
        r = float(self.radii.max()) + 1.0
        self.bounds = ((-r, r), (-r, r))

    def sample(self, n, generator=None):
        k = torch.randint(len(self.radii), (_check_n(n),), generator=generator)
        r = self.radii[k] + self.width * torch.randn(n, generator=generator)
        phi = 2 * math.pi * torch.rand(n, generator=generator)
        return torch.stack([r * torch.cos(phi), r * torch.sin(phi)], dim=1)

    def log_prob(self, x):
        """p(x) = (1/K) sum_k [N(|x|; r_k, s) + N(-|x|; r_k, s)] / (2 pi |x|) (a signed radius covers both)."""
        x = _floating(x).reshape(-1, 2)
        rho = x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        radii = self.radii.to(x)
        log_n = lambda r: -0.5 * ((r - radii) / self.width) ** 2 - math.log(self.width) - 0.5 * LOG_2PI
        both = torch.logaddexp(log_n(rho), log_n(-rho))  # (n, K)
        return torch.logsumexp(both, dim=1) - math.log(len(radii)) - torch.log(2 * math.pi * rho[:, 0])


def ring8(radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """Eight Gaussians evenly spaced on a circle (Metz et al. 2017)."""
    angles = torch.arange(8) * (2 * math.pi / 8)
    centers = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return GaussianMixture(centers, std, name="ring8")


def grid25(spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """A 5 x 5 grid of Gaussians at {-2, -1, 0, 1, 2} * spacing (Srivastava et al. 2017)."""
    ticks = spacing * torch.arange(-2, 3, dtype=torch.float32)
    centers = torch.cartesian_prod(ticks, ticks)
    return GaussianMixture(centers, std, name="grid25")


def gaussian1d(mean: float = 2.0, std: float = 0.5) -> GaussianMixture:
    """The lecture's 1-D Gaussian target N(mean, std^2)."""
    g = GaussianMixture([[mean]], std, name="gaussian1d", margin=1.5)
    return g


TARGETS = {
    "origin": Origin,
    "line": Line,
    "gaussian1d": gaussian1d,
    "ring8": ring8,
    "grid25": grid25,
    "swissroll": SwissRoll,
    "rings": Rings,
}


def widened() -> dict:
    """The mixtures made easier for a CPU run of minutes: the ring's Gaussians widened (std 0.1), the grid compressed (spacing 1); and the swiss roll.

    The energy-based models of chapters 06 and 10 train on these; their mode counts are not comparable
    with those of the standard ``ring8()`` and ``grid25()`` of chapters 04-09."""
    return {"ring8": ring8(std=0.1), "grid25": grid25(spacing=1.0, std=0.05), "swissroll": SwissRoll()}


def make_target(name: str, **kwargs) -> Target:
    """Build a target by name; ``kwargs`` go to its constructor."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; choose one of {sorted(TARGETS)}")
    return TARGETS[name](**kwargs)


def grid_2d(bounds, n: int = 200):
    """An n x n grid over ``bounds = ((x0, x1), (y0, y1))``: returns xs (n,), ys (n,), points (n*n, 2), row-major in y."""
    (x0, x1), (y0, y1) = bounds
    xs, ys = torch.linspace(x0, x1, n), torch.linspace(y0, y1, n)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)

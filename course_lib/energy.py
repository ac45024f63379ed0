"""Energy-based models trained with a maximum-entropy generator (Kumar, Ozair, Goyal, Courville,
Bengio 2019, "Maximum Entropy Generators for Energy-Based Models", arXiv:1901.08508).

The energy E_theta(x) defines a density p_theta(x) = exp(-E_theta(x)) / Z_theta. Its negative
phase (samples of the model) is supplied by a generator G, which must be trained to *cover* the
low-energy regions, not just to find one of them: it should minimise E[E(G(z))] - H[G(Z)].
H[G(Z)] has no closed form. The motivation for a mutual information is H[X] = I(X; Z) + H[X | Z],
where H[X | Z] would be a constant if x were G(z) plus a noise of fixed law. Our G adds no noise:
x = G(z) is deterministic and z continuous, so I(X; Z) is infinite as soon as G(z) takes a continuum
of values, and the identity is only a heuristic. What is really maximised is a bounded proxy for the
dependence between z and G(z): the Jensen-Shannon estimate of Deep InfoMax (Hjelm et al. 2019,
arXiv:1808.06670), whose value at the best critic T is 2 JSD(p(x, z) || p(x) p(z)) <= 2 log 2. The
generator raises it by mapping distinct codes to distinguishable samples, i.e. by spreading out.
(MINE, Belghazi et al. 2018, arXiv:1801.04062, uses the Donsker-Varadhan bound for the same purpose.)

Glossary: ``e_real`` / ``e_fake`` energies of data / generated samples, shape (B,); ``T`` the
statistics network T_phi(x, z) -> (B,); ``lam`` the gradient-penalty weight lambda.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .losses import Objective, _check_members, _col, _fmt, _number, _on, _parts, n_members
from .models import ACTIVATIONS, LatentGenerator, batch_ndim, mlp, to_device

LOG2 = math.log(2.0)


# ---------------------------------------------------------------- networks
class EnergyMLP(nn.Module):
    """E_theta(x) = f_theta(x) [+ ||x - center||^2 / (2 s^2)]: an MLP on the flattened input, one energy per sample, shape (B,).

    An MLP grows at most linearly far from the data, so exp(-f) need not be integrable; the
    optional quadratic ``confine = s`` (a broad Gaussian base measure, s well above the data's
    spread) makes Z finite whatever f does far away.
    """

    def __init__(self, x_shape=(2,), hidden: int = 128, depth: int = 2, activation: str = "silu",
                 confine: float | None = None, center=None):
        super().__init__()
        self.x_shape = tuple(x_shape) if not isinstance(x_shape, int) else (x_shape,)
        if confine is not None and not (isinstance(confine, (int, float)) and confine > 0):
            raise ValueError(f"confine (the base Gaussian's scale s) must be a positive number or None, got {confine!r}")
        self.confine = confine
        self.register_buffer("center", torch.zeros(math.prod(self.x_shape)) if center is None
                             else torch.as_tensor(center, dtype=torch.float32).flatten())
        self.net = mlp(math.prod(self.x_shape), 1, hidden, depth, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(batch_ndim(self))  # (B, d), (K, B, d) for an ensemble
        e = self.net(x).squeeze(-1)      # (B,)
        if self.confine:
            e = e + (x - self.center).pow(2).sum(-1) / (2 * self.confine**2)
        return e


class StatisticsNetwork(nn.Module):
    """T_phi(x, z): an MLP on the concatenation [flatten(x), z], one real number per pair, shape (B,)."""

    def __init__(self, x_shape=(2,), z_dim: int = 2, hidden: int = 128, depth: int = 2, activation: str = "leaky_relu"):
        super().__init__()
        self.x_shape = tuple(x_shape) if not isinstance(x_shape, int) else (x_shape,)
        self.net = mlp(math.prod(self.x_shape) + z_dim, 1, hidden, depth, activation)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        n = batch_ndim(self)
        return self.net(torch.cat([x.flatten(n), z.flatten(n)], dim=-1)).squeeze(-1)  # (B,)


class ImageMLPGenerator(LatentGenerator):
    """x = sigmoid(MLP(z)) reshaped to (B, 1, 28, 28), z ~ N(0, I): a small image generator that trains in minutes on a CPU."""

    def __init__(self, z_dim: int = 16, hidden: int = 256, depth: int = 2, activation: str = "leaky_relu", shape=(1, 28, 28)):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.z_dim, self.shape = z_dim, tuple(shape)
        self.net = mlp(z_dim, math.prod(self.shape), hidden, depth, activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(-1, *self.shape)  # (B, 1, 28, 28) in (0, 1)


# ---------------------------------------------------------------- the energy's loss
def _check_lam(lam: float) -> float:
    if not (isinstance(lam, (int, float)) and math.isfinite(lam) and lam >= 0):
        raise ValueError(f"gradient-penalty weight lambda must be a finite number >= 0, got {lam!r}")
    return float(lam)


def grad_norm_sq(E: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample ||grad_x E(x)||^2, shape (B,), kept in the graph (create_graph) so it can be penalised; also returns E(x)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        e = E(x)  # (B,)
        (g,) = torch.autograd.grad(e.sum(), x, create_graph=True)  # (B, *x_shape): sample i's gradient only
    return g.flatten(batch_ndim(E)).pow(2).sum(-1), e


def energy_loss(e_real: torch.Tensor, e_fake: torch.Tensor, grad_sq_real: torch.Tensor, lam=0.1, energy_l2=0.0):
    """L_E = E_data[E(x)] - E_G[E(x)] + lambda E_data[||grad_x E(x)||^2] (Kumar et al. 2019, eq. 3)
    [+ energy_l2 (E_data[E^2] + E_G[E^2]), the optional scale anchor of Du and Mordatch 2019, arXiv:1903.08689]."""
    lam = lam if torch.is_tensor(lam) else _check_lam(lam)  # tensors: one per member, checked by MaxEntObjective
    energy_l2 = energy_l2 if torch.is_tensor(energy_l2) else _check_energy_l2("energy_l2", energy_l2)
    penalty = grad_sq_real.mean(-1)
    loss = e_real.mean(-1) - e_fake.mean(-1) + _col(lam, penalty) * penalty
    if torch.is_tensor(energy_l2) or energy_l2:
        loss = loss + _col(energy_l2, penalty) * (e_real.pow(2).mean(-1) + e_fake.pow(2).mean(-1))
    return loss, _parts(e_loss=loss, e_real=e_real.mean(-1), e_fake=e_fake.mean(-1), grad_penalty=penalty)


def _check_energy_l2(name: str, v) -> float:
    if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0 (0 = the paper's loss), got {v!r}")
    return float(v)


# ---------------------------------------------------------------- the generator's entropy
def shuffle_per_dimension(z: torch.Tensor, generator=None) -> torch.Tensor:
    """z_tilde[:, j] = z[perm_j, j]: each coordinate permuted across the batch on its own (Kumar et al. 2019, section 3).

    The result is a sample of the product of z's marginals, independent of the x = G(z) it is
    paired with (up to the rare fixed points of a permutation); it reuses the batch instead of
    drawing new codes. For an ensemble's codes (K, B, d) pass one generator per member: member k
    is shuffled with ``generator[k]``, as its single run would be.
    """
    if z.ndim == 3:
        gens = list(generator) if isinstance(generator, (list, tuple)) else [generator] * len(z)
        if len(gens) != len(z):
            raise ValueError(f"codes of {len(z)} members need {len(z)} random generators, got {len(gens)}")
        return torch.stack([shuffle_per_dimension(zk, g) for zk, g in zip(z, gens)])
    b, d = z.shape
    idx = to_device(torch.stack([torch.randperm(b, generator=generator) for _ in range(d)], dim=1), z.device)  # (B, d)
    return torch.gather(z, 0, idx)


def mi_jsd(t_joint: torch.Tensor, t_marginal: torch.Tensor):
    """I_JSD = E_joint[-sp(-T)] - E_marginal[sp(T)] + 2 log 2, sp = softplus (Hjelm et al. 2019, eq. 4; Nowozin et al. 2016).

    The constant 2 log 2 (which changes no gradient) shifts the estimate so that it is 0 when x
    and z are independent; its supremum over T is 2 JSD(joint || product of marginals), at most
    2 log 2 ~ 1.386 nats, reached when x determines z.
    """
    joint = -F.softplus(-t_joint).mean(-1)
    marginal = F.softplus(t_marginal).mean(-1)
    mi = joint - marginal + 2 * LOG2
    return mi, _parts(mi=mi, t_joint=t_joint.mean(-1), t_marginal=t_marginal.mean(-1))


def mi_estimate(T: nn.Module, x: torch.Tensor, z: torch.Tensor, generator: torch.Generator | None = None):
    """The Jensen-Shannon estimate of I(X; Z) on a batch of pairs (x_i, z_i); negatives (x_i, z_tilde_i) by per-dimension shuffling."""
    z_tilde = shuffle_per_dimension(z, generator)
    return mi_jsd(T(x, z), T(x, z_tilde))


TOY_A = torch.tensor([[1.0, -0.5], [0.5, 1.0]])  # the fixed matrix of toy_pairs' x = tanh(A z): a rotation by 26.6 degrees times 1.118


def toy_pairs(dependent: bool):
    """A sampler of (x, z) in 2-D, z ~ N(0, I): x = tanh(A z) with A = ``TOY_A`` when ``dependent``
    (x determines z: the largest I_JSD), else x ~ N(0, I) independent of z (I = 0)."""
    def sample(n: int, g: torch.Generator | None = None):
        z = torch.randn(n, 2, generator=g)                                               # (n, 2)
        x = torch.tanh(z @ TOY_A.T) if dependent else torch.randn(n, 2, generator=g)  # rows: tanh(A z_i)
        return x, z
    return sample


def fit_mi_estimator(T: nn.Module, sample_xz, steps: int = 300, batch_size: int = 256, lr: float = 1e-3, seed: int = 0) -> float:
    """Train T_phi alone to maximise I_JSD on pairs from ``sample_xz(n, generator) -> (x, z)``; return the estimate on a fresh batch of 4 x batch_size."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    dev = next(T.parameters()).device
    opt = torch.optim.Adam(T.parameters(), lr=lr)
    for _ in range(steps):
        x, z = sample_xz(batch_size, gen)
        mi, _ = mi_estimate(T, x.to(dev), z.to(dev), gen)
        opt.zero_grad(set_to_none=True)
        (-mi).backward()
        opt.step()
    with torch.no_grad():
        x, z = sample_xz(4 * batch_size, gen)
        mi, _ = mi_estimate(T, x.to(dev), z.to(dev), gen)
    return float(mi)


# ---------------------------------------------------------------- the objective for the trainer
class MaxEntObjective(Objective):
    """Kumar et al. (2019), Algorithm 1, as a plug-in for ``course_lib.train.train`` (D is the energy E_theta).

    * energy step: L_E = E_data[E(x)] - E_G[E(x)] + lam E_data[||grad_x E(x)||^2];
    * generator step: L_G = E_z[E(G(z))] - mi_weight * I_JSD(G(z); z). ``T`` is listed in
      ``modules()``, so the trainer updates it with G on the same loss: T is trained to
      *maximise* the estimate (a tighter bound) and G to make the estimate large (the entropy proxy).
    * ``energy_l2 > 0`` adds energy_l2 (E_data[E^2] + E_G[E^2]) to L_E, which keeps the energy's
      scale from drifting (Du and Mordatch 2019); 0 is the paper's loss.

    ``mi_weight = 0`` switches the entropy term off (then G only chases low energy).

    For an ensemble (``T`` an ensemble of statistics networks), ``lam``, ``mi_weight``, ``energy_l2``
    and ``seed`` (of the shuffles) may be given per member.
    """

    def __init__(self, T: nn.Module, lam=0.1, mi_weight=1.0, seed=0, energy_l2=0.0):
        def check_mi(name, v):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0 (0 turns the entropy term off), got {v!r}")
            return float(v)

        self.T = T
        self.lam = _check_members("gradient-penalty weight lambda", lam, lambda n, v: _check_lam(v))
        self.mi_weight = _check_members("mi_weight", mi_weight, check_mi)
        self.energy_l2 = _check_members("energy_l2", energy_l2, _check_energy_l2)
        self.members = n_members(lam=self.lam, mi_weight=self.mi_weight, energy_l2=self.energy_l2)
        seeds = list(seed) if isinstance(seed, (list, tuple)) else [seed]
        if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds):
            raise ValueError(f"seed must be a non-negative integer or one per member, got {seed!r}")
        gens = [torch.Generator().manual_seed(s) for s in seeds]  # for the shuffles
        self.gen = gens if isinstance(seed, (list, tuple)) else gens[0]
        self.name = f"maxent[lam={_fmt(self.lam)}, mi_weight={_fmt(self.mi_weight)}]"

    def d_loss(self, D, x_real, x_fake):
        grad_sq, e_real = grad_norm_sq(D, x_real)
        return energy_loss(e_real, D(x_fake), grad_sq, self.lam, self.energy_l2)

    def g_loss(self, D, x_fake, z):
        e_fake = D(x_fake).mean(-1)
        if not _on(self.mi_weight):
            return e_fake, _parts(g_loss=e_fake, g_energy=e_fake)
        mi, parts = mi_estimate(self.T, x_fake, z, self.gen)
        loss = e_fake - _col(self.mi_weight, mi) * mi
        return loss, {**parts, **_parts(g_loss=loss, g_energy=e_fake)}

    def modules(self) -> list:
        return [self.T] if _on(self.mi_weight) else []

    def state(self) -> dict:
        return {"lam": _number(self.lam), "mi_weight": _number(self.mi_weight)}


# ---------------------------------------------------------------- exact densities in 2-D
@dataclass
class GridDensity:
    """An energy normalised on a grid: log Z and log p on every grid point."""

    log_z: float                # log Z = log sum_grid exp(-E) dA
    xs: torch.Tensor            # (n,) grid abscissae
    ys: torch.Tensor            # (n,) grid ordinates
    log_p: torch.Tensor         # (n, n) log p(x) = -E(x) - log Z, row index = y
    cell_area: float            # dA = dx dy
    edge_mass: float            # probability mass in the outermost ring of cells

    def density(self) -> torch.Tensor:
        """p(x) on the grid, (n, n)."""
        return self.log_p.exp()


def _check_bounds(bounds):
    try:
        (x0, x1), (y0, y1) = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be ((x0, x1), (y0, y1)), got {bounds!r}") from None
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"bounds must satisfy x0 < x1 and y0 < y1, got {bounds!r}")
    return (float(x0), float(x1)), (float(y0), float(y1))


def mass_outside(x: torch.Tensor, bounds) -> float:
    """Fraction of the points x (N, 2) that lie outside the box ``bounds``."""
    (x0, x1), (y0, y1) = _check_bounds(bounds)
    x = torch.as_tensor(x).reshape(-1, 2)
    inside = (x[:, 0] >= x0) & (x[:, 0] <= x1) & (x[:, 1] >= y0) & (x[:, 1] <= y1)
    return float(1 - inside.float().mean())


def midpoint_grid(bounds, n: int, dtype=torch.float64):
    """The n x n cell midpoints over ((x0, x1), (y0, y1)): xs (n,), ys (n,), points (n^2, 2) row by row in y, cell area."""
    (x0, x1), (y0, y1) = bounds
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    xs = x0 + dx * (torch.arange(n, dtype=dtype) + 0.5)
    ys = y0 + dy * (torch.arange(n, dtype=dtype) + 0.5)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1), dx * dy


@torch.no_grad()
def log_partition_2d(E, bounds, n: int = 400, data: torch.Tensor | None = None, batch: int = 65536, tol: float = 1e-3) -> GridDensity:
    """log Z = log integral exp(-E(x)) dx ~ logsumexp_grid(-E) + log(dx dy), midpoint rule on an n x n grid over ``bounds``.

    Warns (UserWarning) with the mass that is missed when ``data`` (N, 2) has more than ``tol``
    of its points outside the grid, or when the learned density has more than ``tol`` of its mass
    on the grid's outermost ring of cells (it probably continues beyond): widen the bounds then.
    """
    (x0, x1), (y0, y1) = _check_bounds(bounds)
    if not isinstance(n, int) or n < 3:
        raise ValueError(f"grid size n must be an integer >= 3, got {n!r}")
    if data is not None:
        out = mass_outside(data, bounds)
        if out > tol:
            d = torch.as_tensor(data).reshape(-1, 2)
            need = ((float(d[:, 0].min()), float(d[:, 0].max())), (float(d[:, 1].min()), float(d[:, 1].max())))
            warnings.warn(f"the grid {bounds} does not cover the data: {100 * out:.2f}% of the data lies outside it, "
                          f"so log Z misses that region; widen the bounds to cover at least {need}", UserWarning, stacklevel=2)
    xs, ys, pts, cell = midpoint_grid(bounds, n)
    try:
        dev = next(E.parameters()).device
        dtype = next(E.parameters()).dtype
    except (AttributeError, StopIteration):
        dev, dtype = torch.device("cpu"), torch.float32
    e = torch.cat([E(pts[i:i + batch].to(dev, dtype)).double().cpu() for i in range(0, len(pts), batch)])
    if not torch.isfinite(e).all():
        raise ValueError("the energy is NaN or inf somewhere on the grid; the model diverged")
    log_w = -e.reshape(n, n)
    log_z = float(torch.logsumexp(log_w.reshape(-1), 0)) + math.log(cell)
    log_p = log_w - log_z
    p_cell = (log_p + math.log(cell)).exp()
    ring = torch.ones(n, n, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    edge = float(p_cell[ring].sum())
    if edge > tol:
        warnings.warn(f"{100 * edge:.2f}% of the learned density's mass lies on the edge of the grid {bounds}: "
                      f"it probably extends beyond, so log Z is underestimated; widen the bounds", UserWarning, stacklevel=2)
    return GridDensity(log_z, xs, ys, log_p.float(), cell, edge)


@torch.no_grad()
def energy_nll(E, x: torch.Tensor, log_z: float) -> float:
    """NLL = E_data[-log p_theta(x)] = mean E_theta(x) + log Z (nats per sample)."""
    try:
        dev = next(E.parameters()).device
    except (AttributeError, StopIteration):
        dev = torch.device("cpu")
    return float(E(torch.as_tensor(x, dtype=torch.float32).to(dev)).double().mean()) + log_z


@torch.no_grad()
def true_nll(target, x: torch.Tensor) -> float:
    """NLL = E[-log p_data(x)] under the target's closed-form density (``target.log_prob``), nats per sample."""
    return float(-target.log_prob(x).double().mean())


# ---------------------------------------------------------------- anomaly scores
@torch.no_grad()
def energies(E, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
    """E_theta(x) for a large set in batches, as a CPU tensor (N,): high energy = unlikely = anomalous (any network
    with one output per sample, e.g. a discriminator's logits)."""
    dev = next(E.parameters()).device
    return torch.cat([E(x[i:i + batch].to(dev)).float().cpu() for i in range(0, len(x), batch)])


# ---------------------------------------------------------------- one summary for a 2-D model
def pad_bounds(bounds, factor: float = 1.5):
    """The box ``bounds`` widened about its centre by ``factor`` (for log Z grids that must hold all the mass)."""
    (x0, x1), (y0, y1) = _check_bounds(bounds)
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, factor * (x1 - x0) / 2, factor * (y1 - y0) / 2
    return (cx - hx, cx + hx), (cy - hy, cy + hy)


@torch.no_grad()
def evaluate_2d(target, G, E, n: int = 1000, grid: int = 400, seed: int = 0, pad: float = 1.5) -> dict:
    """Generator and energy of a 2-D model against its target: modes covered and high-quality fraction
    (mixtures), W1 to fresh data, exact NLL of p_theta = exp(-E)/Z on held-out data (log Z on a grid over
    the padded box; ``nll_points`` per point, for ``verdicts.compare_scores``) and the target's true NLL where it has a density."""
    from .metrics import mode_stats, wasserstein_distance

    gen = torch.Generator().manual_seed(seed)
    x_fake = G.sample(n, gen)
    x_test = target.sample(n, gen)
    out = {"x_fake": x_fake}
    if target.centers is not None and target.std is not None:
        ms = mode_stats(x_fake, target.centers, target.std)
        out.update(modes=ms.modes_covered, n_modes=ms.n_modes, hq=ms.high_quality_fraction)
    out["w1"] = wasserstein_distance(x_fake, x_test)
    dens = log_partition_2d(E, pad_bounds(target.bounds, pad), n=grid, data=x_test)
    out.update(log_z=dens.log_z, nll=energy_nll(E, x_test, dens.log_z), density=dens,
               nll_points=(energies(E, x_test).double() + dens.log_z).numpy())  # -log p_theta of each held-out point
    out["true_nll"] = true_nll(target, x_test) if target.has_density else float("nan")
    return out


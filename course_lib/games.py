"""The bilinear game V(x, y) = -x y: the smallest game on which gradient methods for GANs misbehave.

Convention (the lecture's): x, the generator, minimises V; y, the discriminator, maximises it:
min_x max_y -x y. The only equilibrium is (0, 0). Each player descends its own loss (x: V, y: -V), so the
joint gradient field is v(x, y) = (dV/dx, -dV/dy) = (-y, x), and with step size lr:

* ``simultaneous``: both step from the same point, (x, y) <- (x + lr y, y - lr x). Update matrix
  [[1, lr], [-lr, 1]], eigenvalues 1 +- i lr, modulus sqrt(1 + lr^2) > 1: it spirals out, for every lr.
* ``alternating``: y (the discriminator) first, then x against the new y, as ``train.train`` does:
  y' = y - lr x, x' = x + lr y'. Matrix [[1 - lr^2, lr], [-lr, 1]], determinant 1, trace 2 - lr^2: for
  0 < lr < 2 the eigenvalues are complex with modulus exactly 1: it keeps x^2 - lr x y + y^2 constant and
  circles on that ellipse for ever (neither in nor out). For lr >= 2 it diverges.
* ``consensus`` (Mescheder, Nowozin, Geiger 2017, arXiv:1705.10461): both players also descend
  gamma L, L = 1/2 ||v||^2 = (x^2 + y^2)/2, simultaneously: (x, y) <- (x, y) - lr (v + gamma grad L).
  Matrix [[1 - lr gamma, lr], [-lr, 1 - lr gamma]], eigenvalues (1 - lr gamma) +- i lr,
  modulus^2 = (1 - lr gamma)^2 + lr^2 < 1 exactly when 0 < lr < 2 gamma / (1 + gamma^2): it converges.
  gamma = 0 is the simultaneous update.

States are numbers (x, y); ``trajectory`` returns a NumPy array of shape (steps + 1, 2).
"""
from __future__ import annotations

import math

import numpy as np

METHODS = ("simultaneous", "alternating", "consensus")


def _check(method: str, lr: float, gamma: float) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr (the step size) must be a finite number > 0, got {lr!r}")
    if not (isinstance(gamma, (int, float)) and math.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma (the consensus weight) must be a finite number >= 0, got {gamma!r}")
    if gamma and method != "consensus":
        raise ValueError(f"gamma={gamma:g} is the weight of consensus optimization: use method='consensus' "
                         f"(or gamma=0 with method={method!r})")


def value(x, y):
    """V(x, y) = -x y."""
    return -x * y


def vector_field(x: float, y: float) -> tuple:
    """v(x, y) = (dV/dx, -dV/dy) = (-y, x): the gradient each player descends (x: V, y: -V)."""
    return -y, x


def simultaneous_step(x: float, y: float, lr: float) -> tuple:
    """(x, y) <- (x, y) - lr v(x, y) = (x + lr y, y - lr x): both players step from the same point."""
    _check("simultaneous", lr, 0.0)
    vx, vy = vector_field(x, y)
    return x - lr * vx, y - lr * vy


def alternating_step(x: float, y: float, lr: float) -> tuple:
    """y' = y - lr x, then x' = x + lr y': the discriminator y first, the generator x against the new y."""
    _check("alternating", lr, 0.0)
    y_new = y - lr * vector_field(x, y)[1]
    x_new = x - lr * vector_field(x, y_new)[0]
    return x_new, y_new


def consensus_step(x: float, y: float, lr: float, gamma: float) -> tuple:
    """(x, y) <- (x, y) - lr (v + gamma grad 1/2 ||v||^2) = (x + lr y - lr gamma x, y - lr x - lr gamma y) (Mescheder et al. 2017)."""
    _check("consensus", lr, gamma)
    vx, vy = vector_field(x, y)
    gx, gy = x, y  # grad of 1/2 ||v||^2 = 1/2 (x^2 + y^2)
    return x - lr * (vx + gamma * gx), y - lr * (vy + gamma * gy)


_STEPS = {
    "simultaneous": lambda x, y, lr, gamma: simultaneous_step(x, y, lr),
    "alternating": lambda x, y, lr, gamma: alternating_step(x, y, lr),
    "consensus": consensus_step,
}


def step(method: str, x: float, y: float, lr: float, gamma: float = 0.0) -> tuple:
    """One update of ``method`` (one of ``METHODS``) from (x, y)."""
    _check(method, lr, gamma)
    return _STEPS[method](x, y, lr, gamma)


def trajectory(method: str, x0: float, y0: float, lr: float, steps: int, gamma: float = 0.0) -> np.ndarray:
    """The points (x_t, y_t), t = 0..steps, of ``method`` started at (x0, y0): shape (steps + 1, 2)."""
    _check(method, lr, gamma)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    out = np.empty((steps + 1, 2))
    out[0] = x0, y0
    for t in range(steps):
        out[t + 1] = step(method, *out[t], lr, gamma)
    return out


def jacobian(method: str, lr: float, gamma: float = 0.0) -> np.ndarray:
    """The 2x2 matrix J with (x', y') = J (x, y) (the update is linear): its columns are the steps from (1, 0) and (0, 1)."""
    _check(method, lr, gamma)
    return np.array([step(method, 1.0, 0.0, lr, gamma), step(method, 0.0, 1.0, lr, gamma)]).T


def eigenvalues(method: str, lr: float, gamma: float = 0.0) -> np.ndarray:
    """The eigenvalues of ``jacobian``: 1 +- i lr (simultaneous), modulus 1 for lr < 2 (alternating), (1 - lr gamma) +- i lr (consensus)."""
    return np.linalg.eigvals(jacobian(method, lr, gamma))


def spectral_radius(method: str, lr: float, gamma: float = 0.0) -> float:
    """max |eigenvalue|: > 1 spirals out, = 1 circles, < 1 converges to the equilibrium (0, 0)."""
    return float(np.abs(eigenvalues(method, lr, gamma)).max())

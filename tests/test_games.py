"""The bilinear game V(x, y) = -x y: simultaneous steps spiral out, alternating ones circle, consensus converges;
the eigenvalues match their closed forms, and the trainer reproduces all three on a two-parameter GAN."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import games, losses, models
from course_lib.train import TrainConfig, train

LRS = (0.05, 0.3, 1.0, 1.9)


def _sorted(e):
    return np.array(sorted(e, key=lambda z: z.imag))


@pytest.mark.parametrize("lr", LRS)
def test_simultaneous_eigenvalues_are_one_plus_minus_i_lr(lr):
    assert np.allclose(_sorted(games.eigenvalues("simultaneous", lr)), [1 - 1j * lr, 1 + 1j * lr], atol=1e-12, rtol=0)
    assert games.spectral_radius("simultaneous", lr) == pytest.approx(math.sqrt(1 + lr ** 2), abs=1e-12)


@pytest.mark.parametrize("lr", LRS)
def test_alternating_eigenvalues_have_modulus_exactly_one_below_lr_two(lr):
    e = games.eigenvalues("alternating", lr)
    assert np.allclose(np.abs(e), 1.0, atol=1e-12, rtol=0)
    assert np.allclose(e.real, 1 - lr ** 2 / 2, atol=1e-12, rtol=0)   # trace 2 - lr^2, determinant 1
    assert games.spectral_radius("alternating", 2.5) > 1.0 + 1e-3     # beyond lr = 2 it diverges


@pytest.mark.parametrize("lr, gamma", [(0.1, 0.5), (0.3, 1.0), (0.5, 2.0), (1.0, 1.0)])
def test_consensus_eigenvalues_are_one_minus_lr_gamma_plus_minus_i_lr(lr, gamma):
    e = _sorted(games.eigenvalues("consensus", lr, gamma))
    assert np.allclose(e, [(1 - lr * gamma) - 1j * lr, (1 - lr * gamma) + 1j * lr], atol=1e-12, rtol=0)
    converges = lr < 2 * gamma / (1 + gamma ** 2)
    assert (games.spectral_radius("consensus", lr, gamma) < 1) == converges


def test_jacobians_match_the_closed_form_matrices():
    lr, gamma = 0.3, 0.7
    assert np.allclose(games.jacobian("simultaneous", lr), [[1, lr], [-lr, 1]], atol=1e-15, rtol=0)
    assert np.allclose(games.jacobian("alternating", lr), [[1 - lr ** 2, lr], [-lr, 1]], atol=1e-15, rtol=0)
    assert np.allclose(games.jacobian("consensus", lr, gamma), [[1 - lr * gamma, lr], [-lr, 1 - lr * gamma]], atol=1e-15, rtol=0)
    assert np.allclose(games.jacobian("consensus", lr, 0.0), games.jacobian("simultaneous", lr), atol=0, rtol=0)


def test_simultaneous_steps_spiral_out_by_sqrt_one_plus_lr_squared_per_step():
    lr, steps = 0.1, 200
    path = games.trajectory("simultaneous", 1.0, 0.5, lr, steps)
    assert path.shape == (steps + 1, 2)
    radius = np.linalg.norm(path, axis=1)
    assert np.allclose(radius, radius[0] * (1 + lr ** 2) ** (np.arange(steps + 1) / 2), rtol=1e-12, atol=0)


def test_alternating_steps_circle_on_the_ellipse_x2_minus_lr_xy_plus_y2():
    lr = 0.5
    x, y = games.trajectory("alternating", 1.0, 0.5, lr, 1000).T
    invariant = x ** 2 - lr * x * y + y ** 2
    assert np.allclose(invariant, invariant[0], rtol=1e-10, atol=0)


def test_consensus_steps_converge_to_the_equilibrium():
    path = games.trajectory("consensus", 1.0, 0.5, 0.1, 500, gamma=1.0)
    assert np.linalg.norm(path[-1]) < 1e-6 * np.linalg.norm(path[0])
    assert np.all(np.diff(np.linalg.norm(path, axis=1)) < 0)   # closer every step


def test_one_step_of_each_method_matches_a_hand_computed_value():
    x, y, lr, gamma = 1.0, 2.0, 0.1, 0.5
    assert games.simultaneous_step(x, y, lr) == pytest.approx((1.2, 1.9), abs=1e-12)
    assert games.alternating_step(x, y, lr) == pytest.approx((1.19, 1.9), abs=1e-12)   # y' = 2 - 0.1, x' = 1 + 0.1 y'
    assert games.consensus_step(x, y, lr, gamma) == pytest.approx((1.15, 1.8), abs=1e-12)


# ---------------------------------------------------------------- the trainer on the same game
class Point(models.LatentGenerator):
    """G(z) = theta for every z: the generator is the number x of the game."""

    z_dim = 1

    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([theta], dtype=torch.float64))

    def forward(self, z):
        return self.theta.expand(z.shape[0], 1)


class Slope(nn.Module):
    """D(x) = psi x: the discriminator is the number y of the game."""

    def __init__(self, psi):
        super().__init__()
        self.psi = nn.Parameter(torch.tensor(psi, dtype=torch.float64))

    def forward(self, x):
        return self.psi * x[..., 0]


class Bilinear(losses.Objective):
    """The WGAN losses with all real data at 0: L_D = psi theta, L_G = -psi theta, i.e. V(theta, psi) = -theta psi."""

    def d_loss(self, D, x_real, x_fake):
        return losses.wgan_d_loss(D(x_real), D(x_fake))

    def g_loss(self, D, x_fake, z):
        return losses.wgan_g_loss(D(x_fake))


def zeros(n, generator=None):
    return torch.zeros(n, 1)


@pytest.mark.parametrize("method, gamma", [("simultaneous", 0.0), ("alternating", 0.0), ("consensus", 0.5)])
def test_the_trainer_plays_the_bilinear_game_exactly_as_games_does(method, gamma):
    lr, steps, x0, y0 = 0.1, 30, 1.0, 0.5
    G, D = Point(x0), Slope(y0)
    path = [(x0, y0)]
    cfg = TrainConfig(steps=steps, batch_size=4, lr_d=lr, lr_g=lr, optimizer="sgd", simultaneous=method != "alternating",
                      consensus=gamma, progress=False, store=False)
    train(G, D, zeros, Bilinear(), cfg, callback=lambda step, G, D, h: path.append((G.theta.item(), D.psi.item())))
    assert np.allclose(np.array(path), games.trajectory(method, x0, y0, lr, steps, gamma), atol=1e-12, rtol=0)


def test_bad_inputs_are_rejected_with_what_to_change():
    with pytest.raises(ValueError, match=r"unknown method 'adam'; choose one of \('simultaneous'"):
        games.trajectory("adam", 1.0, 1.0, 0.1, 10)
    for lr in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="lr .* must be a finite number > 0"):
            games.eigenvalues("simultaneous", lr)
    with pytest.raises(ValueError, match="gamma .* must be a finite number >= 0"):
        games.consensus_step(1.0, 1.0, 0.1, -1.0)
    with pytest.raises(ValueError, match="use method='consensus'"):
        games.trajectory("alternating", 1.0, 1.0, 0.1, 10, gamma=0.5)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        games.trajectory("simultaneous", 1.0, 1.0, 0.1, -1)
    with pytest.raises(ValueError, match="consensus .* must be a finite number >= 0"):
        TrainConfig(simultaneous=True, consensus=-0.1)
    with pytest.raises(ValueError, match="set simultaneous=True"):
        TrainConfig(consensus=0.5)

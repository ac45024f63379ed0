"""Langevin samplers: MALA keeps its target invariant, ULA is biased by a known amount."""
import math

import pytest
import torch

from course_lib.sampling import energy_and_grad, gaussian_energy, langevin, latent_energy, log_q, mala, ula

MEAN = torch.tensor([1.0, -2.0])
COV = torch.tensor([[1.0, 0.8], [0.8, 1.0]])


def _exact(n, seed=0):
    L = torch.linalg.cholesky(COV)
    return MEAN + torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) @ L.T


def test_mala_leaves_a_known_2d_gaussian_invariant():
    U = gaussian_energy(MEAN, COV)
    res = mala(U, _exact(4000), step=0.3, n_steps=60, generator=torch.Generator().manual_seed(1))
    z = res.z
    torch.testing.assert_close(z.mean(0), MEAN, atol=0.08, rtol=0)
    torch.testing.assert_close(torch.cov(z.T), COV, atol=0.08, rtol=0)
    assert 0.3 < res.acceptance_rate < 1.0


def test_mala_converges_to_the_gaussian_from_a_bad_start():
    U = gaussian_energy(MEAN, COV)
    res = mala(U, torch.zeros(3000, 2) + 3.0, step=0.2, n_steps=300, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(res.z.mean(0), MEAN, atol=0.1, rtol=0)
    torch.testing.assert_close(torch.cov(res.z.T), COV, atol=0.1, rtol=0)


def test_mala_acceptance_falls_as_the_step_grows():
    U = gaussian_energy(MEAN, COV)
    rates = [mala(U, _exact(2000), step=s, n_steps=20, generator=torch.Generator().manual_seed(3)).acceptance_rate
             for s in (0.02, 0.1, 0.4, 1.0, 2.0)]
    assert all(a > b for a, b in zip(rates, rates[1:])), rates
    assert rates[0] > 0.95 and rates[-1] < 0.3


def test_unadjusted_langevin_inflates_gaussian_variance_by_closed_form():
    # 1-D U = x^2 / (2 s^2): z' = (1 - a/s^2) z + sqrt(2a) eps has stationary variance s^2 / (1 - a / (2 s^2)).
    s2, a = 1.0, 0.5
    U = lambda z: 0.5 * z.pow(2).sum(1) / s2
    res = ula(U, torch.randn(20000, 1, generator=torch.Generator().manual_seed(0)), step=a, n_steps=60,
              generator=torch.Generator().manual_seed(1))
    assert res.acceptance_rate == 1.0
    assert float(res.z.var()) == pytest.approx(s2 / (1 - a / (2 * s2)), rel=0.04)


def test_log_q_is_the_langevin_proposal_gaussian_up_to_a_constant():
    z, zp, g, a = torch.tensor([[0.3, -0.2]]), torch.tensor([[0.1, 0.5]]), torch.tensor([[1.0, 2.0]]), 0.25
    ref = torch.distributions.MultivariateNormal(z - a * g, 2 * a * torch.eye(2)).log_prob(zp)
    const = -math.log(2 * math.pi * 2 * a)  # normaliser of N(., 2a I) in 2-D
    torch.testing.assert_close(log_q(zp, z, g, a), ref - const)


def test_energy_and_grad_match_autograd_of_gaussian_energy():
    U = gaussian_energy(MEAN, COV)
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    u, g = energy_and_grad(U, z)
    prec = torch.linalg.inv(COV)
    torch.testing.assert_close(g, (z - MEAN) @ prec)
    torch.testing.assert_close(u, 0.5 * (((z - MEAN) @ prec) * (z - MEAN)).sum(1))


def test_latent_energy_adds_the_prior_energy():
    E = lambda x: x.sum(1)
    G = lambda z: 2 * z
    z = torch.tensor([[1.0, 2.0]])
    assert float(latent_energy(E, G, prior=False)(z)) == pytest.approx(6.0)
    assert float(latent_energy(E, G, prior=True)(z)) == pytest.approx(6.0 + 2.5)


@pytest.mark.parametrize("step", [0.0, -0.1, float("nan")])
def test_non_positive_step_is_rejected(step):
    with pytest.raises(ValueError, match="step size"):
        mala(gaussian_energy(MEAN, COV), torch.zeros(2, 2), step=step, n_steps=1)


def test_latent_mala_with_prior_samples_the_generator_density_tilted_by_the_energy():
    # G(z) = 2z makes p_G = N(0, 4 I); E(x) = ||x - m||^2 / 2 makes p_theta = N(m, I). The chain on
    # U(z) = E(G(z)) + ||z||^2 / 2 puts x = G(z) on p_G(x) e^{-E(x)} / C = N(m / 1.25, I / 1.25)
    # (precisions add: 1/4 + 1), not on p_theta: mean 1.6 and variance 0.8 instead of 2 and 1.
    m = torch.tensor([2.0, 0.0])
    E = lambda x: 0.5 * (x - m).pow(2).sum(1)
    G = lambda z: 2 * z
    z0 = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    res = mala(latent_energy(E, G, prior=True), z0, step=0.1, n_steps=200, generator=torch.Generator().manual_seed(1))
    x = G(res.z)
    torch.testing.assert_close(x.mean(0), m / 1.25, atol=0.06, rtol=0)
    torch.testing.assert_close(x.var(0), torch.full((2,), 1 / 1.25), atol=0.06, rtol=0)


def test_ula_noise_scale_is_a_temperature_and_clamp_keeps_the_range():
    # 1-D U = x^2 / 2 at noise sigma: z' = (1 - a) z + sigma sqrt(2a) eps, stationary variance sigma^2 / (1 - a/2).
    a, sigma = 0.2, 0.5
    U = lambda z: 0.5 * z.pow(2).sum(1)
    res = ula(U, torch.zeros(20000, 1), step=a, n_steps=80, generator=torch.Generator().manual_seed(3), noise=sigma)
    assert float(res.z.var()) == pytest.approx(sigma**2 / (1 - a / 2), rel=0.04)
    assert res.accept_per_step == [1.0] * 80
    clamped = ula(U, torch.zeros(500, 1), step=a, n_steps=20, generator=torch.Generator().manual_seed(3), clamp=(0.0, 0.3))
    hi = torch.tensor(0.3)
    assert bool(clamped.z.min() >= 0.0) and bool(clamped.z.max() <= hi) and bool((clamped.z == hi).any())


@pytest.mark.parametrize("kw", [dict(noise=0.5), dict(clamp=(0.0, 1.0))])
def test_mala_refuses_a_temperature_or_clamp(kw):
    with pytest.raises(ValueError, match="detailed balance"):
        langevin(gaussian_energy(MEAN, COV), torch.zeros(2, 2), step=0.1, n_steps=1, adjust=True, **kw)


@pytest.mark.parametrize("noise", [-0.1, float("inf"), True])
def test_bad_noise_scale_is_rejected(noise):
    with pytest.raises(ValueError, match="noise scale"):
        ula(gaussian_energy(MEAN, COV), torch.zeros(2, 2), step=0.1, n_steps=1, noise=noise)

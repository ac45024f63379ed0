"""Factor analysis: likelihood, posterior, EM monotonicity, the ELBO identity, rotation alignment."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from course_lib import factor_analysis as fa


def _truth(D=6, K=2, seed=0) -> fa.FAParams:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(D, K, generator=g, dtype=torch.float64)
    mu = torch.randn(D, generator=g, dtype=torch.float64)
    psi = 0.2 + torch.rand(D, generator=g, dtype=torch.float64)
    return fa.FAParams(W, mu, psi)


def _data(n=500, seed=0, **kw):
    p = _truth(**kw)
    x, z = fa.sample_fa(p, n, torch.Generator().manual_seed(seed + 100))
    return p, x


def test_log_likelihood_matches_scipy_multivariate_normal():
    p, x = _data(n=20)
    ref = multivariate_normal(p.mu.numpy(), p.covariance().numpy()).logpdf(x.numpy())
    np.testing.assert_allclose(fa.log_likelihood(x, p).numpy(), ref, rtol=1e-10, atol=1e-10)


def test_posterior_matches_gaussian_conditioning_of_the_joint():
    p, x = _data(n=5)
    # joint of (z, x): cov [[I, W^T], [W, C]]; p(z|x) = N(W^T C^-1 (x-mu), I - W^T C^-1 W)
    C = p.covariance()
    m_ref = (x - p.mu) @ torch.linalg.solve(C, p.W)
    S_ref = torch.eye(p.K, dtype=torch.float64) - p.W.T @ torch.linalg.solve(C, p.W)
    m, S = fa.posterior(x, p)
    torch.testing.assert_close(m, m_ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(S, S_ref, rtol=1e-10, atol=1e-10)


def test_e_step_second_moment_is_covariance_plus_outer_product():
    p, x = _data(n=4)
    Ez, Ezz = fa.e_step(x, p)
    m, S = fa.posterior(x, p)
    torch.testing.assert_close(Ezz[2], S + torch.outer(m[2], m[2]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_em_never_decreases_the_log_likelihood_from_random_starts(seed):
    _, x = _data(n=300, D=7, K=3)
    _, hist = fa.fit_em(x, n_factors=3, iters=60, seed=seed)
    diffs = np.diff(hist)
    assert (diffs >= -1e-10).all(), f"log-likelihood fell by {diffs.min()}"
    assert hist[-1] > hist[0] + 0.1


def test_em_recovers_the_covariance_and_w_up_to_rotation():
    p, x = _data(n=8000, D=6, K=2, seed=3)
    est, hist = fa.fit_em(x, n_factors=2, iters=150, seed=0)
    C, C_hat = p.covariance(), est.covariance()
    assert float((C_hat - C).abs().max() / C.abs().max()) < 0.05
    W_al, R = fa.align_rotation(est.W, p.W)
    torch.testing.assert_close(R @ R.T, torch.eye(2, dtype=torch.float64), rtol=0, atol=1e-10)
    assert float((W_al - p.W).norm() / p.W.norm()) < 0.05


def test_em_reaches_the_same_likelihood_as_sklearn():
    from sklearn.decomposition import FactorAnalysis

    _, x = _data(n=1000, D=6, K=2, seed=5)
    est, hist = fa.fit_em(x, n_factors=2, iters=300, seed=0)
    sk = FactorAnalysis(n_components=2, tol=1e-8, max_iter=5000, random_state=0).fit(x.numpy())
    assert hist[-1] == pytest.approx(sk.score(x.numpy()), abs=1e-3)


def test_m_step_is_a_fixed_point_at_convergence():
    _, x = _data(n=300)
    est, _ = fa.fit_em(x, n_factors=2, iters=600, seed=0)
    nxt = fa.m_step(x, *fa.e_step(x, est), est.mu)
    torch.testing.assert_close(nxt.covariance(), est.covariance(), rtol=1e-5, atol=1e-6)


def test_align_rotation_undoes_a_known_rotation():
    W = _truth(D=5, K=2).W
    a = 0.7
    R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    W_al, R_hat = fa.align_rotation(W @ R, W)
    torch.testing.assert_close(W_al, W, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(R_hat, R.T, rtol=1e-10, atol=1e-10)


def _rot(deg):
    a = math.radians(deg)
    return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)


@pytest.mark.parametrize("deg", [0.0, 11.4, -80.0, 150.0])
def test_decompose_orthogonal_2d_reads_a_rotation_angle(deg):
    flipped, theta = fa.decompose_orthogonal_2d(_rot(deg))
    assert flipped is None and theta == pytest.approx(deg, abs=1e-9)


@pytest.mark.parametrize("k, deg", [(0, 11.4), (1, -30.0), (0, 0.0), (1, 89.0)])
def test_decompose_orthogonal_2d_splits_a_reflection_into_a_sign_flip_and_a_small_rotation(k, deg):
    F = torch.eye(2, dtype=torch.float64)
    F[k, k] = -1.0
    flipped, theta = fa.decompose_orthogonal_2d(F @ _rot(deg))
    assert flipped == k and theta == pytest.approx(deg, abs=1e-9)
    F_back = torch.eye(2, dtype=torch.float64)
    F_back[flipped, flipped] = -1.0
    torch.testing.assert_close(F_back @ _rot(theta), F @ _rot(deg), rtol=0, atol=1e-12)


def test_decompose_orthogonal_2d_rejects_a_matrix_that_is_not_orthogonal():
    with pytest.raises(ValueError, match="orthogonal"):
        fa.decompose_orthogonal_2d(torch.tensor([[1.0, 0.5], [0.0, 1.0]]))


def test_log_p_equals_elbo_plus_kl_for_a_q_that_is_not_the_posterior():
    p, x = _data(n=3)
    m, S = fa.posterior(x, p)
    q_mean, q_cov = m[0] + torch.tensor([0.5, -0.3], dtype=torch.float64), 2.0 * S + 0.1 * torch.eye(2, dtype=torch.float64)
    e = fa.elbo(x[:1], p, q_mean, q_cov)
    kl = fa.gaussian_kl(q_mean, q_cov, m[0], S)
    assert float(kl) > 0.1  # q really is not the posterior
    torch.testing.assert_close(e + kl, fa.log_likelihood(x[:1], p), rtol=1e-12, atol=1e-10)


def test_elbo_equals_log_p_when_q_is_the_posterior():
    p, x = _data(n=4)
    m, S = fa.posterior(x, p)
    torch.testing.assert_close(fa.elbo(x, p, m, S), fa.log_likelihood(x, p), rtol=1e-12, atol=1e-10)


def test_elbo_matches_a_monte_carlo_estimate():
    p, x = _data(n=1)
    q_mean, q_cov = torch.tensor([0.3, -0.2], dtype=torch.float64), torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=torch.float64)
    q = torch.distributions.MultivariateNormal(q_mean, q_cov)
    torch.manual_seed(0)
    z = q.sample((200000,))
    lik = torch.distributions.Normal(z @ p.W.T + p.mu, p.psi.sqrt()).log_prob(x[0]).sum(1)
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    mc = (lik + prior - q.log_prob(z)).mean()
    assert float(fa.elbo(x, p, q_mean, q_cov)) == pytest.approx(float(mc), abs=0.02)


def test_gaussian_kl_is_zero_for_equal_and_matches_torch_distributions():
    m1, S1 = torch.tensor([0.1, 0.2], dtype=torch.float64), torch.tensor([[1.0, 0.3], [0.3, 0.8]], dtype=torch.float64)
    m2, S2 = torch.tensor([-0.4, 0.5], dtype=torch.float64), torch.tensor([[0.6, -0.1], [-0.1, 1.4]], dtype=torch.float64)
    assert float(fa.gaussian_kl(m1, S1, m1, S1)) == pytest.approx(0.0, abs=1e-12)
    ref = torch.distributions.kl_divergence(torch.distributions.MultivariateNormal(m1, S1), torch.distributions.MultivariateNormal(m2, S2))
    assert float(fa.gaussian_kl(m1, S1, m2, S2)) == pytest.approx(float(ref), rel=1e-10)


def test_bad_inputs_raise_value_error_saying_what_is_allowed():
    _, x = _data(n=10)
    with pytest.raises(ValueError, match="n_factors"):
        fa.fit_em(x, n_factors=6)
    with pytest.raises(ValueError, match="psi"):
        fa.FAParams(torch.ones(3, 1), torch.zeros(3), torch.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        fa.log_likelihood(torch.zeros(6), _truth())

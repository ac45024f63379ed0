"""f-divergences (Nowozin et al. 2016): each conjugate is the supremum that defines it, the variational bound
never exceeds the divergence and reaches it at T* = f'(p/q), and quadrature agrees with closed forms."""
import math

import pytest
import torch

from course_lib import divergences as dv
from course_lib import metrics, toys

X = torch.linspace(-12.0, 12.0, 24001, dtype=torch.float64)
DX = float(X[1] - X[0])


def normal(m, s, x=X):
    return torch.exp(-((x - m) ** 2) / (2 * s * s)) / (s * math.sqrt(2 * math.pi))


P, Q = normal(0.0, 1.0), normal(1.0, 1.5)   # a pair for which every divergence of the table is finite

# t inside dom f*, chosen so that the maximiser u* = (f')^{-1}(t) lies well inside the u grid below
T_RANGES = {"kl": (-3.0, 3.0), "reverse_kl": (-5.0, -0.1), "pearson": (-3.0, 3.0), "hellinger": (-3.0, 0.8),
            "js": (-3.0, 0.6), "gan": (-3.0, -0.1)}


def quadrature_bound(name, t):
    """int p T - int q f*(T) for a critic T given on the grid (the bound with exact expectations)."""
    return float(torch.trapezoid(P * t - Q * dv.conjugate(name, t), X))


@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_each_conjugate_is_the_supremum_of_u_t_minus_f_u(name):
    lo, hi = dv.f_domain(name)
    if lo == -math.inf:
        u = torch.linspace(-50.0, 50.0, 200001, dtype=torch.float64)
    else:
        u = torch.logspace(-6, 3, 50001, dtype=torch.float64)
    t = torch.linspace(*T_RANGES[name], 41, dtype=torch.float64)
    sup = torch.stack([(ti * u - dv.f(name, u)).max() for ti in t])
    expected = dv.conjugate(name, t)
    assert torch.allclose(sup, expected, rtol=1e-5, atol=1e-5)  # two-sided: |sup - f*| <= 1e-5 (1 + |f*|)


def test_the_conjugate_is_infinite_outside_its_domain():
    assert torch.isinf(dv.conjugate("reverse_kl", 0.5)) and torch.isinf(dv.conjugate("hellinger", 1.0))
    assert torch.isinf(dv.conjugate("js", math.log(2) + 0.1)) and torch.isfinite(dv.conjugate("js", 0.6))


@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_the_activation_maps_the_real_line_into_the_conjugates_domain(name):
    lo, hi = dv.conjugate_domain(name)
    v = torch.linspace(-30.0, 30.0, 601, dtype=torch.float64)
    t = dv.activation(name, v)
    assert bool(((t > lo) & (t < hi)).all())
    v_mid = torch.linspace(-4.0, 4.0, 81, dtype=torch.float64)
    assert torch.allclose(dv.inverse_activation(name, dv.activation(name, v_mid)), v_mid, atol=1e-9, rtol=0)
    # the bound uses f*(g_f(v)) in a form that stays finite; it is the same function
    direct = dv.conjugate(name, dv.activation(name, v_mid))
    assert torch.allclose(dv._get(name).conjugate_of_activation(v_mid), direct, atol=1e-9, rtol=1e-9)


def test_variational_bound_and_losses_match_hand_computed_values():
    v_real, v_fake = torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0])
    # kl: g_f(v) = v, f*(t) = exp(t - 1): F = (0 + 1)/2 - (e^-1 + e^0)/2
    expected = 0.5 - (math.exp(-1) + 1) / 2
    assert float(dv.variational_bound("kl", v_real, v_fake)) == pytest.approx(expected, abs=1e-6)
    # at v = 0: gan's T = log sigmoid(0) = -log 2 and f*(T) = log 2, so F = -log 4; js's T = 0 and f*(0) = 0
    zero = torch.zeros(3)
    assert float(dv.variational_bound("gan", zero, zero)) == pytest.approx(-math.log(4), abs=1e-6)
    assert float(dv.variational_bound("js", zero, zero)) == pytest.approx(0.0, abs=1e-6)
    loss, parts = dv.fgan_d_loss("kl", v_real, v_fake)
    assert float(loss) == pytest.approx(-expected, abs=1e-6) and float(parts["bound"]) == pytest.approx(expected, abs=1e-6)
    # pearson at v = 2: g_f(2) = 2 and f*(2) = 4/4 + 2 = 3
    two = torch.tensor([2.0])
    assert float(dv.fgan_g_loss("pearson", two, "alternative")[0]) == pytest.approx(-2.0, abs=1e-6)
    assert float(dv.fgan_g_loss("pearson", two, "saddle")[0]) == pytest.approx(-3.0, abs=1e-6)


def test_the_gan_divergence_with_the_alternative_generator_loss_is_the_non_saturating_gan():
    from course_lib import losses

    v = torch.tensor([-2.0, 0.0, 3.0])
    assert torch.allclose(dv.fgan_g_loss("gan", v)[0], losses.g_loss_non_saturating(v)[0], atol=1e-6, rtol=0)
    assert torch.allclose(dv.fgan_g_loss("gan", v, "saddle")[0], losses.g_loss_minimax(v)[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_the_bound_never_exceeds_the_divergence_for_any_critic(name):
    exact = dv.exact_divergence(name, P, Q, X)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):  # random quadratic critics v(x) = a + b x + c x^2, through the output activation
        a, b, c = (torch.randn(3, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 1.0, 0.1], dtype=torch.float64))
        bound = quadrature_bound(name, dv.activation(name, a + b * X + c * X ** 2))
        assert bound <= exact + 1e-12
    assert quadrature_bound(name, dv.activation(name, torch.zeros_like(X))) < exact - 1e-3  # a constant critic is loose


@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_the_bound_is_tight_at_the_optimal_critic(name):
    exact = dv.exact_divergence(name, P, Q, X)
    t_star = dv.optimal_critic(name, P, Q)               # T*(x) = f'(p(x)/q(x))
    assert quadrature_bound(name, t_star) == pytest.approx(exact, abs=1e-9)
    v_star = dv.inverse_activation(name, t_star)          # the network output that gives T*
    bound = float(torch.trapezoid(P * dv.activation(name, v_star), X)
                  - torch.trapezoid(Q * dv._get(name).conjugate_of_activation(v_star), X))
    assert bound == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 1.0, 1.5), (0.5, 0.7, -1.0, 1.2), (2.0, 1.0, 2.0, 1.0)])
def test_kl_by_quadrature_matches_the_gaussian_closed_form(m1, s1, m2, s2):
    p, q = normal(m1, s1), normal(m2, s2)
    assert dv.exact_divergence("kl", p, q, X) == pytest.approx(dv.gaussian_kl(m1, s1, m2, s2), abs=1e-9)
    assert dv.exact_divergence("reverse_kl", p, q, X) == pytest.approx(dv.gaussian_kl(m2, s2, m1, s1), abs=1e-9)


def test_kl_closed_form_matches_a_hand_computed_value():
    # KL(N(0, 1) || N(1, 2^2)) = log 2 + (1 + 1)/8 - 1/2
    assert dv.gaussian_kl(0.0, 1.0, 1.0, 2.0) == pytest.approx(math.log(2) + 0.25 - 0.5, abs=1e-12)


def test_js_is_twice_the_jensen_shannon_divergence_and_gan_subtracts_log_4():
    jsd = metrics.js_divergence(P, Q, DX)
    assert dv.exact_divergence("js", P, Q, X) == pytest.approx(2 * jsd, abs=1e-9)
    assert dv.exact_divergence("gan", P, Q, X) == pytest.approx(2 * jsd - math.log(4), abs=1e-9)


def test_pearson_and_hellinger_match_their_closed_forms_for_gaussians():
    # chi^2(N(0,1) || N(0,s^2)) = s^2 / sqrt(2 s^2 - 1) - 1; H^2 = int (sqrt p - sqrt q)^2 = 2 - 2 sqrt(2 s / (1 + s^2))
    s = 1.5
    p, q = normal(0.0, 1.0), normal(0.0, s)
    assert dv.exact_divergence("pearson", p, q, X) == pytest.approx(s ** 2 / math.sqrt(2 * s ** 2 - 1) - 1, abs=1e-9)
    assert dv.exact_divergence("hellinger", p, q, X) == pytest.approx(2 - 2 * math.sqrt(2 * s / (1 + s ** 2)), abs=1e-9)


@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_a_distribution_is_at_divergence_f_of_one_from_itself(name):
    expected = -math.log(4) if name == "gan" else 0.0   # f(1) = 0 for every f but gan's, whose f(1) = -log 4
    assert dv.exact_divergence(name, P, P, X) == pytest.approx(expected, abs=1e-9)


def test_a_trained_critic_nearly_reaches_the_kl_between_two_gaussians():
    p, q = toys.gaussian1d(0.0, 1.0), toys.gaussian1d(1.0, 1.0)
    exact = dv.gaussian_kl(0.0, 1.0, 1.0, 1.0)  # 0.5
    fit = dv.fit_critic_bound("kl", p.sample, q.sample, steps=300, n_eval=50_000, seed=0)
    assert exact - 0.05 <= fit.bound <= exact + 0.03   # below by the critic's error, above only by sampling noise
    assert len(fit.history) == 300
    again = dv.fit_critic_bound("kl", p.sample, q.sample, steps=300, n_eval=50_000, seed=0)
    assert again.bound == fit.bound   # seeded


def test_bad_inputs_are_rejected_with_what_to_change():
    with pytest.raises(ValueError, match=r"unknown f-divergence 'chi2'; choose one of \('kl'"):
        dv.f("chi2", 1.0)
    with pytest.raises(ValueError, match="unknown f-divergence"):
        dv.FGANObjective("wasserstein")
    with pytest.raises(ValueError, match="'alternative' or 'saddle'"):
        dv.FGANObjective("kl", generator_loss="minimax")
    with pytest.raises(ValueError, match="strictly increasing"):
        dv.exact_divergence("kl", P, Q, X.flip(0))
    with pytest.raises(ValueError, match="one length"):
        dv.exact_divergence("kl", P, Q[:-1], X)
    with pytest.raises(ValueError, match="standard deviations must be > 0"):
        dv.gaussian_kl(0.0, 0.0, 1.0, 1.0)

"""Maximum-entropy EBM pieces (Kumar et al. 2019): energy loss, MI estimator, objective, grid log Z."""
import math
import warnings

import pytest
import torch

from course_lib.energy import (TOY_A, toy_pairs, EnergyMLP, GridDensity, MaxEntObjective, StatisticsNetwork, energy_loss, energy_nll,
                               fit_mi_estimator, grad_norm_sq, log_partition_2d, mi_jsd, shuffle_per_dimension, true_nll)
from course_lib.models import Generator
from course_lib.toys import ring8
from course_lib.train import TrainConfig, train


class Quadratic(torch.nn.Module):
    """E(x) = a ||x - m||^2 / 2 (+ c), a Gaussian energy with known log Z = log(2 pi / a) - c."""

    def __init__(self, a=2.0, m=(0.5, -0.3), c=0.7):
        super().__init__()
        self.a, self.c = a, c
        self.m = torch.nn.Parameter(torch.tensor(m))

    def forward(self, x):
        return 0.5 * self.a * (x - self.m).pow(2).sum(1) + self.c


def test_per_sample_gradient_norm_matches_hand_computed_gradient():
    E = Quadratic(a=2.0, m=(0.0, 0.0), c=0.0)
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    sq, e = grad_norm_sq(E, x)  # grad = a x, so ||grad||^2 = a^2 ||x||^2
    torch.testing.assert_close(sq, torch.tensor([4 * 5.0, 4 * 9.0]))
    torch.testing.assert_close(e, torch.tensor([5.0, 9.0]))


def test_energy_loss_is_mean_real_minus_mean_fake_plus_lambda_penalty():
    e_real, e_fake, sq = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5]), torch.tensor([2.0, 4.0])
    loss, parts = energy_loss(e_real, e_fake, sq, lam=0.5)
    assert float(loss) == pytest.approx(2.0 - 0.0 + 0.5 * 3.0, abs=1e-6)
    assert parts["grad_penalty"] == pytest.approx(3.0, abs=1e-6)


@pytest.mark.parametrize("lam", [-0.1, float("nan"), float("inf")])
def test_negative_or_non_finite_lambda_is_rejected(lam):
    with pytest.raises(ValueError, match="lambda"):
        energy_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2), lam)
    with pytest.raises(ValueError, match="lambda"):
        MaxEntObjective(StatisticsNetwork(), lam=lam)


def test_shuffle_per_dimension_permutes_each_column_independently():
    z = torch.arange(200.0).reshape(100, 2)
    z[:, 1] += 1000
    zt = shuffle_per_dimension(z, torch.Generator().manual_seed(0))
    for j in range(2):  # same multiset per column
        torch.testing.assert_close(zt[:, j].sort().values, z[:, j].sort().values)
    rows_0 = (zt[:, 0] / 2).long()  # row each coordinate came from
    rows_1 = ((zt[:, 1] - 1001) / 2).long()
    assert (rows_0 != rows_1).float().mean() > 0.9  # the two columns were shuffled separately


def test_jsd_estimate_is_zero_for_constant_critic_and_bounded_by_two_log_two():
    mi, _ = mi_jsd(torch.zeros(10), torch.zeros(10))  # T = 0 is optimal when joint = product
    assert float(mi) == pytest.approx(0.0, abs=1e-6)
    mi, _ = mi_jsd(torch.full((10,), 50.0), torch.full((10,), -50.0))
    assert float(mi) == pytest.approx(2 * math.log(2), abs=1e-6)


def test_entropy_estimator_is_near_zero_for_independent_x_and_z():
    torch.manual_seed(0)
    mi = fit_mi_estimator(StatisticsNetwork(hidden=64), toy_pairs(False), steps=300, seed=0)
    assert -0.05 < mi < 0.05


def test_entropy_estimator_is_large_for_x_a_function_of_z():
    torch.manual_seed(0)
    mi = fit_mi_estimator(StatisticsNetwork(hidden=64), toy_pairs(True), steps=300, seed=0)
    assert 0.9 < mi <= 2 * math.log(2) + 1e-6


def test_grid_log_partition_of_gaussian_energy_matches_closed_form():
    E = Quadratic(a=2.0, m=(0.5, -0.3), c=0.7)
    res = log_partition_2d(E, ((-6, 6), (-6, 6)), n=300)
    assert isinstance(res, GridDensity)
    assert res.log_z == pytest.approx(math.log(2 * math.pi / 2.0) - 0.7, abs=1e-4)
    assert float(res.density().sum() * res.cell_area) == pytest.approx(1.0, abs=1e-6)


def test_exact_nll_of_gaussian_energy_equals_gaussian_nll():
    E = Quadratic(a=1.0, m=(0.0, 0.0), c=0.0)
    x = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    log_z = log_partition_2d(E, ((-7, 7), (-7, 7)), n=300).log_z
    want = float(-torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2)).log_prob(x).mean())
    assert energy_nll(E, x, log_z) == pytest.approx(want, abs=1e-4)


def test_true_nll_uses_the_mixture_density():
    t = ring8()
    x = t.sample(500, torch.Generator().manual_seed(0))
    assert true_nll(t, x) == pytest.approx(float(-t.log_prob(x).mean()), abs=1e-6)


def test_grid_that_misses_the_data_warns_with_the_mass_outside():
    E = Quadratic(a=1.0, m=(0.0, 0.0), c=0.0)
    data = torch.tensor([[0.0, 0.0], [7.0, 0.0], [0.5, 0.5], [0.1, 0.1]])  # one point in four beyond x = 6
    with pytest.warns(UserWarning, match=r"25\.00% of the data lies outside"):
        log_partition_2d(E, ((-6, 6), (-6, 6)), n=50, data=data)


def test_grid_that_cuts_the_density_warns_about_the_edge():
    E = Quadratic(a=1.0, m=(0.0, 0.0), c=0.0)
    with pytest.warns(UserWarning, match="edge of the grid"):
        log_partition_2d(E, ((-1, 1), (-1, 1)), n=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_partition_2d(E, ((-8, 8), (-8, 8)), n=100)


def test_bad_grid_bounds_are_rejected():
    with pytest.raises(ValueError, match="x0 < x1"):
        log_partition_2d(Quadratic(), ((1, -1), (-1, 1)))


def test_maxent_objective_trains_T_with_G_and_logs_mi():
    torch.manual_seed(0)
    G, E, T = Generator(2, 2, hidden=32), EnergyMLP((2,), hidden=32), StatisticsNetwork((2,), 2, hidden=32)
    T0 = [p.detach().clone() for p in T.parameters()]
    obj = MaxEntObjective(T, lam=0.1, mi_weight=1.0, seed=0)
    assert obj.modules() == [T]
    t = ring8()
    h = train(G, E, t.sample, obj, TrainConfig(steps=5, batch_size=32, progress=False))
    assert len(h["mi"]) == 5 and len(h["grad_penalty"]) == 5
    assert any(not torch.equal(a, b) for a, b in zip(T0, T.parameters()))
    assert MaxEntObjective(T, mi_weight=0.0).modules() == []


def test_confined_energy_adds_the_base_gaussian_energy():
    E = EnergyMLP((2,), hidden=8, confine=2.0)
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    free = E.net(x).squeeze(-1)
    torch.testing.assert_close(E(x), free + torch.tensor([5.0, 0.0]) / (2 * 4.0))
    with pytest.raises(ValueError, match="confine"):
        EnergyMLP((2,), confine=0.0)


def test_energy_l2_adds_the_squared_energies():
    e_real, e_fake, sq = torch.tensor([1.0, 3.0]), torch.tensor([0.5, -0.5]), torch.zeros(2)
    base, _ = energy_loss(e_real, e_fake, sq, lam=0.0)
    loss, _ = energy_loss(e_real, e_fake, sq, lam=0.0, energy_l2=0.1)
    assert float(loss - base) == pytest.approx(0.1 * (5.0 + 0.25), abs=1e-6)
    with pytest.raises(ValueError, match="energy_l2"):
        energy_loss(e_real, e_fake, sq, lam=0.0, energy_l2=-1.0)


def test_evaluate_2d_reports_modes_w1_and_nlls():
    from course_lib.energy import evaluate_2d, pad_bounds
    assert pad_bounds(((-1, 1), (0, 2)), 2.0) == ((-2.0, 2.0), (-1.0, 3.0))
    torch.manual_seed(0)
    t = ring8(std=0.1)
    G, E = Generator(2, 2, hidden=8), Quadratic(a=0.5, m=(0.0, 0.0), c=0.0)
    r = evaluate_2d(t, G, E, n=200, grid=150)
    assert {"modes", "n_modes", "hq", "w1", "nll", "true_nll", "log_z"} <= set(r)
    assert r["n_modes"] == 8 and r["w1"] > 0
    assert r["log_z"] == pytest.approx(math.log(2 * math.pi / 0.5), abs=1e-3)


def test_dependent_toy_pairs_are_tanh_of_the_documented_matrix_times_z():
    x, z = toy_pairs(True)(5, torch.Generator().manual_seed(0))
    torch.testing.assert_close(x, torch.tanh((TOY_A @ z.T).T))

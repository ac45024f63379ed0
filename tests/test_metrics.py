import math

import pytest
import torch

from course_lib import metrics, toys


def test_mode_stats_on_samples_with_a_known_answer():
    t = toys.ring8(std=0.02)
    centers = t.centers
    # 100 samples on each of 5 modes (exactly at the centre), 100 far away from every mode
    good = centers[:5].repeat_interleave(100, dim=0)
    bad = torch.full((100, 2), 10.0)
    stats = metrics.mode_stats(torch.cat([good, bad]), centers, t.std)
    assert stats.modes_covered == 5 and stats.n_modes == 8
    assert stats.high_quality_fraction == pytest.approx(500 / 600)
    assert stats.counts[:5] == [100] * 5 and stats.counts[5:] == [0] * 3
    assert stats.min_count == math.ceil(0.2 * 600 / 8)


def test_mode_is_not_covered_below_the_threshold_and_3_std_is_the_boundary():
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    near = torch.tensor([[0.29, 0.0]] * 50)      # inside 3 * 0.1
    outside = torch.tensor([[0.31, 0.0]] * 50)   # just outside 3 * 0.1
    lone = torch.tensor([[10.0, 0.0]] * 2)       # 2 < min_count = ceil(0.2 * 102 / 2) = 11
    stats = metrics.mode_stats(torch.cat([near, outside, lone]), centers, std=0.1)
    assert stats.counts == [50, 2] and stats.modes_covered == 1
    assert stats.high_quality_fraction == pytest.approx(52 / 102)


def test_a_perfect_generator_covers_every_mode_of_grid25():
    t = toys.grid25()
    x = t.sample(2500, torch.Generator().manual_seed(0))
    stats = metrics.mode_stats(x, t.centers, t.std)
    assert stats.modes_covered == 25 and stats.high_quality_fraction > 0.98  # 3 std in 2-D holds 98.9 %


def test_mode_stats_rejects_nan_samples():
    with pytest.raises(ValueError, match="NaN"):
        metrics.mode_stats(torch.tensor([[float("nan"), 0.0]]), torch.zeros(1, 2), 1.0)


def test_wasserstein_distance_of_a_shift_is_the_shift_length():
    a = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    assert metrics.wasserstein_distance(a, a) == pytest.approx(0.0, abs=1e-12)
    assert metrics.wasserstein_distance(a, a + torch.tensor([0.3, 0.4])) == pytest.approx(0.5, abs=1e-6)
    assert metrics.wasserstein_distance(torch.zeros(3, 1), torch.tensor([[1.0], [2.0], [3.0]])) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="equal size"):
        metrics.wasserstein_distance(a, a[:10])


def test_optimal_discriminator_matches_density_ratio():
    p, q = torch.tensor([0.2, 0.0, 0.5, 0.0]), torch.tensor([0.6, 0.3, 0.5, 0.0])
    assert metrics.optimal_discriminator(p, q).tolist() == pytest.approx([0.25, 0.0, 0.5, 0.5])


def test_game_value_at_the_optimal_discriminator_is_2_jsd_minus_log_4():
    xs = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    dx = float(xs[1] - xs[0])
    normal = lambda m, s: torch.exp(-0.5 * ((xs - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    p, q = normal(0.0, 1.0), normal(1.5, 0.7)
    d_star = metrics.optimal_discriminator(p, q)
    jsd = metrics.js_divergence(p, q, dx)
    assert 0 < jsd < math.log(2)
    assert metrics.game_value(p, q, d_star, dx) == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-6)
    assert metrics.js_divergence(p, p, dx) == pytest.approx(0.0, abs=1e-12)
    # disjoint supports: JSD = log 2
    assert metrics.js_divergence(normal(-6.0, 0.3), normal(6.0, 0.3), dx) == pytest.approx(math.log(2), abs=1e-6)


def test_mode_histogram_counts_modes_and_the_kl_from_uniform():
    from course_lib.metrics import mode_histogram

    even = mode_histogram(torch.arange(1000).repeat(3), 1000)
    assert even["covered"] == 1000 and even["kl_uniform"] == pytest.approx(0.0, abs=1e-12)
    one = mode_histogram(torch.full((26000,), 7), 1000)
    assert one["covered"] == 1 and one["kl_uniform"] == pytest.approx(math.log(1000))
    half = mode_histogram(torch.tensor([0, 1] * 50), 4)   # two of four modes, evenly: KL = log 2
    assert half["covered"] == 2 and half["kl_uniform"] == pytest.approx(math.log(2))
    assert half["counts"].tolist() == [50, 50, 0, 0]
    with pytest.raises(ValueError, match="0..3"):
        mode_histogram(torch.tensor([0, 4]), 4)

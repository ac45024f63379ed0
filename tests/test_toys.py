import math

import pytest
import torch

from course_lib import toys


def _integrate_2d(target, n=600):
    xs, ys, pts = toys.grid_2d(target.bounds, n)
    pts = pts.double()
    dx, dy = float(xs[1] - xs[0]), float(ys[1] - ys[0])
    return float(target.log_prob(pts).exp().sum()) * dx * dy


@pytest.mark.parametrize("name", ["ring8", "grid25", "rings"])
def test_2d_densities_integrate_to_one(name):
    target = toys.make_target(name, **({"std": 0.1} if name != "rings" else {}))
    assert _integrate_2d(target) == pytest.approx(1.0, abs=2e-3)


def test_1d_gaussian_density_integrates_to_one_and_matches_closed_form():
    t = toys.gaussian1d(mean=2.0, std=0.5)
    xs = torch.linspace(-3, 7, 20001, dtype=torch.float64)[:, None]
    dx = float(xs[1, 0] - xs[0, 0])
    assert float(t.log_prob(xs).exp().sum()) * dx == pytest.approx(1.0, abs=1e-6)
    expected = -0.5 * math.log(2 * math.pi * 0.25)
    assert float(t.log_prob(torch.tensor([[2.0]]))) == pytest.approx(expected, abs=1e-6)


def test_mixture_samples_have_the_right_moments():
    g = torch.Generator().manual_seed(0)
    t = toys.ring8(radius=2.0, std=0.02)
    x = t.sample(40000, g)
    assert x.shape == (40000, 2)
    assert x.mean(0).abs().max() < 0.03  # symmetric ring: mean at the origin
    # E||x||^2 = r^2 + 2 std^2
    assert float((x ** 2).sum(1).mean()) == pytest.approx(4.0 + 2 * 0.02 ** 2, rel=1e-3)
    g1d = toys.gaussian1d(2.0, 0.5).sample(40000, g)
    assert float(g1d.mean()) == pytest.approx(2.0, abs=0.02)
    assert float(g1d.std()) == pytest.approx(0.5, abs=0.01)


def test_grid25_has_25_modes_and_uniform_weights():
    t = toys.grid25()
    assert t.centers.shape == (25, 2) and torch.allclose(t.weights, torch.full((25,), 0.04))


def test_origin_line_swissroll_and_rings_samplers():
    g = torch.Generator().manual_seed(1)
    assert torch.equal(toys.make_target("origin").sample(5, g), torch.zeros(5, 2))
    line = toys.make_target("line").sample(20000, g)
    assert torch.allclose(line[:, 0], line[:, 1])  # the segment y = x
    assert float(line[:, 0].mean()) == pytest.approx(0.0, abs=0.02)
    assert float(line[:, 0].var()) == pytest.approx(4 / 12, rel=0.03)  # U[-1, 1] has variance 1/3
    rings = toys.make_target("rings").sample(30000, g)
    assert float(rings.norm(dim=1).mean()) == pytest.approx(2.0, abs=0.03)  # radii 1, 2, 3 equally likely
    roll = toys.make_target("swissroll").sample(1000, g)
    assert roll.shape == (1000, 2) and torch.isfinite(roll).all()


def test_singular_targets_say_they_have_no_density():
    line = toys.make_target("line")
    assert not line.has_density and toys.ring8().has_density
    with pytest.raises(NotImplementedError, match="no density"):
        line.log_prob(torch.zeros(1, 2))


def test_unknown_target_and_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="ring8"):
        toys.make_target("moons")
    with pytest.raises(ValueError, match="positive integer"):
        toys.ring8().sample(0)
    with pytest.raises(ValueError, match="std"):
        toys.GaussianMixture([[0.0, 0.0]], std=0.0)


def test_widened_targets_are_the_chapters_06_and_10_mixtures():
    w = toys.widened()
    assert sorted(w) == ["grid25", "ring8", "swissroll"]
    assert w["ring8"].std == 0.1 and len(w["ring8"].centers) == 8
    assert len(w["grid25"].centers) == 25 and float(w["grid25"].centers.abs().max()) == 2.0   # spacing 1

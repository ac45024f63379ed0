"""The loss functionals of LeCun et al. 2006 against hand-computed values."""
import math

import pytest
import torch

from course_lib import functionals as F

E_POS = torch.tensor([1.0, 0.5, -2.0])
E_ALL = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.5, 4.0], [-1.0, 0.0, 1.0]])  # energies of three answers per example
E_NEG = torch.tensor([2.5, 0.0, -2.5])


def test_energy_loss_is_the_correct_energy():
    assert torch.equal(F.energy_loss(E_POS), E_POS)


def test_perceptron_loss_by_hand():
    # min over all answers (the correct one among them): 0, 0.5 (the correct one), -2 (the correct one)
    assert torch.allclose(F.perceptron_loss(E_POS, E_ALL), torch.tensor([1.0, 0.0, 0.0]))


def test_hinge_loss_by_hand():
    # max(0, m + e_pos - e_neg) with m = 1: 1 + 1 - 2.5 -> 0; 1 + 0.5 - 0 = 1.5; 1 - 2 + 2.5 = 1.5
    assert torch.allclose(F.hinge_loss(E_POS, E_NEG, margin=1.0), torch.tensor([0.0, 1.5, 1.5]))
    assert torch.allclose(F.hinge_loss(E_POS, E_NEG, margin=2.0), torch.tensor([0.5, 2.5, 2.5]))


def test_log_loss_by_hand():
    expect = torch.tensor([math.log1p(math.exp(-1.5)), math.log1p(math.exp(0.5)), math.log1p(math.exp(0.5))])
    assert torch.allclose(F.log_loss(E_POS, E_NEG), expect)


def test_nll_loss_by_hand_and_as_a_normalised_density():
    expect = torch.tensor([1.0 + math.log(1 + math.exp(-3) + math.exp(-1)),
                           0.5 + math.log(math.exp(-2) + math.exp(-0.5) + math.exp(-4)),
                           -2.0 + math.log(math.e + 1 + math.exp(-1))])
    assert torch.allclose(F.nll_loss(E_POS, E_ALL), expect)
    # beta: (1/beta) log sum exp(-beta E)
    b = 2.0
    got = F.nll_loss(E_POS[:1], E_ALL[:1], beta=b)
    assert math.isclose(float(got), 1.0 + math.log(1 + math.exp(-6) + math.exp(-2)) / b, rel_tol=1e-6)
    # on a grid of cells the loss is -log p of a normalised density: E = x^2/2 on a fine grid -> log Z = log sqrt(2 pi)
    x = torch.linspace(-8, 8, 4001)
    dx = float(x[1] - x[0])
    nll0 = F.nll_loss(torch.zeros(1), (x**2 / 2)[None], log_volume=math.log(dx))
    assert math.isclose(float(nll0), 0.5 * math.log(2 * math.pi), abs_tol=1e-4)


def test_most_offending_ignores_correct_answers():
    incorrect = torch.tensor([[True, True, False], [False, True, True]])
    got = F.most_offending(E_ALL[:2], incorrect)
    assert torch.equal(got, torch.tensor([0.0, 0.5]))
    with pytest.raises(ValueError, match="incorrect candidate"):
        F.most_offending(E_ALL[:1], torch.tensor([[False, False, False]]))


def test_dispatch_and_bad_input():
    assert torch.allclose(F.loss("hinge", E_POS, e_neg=E_NEG), F.hinge_loss(E_POS, E_NEG))
    assert torch.allclose(F.loss("nll", E_POS, e_all=E_ALL), F.nll_loss(E_POS, E_ALL))
    with pytest.raises(ValueError, match="unknown loss functional"):
        F.loss("square", E_POS)
    with pytest.raises(ValueError, match="e_all"):
        F.loss("perceptron", E_POS)
    with pytest.raises(ValueError, match="e_neg"):
        F.loss("log", E_POS)
    for m in (-1.0, 0.0, float("nan"), True):
        with pytest.raises(ValueError, match="margin"):
            F.hinge_loss(E_POS, E_NEG, margin=m)
    with pytest.raises(ValueError, match="beta"):
        F.nll_loss(E_POS, E_ALL, beta=0.0)

import math

import pytest
import torch

from course_lib import losses

LN3 = math.log(3.0)


def test_discriminator_cross_entropy_matches_hand_computed_value():
    d_real = torch.tensor([0.0, LN3])     # D = 0.5, 0.75
    d_fake = torch.tensor([0.0, -LN3])    # D = 0.5, 0.25
    loss, parts = losses.d_loss_cross_entropy(d_real, d_fake)
    expected_real = -(math.log(0.5) + math.log(0.75)) / 2
    expected_fake = -(math.log(0.5) + math.log(0.75)) / 2
    assert float(loss) == pytest.approx(expected_real + expected_fake, abs=1e-6)
    assert parts["D_real"] == pytest.approx(0.625, abs=1e-6) and parts["D_fake"] == pytest.approx(0.375, abs=1e-6)


def test_generator_losses_match_hand_computed_values():
    d_fake = torch.tensor([0.0, -LN3])    # D = 0.5, 0.25
    assert float(losses.g_loss_minimax(d_fake)[0]) == pytest.approx((math.log(0.5) + math.log(0.75)) / 2, abs=1e-6)
    assert float(losses.g_loss_non_saturating(d_fake)[0]) == pytest.approx(-(math.log(0.5) + math.log(0.25)) / 2, abs=1e-6)
    assert float(losses.g_loss_maximum_likelihood(d_fake)[0]) == pytest.approx(-0.5 * (1 + 1 / 3) / 2, abs=1e-6)


def test_minimax_loss_saturates_where_the_non_saturating_one_does_not():
    """When D rejects the fakes (logit -8), d J / d logit is about -D ~ 0 for minimax and -(1 - D) ~ -1 for NS."""
    grads = {}
    for name in ("minimax", "non_saturating"):
        logit = torch.tensor([-8.0], requires_grad=True)
        losses.generator_loss(name)(logit)[0].backward()
        grads[name] = float(logit.grad)
    d = 1 / (1 + math.exp(8))
    assert grads["minimax"] == pytest.approx(-d, rel=1e-5)
    assert grads["non_saturating"] == pytest.approx(-(1 - d), rel=1e-5)


def test_maximum_likelihood_loss_gradient_matches_the_formula():
    """d/dlogit of -1/2 exp(logit) = -1/2 exp(logit) = -1/2 D / (1 - D)."""
    logit = torch.tensor([0.7], requires_grad=True)
    losses.g_loss_maximum_likelihood(logit)[0].backward()
    D = 1 / (1 + math.exp(-0.7))
    assert float(logit.grad) == pytest.approx(-0.5 * D / (1 - D), rel=1e-6)


def test_generator_loss_of_D_inverts_the_sigmoid():
    D = torch.tensor([0.25, 0.5])
    out = losses.generator_loss_of_D("non_saturating", D)
    assert out.tolist() == pytest.approx([-math.log(0.25), -math.log(0.5)], abs=1e-9)


def test_unknown_loss_names_are_rejected_with_the_choices():
    with pytest.raises(ValueError, match="non_saturating"):
        losses.generator_loss("wasserstein")
    with pytest.raises(ValueError, match="minimax"):
        losses.GANObjective(generator_loss="hinge")

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


# ================================================================ WGAN, WGAN-GP, unrolled GAN
from torch import nn  # noqa: E402

from course_lib import ensemble, models  # noqa: E402


def test_wgan_losses_match_hand_computed_values():
    d_real, d_fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    loss, parts = losses.wgan_d_loss(d_real, d_fake)
    assert float(loss) == pytest.approx(1.0 - 2.0, abs=1e-6)        # E[D(fake)] - E[D(real)]
    assert float(parts["wasserstein"]) == pytest.approx(1.0, abs=1e-6)
    assert float(losses.wgan_g_loss(d_fake)[0]) == pytest.approx(-1.0, abs=1e-6)


def _critic(seed=0, x_dim=2):
    torch.manual_seed(seed)
    return models.Discriminator(x_dim, 16, 2, "tanh").double()


def test_gradient_penalty_takes_one_norm_per_sample_as_an_explicit_loop_does():
    D = _critic()
    gen = torch.Generator().manual_seed(1)
    x_real, x_fake = torch.randn(8, 2, generator=gen, dtype=torch.float64), torch.randn(8, 2, generator=gen, dtype=torch.float64)
    penalty = losses.gradient_penalty(D, x_real, x_fake, torch.Generator().manual_seed(5), lam=10.0)
    x_hat = losses.interpolates(x_real, x_fake, torch.Generator().manual_seed(5))
    norms = []
    for i in range(len(x_hat)):  # one sample at a time
        xi = x_hat[i:i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(D(xi).sum(), xi)
        norms.append(float(g.norm()))
    expected = 10.0 * sum((n - 1) ** 2 for n in norms) / len(norms)
    assert penalty.item() == pytest.approx(expected, abs=1e-12)


def test_gradient_penalty_differs_from_one_norm_over_the_whole_batch():
    """For D(x) = w.x every sample's gradient is w: per sample (||w|| - 1)^2, over the batch (sqrt(B) ||w|| - 1)^2."""
    D = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[0.6, 0.8]]))  # ||w|| = 1
    critic = lambda x: D(x).squeeze(-1)  # noqa: E731
    x = torch.randn(16, 2, dtype=torch.float64)
    per_sample = losses.gradient_penalty(critic, x, x.flip(0), torch.Generator().manual_seed(0), lam=1.0)
    assert per_sample.item() == pytest.approx(0.0, abs=1e-12)
    whole_batch = (math.sqrt(16) * 1.0 - 1) ** 2
    assert whole_batch == pytest.approx(9.0) and abs(per_sample.item() - whole_batch) > 1


def test_gradient_penalty_of_an_ensemble_is_each_members_own_penalty():
    singles = [_critic(seed) for seed in range(3)]
    ens = ensemble.ensemble_of(singles)
    gen = torch.Generator().manual_seed(2)
    x_real, x_fake = torch.randn(3, 8, 2, generator=gen, dtype=torch.float64), torch.randn(3, 8, 2, generator=gen, dtype=torch.float64)
    lam = torch.tensor([1.0, 10.0, 5.0], dtype=torch.float64)
    penalty = losses.gradient_penalty(ens, x_real, x_fake, torch.Generator().manual_seed(7), lam)
    assert penalty.shape == (3,)
    for k, D in enumerate(singles):
        own = losses.gradient_penalty(D, x_real[k], x_fake[k], torch.Generator().manual_seed(7), float(lam[k]))
        assert penalty[k].item() == pytest.approx(own.item(), abs=1e-12)


def test_interpolates_are_seeded_and_lie_between_the_pairs():
    x_real, x_fake = torch.zeros(50, 2), torch.ones(50, 2)
    a = losses.interpolates(x_real, x_fake, torch.Generator().manual_seed(3))
    b = losses.interpolates(x_real, x_fake, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and bool(((a >= 0) & (a <= 1)).all())
    assert torch.equal(a[:, 0], a[:, 1])              # one eps per sample, shared by its coordinates
    assert len(set(a[:, 0].tolist())) == 50           # and a different one for every sample
    with pytest.raises(ValueError, match="same shape"):
        losses.interpolates(x_real, x_fake[:10])


def test_wgan_gp_draws_new_eps_every_critic_step_from_its_seed():
    D = _critic()
    x_real, x_fake = torch.randn(8, 2, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)

    def penalties(seed):
        obj = losses.WGANGPObjective(seed=seed)
        out = [float(obj.d_loss(D, x_real, x_fake)[1]["grad_penalty"]) for _ in range(2)]
        assert obj.t == 2
        return out

    first, again, other = penalties(3), penalties(3), penalties(4)
    assert first == again and first[0] != first[1]     # one seed, one stream; new eps every critic step
    assert other[0] != first[0] and other[1] != first[1]  # another seed, other eps (issue 26: the seed was lost)


class _LinearD(nn.Module):
    """D(x) = w.x + b, the logit."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.3, -0.5], dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(0.1, dtype=torch.float64))

    def forward(self, x):
        return x @ self.w + self.b


class _LinearG(nn.Module):
    """G(z) = A z + c."""

    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.tensor([[0.7], [-0.2]], dtype=torch.float64))
        self.c = nn.Parameter(torch.tensor([0.1, 0.4], dtype=torch.float64))

    def forward(self, z):
        return z @ self.A.T + self.c


def test_unrolled_generator_gradient_matches_a_hand_written_unrolled_step():
    """The non-saturating option, k = 1: w1 = w - eta dL_D/dw with the cross-entropy gradient written out by hand (it depends on G(z)),
    then L_G = mean softplus(-(w1.G(z) + b1)); one backward through that expression gives the reference."""
    gen = torch.Generator().manual_seed(0)
    x_real, z = torch.randn(6, 2, generator=gen, dtype=torch.float64), torch.randn(6, 1, generator=gen, dtype=torch.float64)
    eta = 0.5
    D, G = _LinearD(), _LinearG()
    obj = losses.UnrolledGANObjective(unroll_steps=1, unroll_lr=eta, generator_loss="non_saturating")
    obj.d_loss(D, x_real, G(z).detach())                       # as the trainer: D's step sees this real batch
    loss, _ = obj.g_loss(D, G(z), z)
    got = torch.autograd.grad(loss, [G.A, G.c])

    G2 = _LinearG()
    w, b = D.w.detach(), D.b.detach()
    x_fake = G2(z)
    s_real = torch.sigmoid(-(x_real @ w + b))                  # dL/dlogit_real = -sigmoid(-logit)
    s_fake = torch.sigmoid(x_fake @ w + b)                     # dL/dlogit_fake = sigmoid(logit)
    grad_w = (-s_real[:, None] * x_real).mean(0) + (s_fake[:, None] * x_fake).mean(0)
    grad_b = (-s_real).mean() + s_fake.mean()
    w1, b1 = w - eta * grad_w, b - eta * grad_b
    reference = torch.nn.functional.softplus(-(x_fake @ w1 + b1)).mean()
    expected = torch.autograd.grad(reference, [G2.A, G2.c])
    assert loss.item() == pytest.approx(reference.item(), abs=1e-12)
    for g, e in zip(got, expected):
        assert torch.allclose(g, e, atol=1e-10, rtol=0)
    plain = torch.autograd.grad(losses.g_loss_non_saturating(D(G2(z)))[0], [G2.A, G2.c])
    assert not torch.allclose(got[0], plain[0], atol=1e-4, rtol=0)  # the unrolling changes G's gradient


def test_unrolled_loss_leaves_the_discriminator_unchanged_and_k_zero_is_the_plain_gan():
    D, G = _LinearD(), _LinearG()
    before = {k: v.clone() for k, v in D.state_dict().items()}
    z, x_real = torch.randn(5, 1, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    obj = losses.UnrolledGANObjective(unroll_steps=3, unroll_lr=0.2)
    obj.d_loss(D, x_real, G(z).detach())
    obj.g_loss(D, G(z), z)[0].backward()
    assert all(torch.equal(v, before[k]) for k, v in D.state_dict().items())
    plain = losses.UnrolledGANObjective(unroll_steps=0)
    assert plain.g_loss(D, G(z), z)[0].item() == pytest.approx(losses.g_loss_minimax(D(G(z)))[0].item(), abs=1e-12)
    plain = losses.UnrolledGANObjective(unroll_steps=0, generator_loss="non_saturating")
    assert plain.g_loss(D, G(z), z)[0].item() == pytest.approx(losses.g_loss_non_saturating(D(G(z)))[0].item(), abs=1e-12)


def test_unrolled_loss_of_an_ensemble_is_each_members_own():
    torch.manual_seed(0)
    Ds = [models.Discriminator(2, 8, 1).double() for _ in range(2)]
    ens = ensemble.ensemble_of(Ds)
    x_real, x_fake = torch.randn(2, 6, 2, dtype=torch.float64), torch.randn(2, 6, 2, dtype=torch.float64)
    lrs = (0.3, 0.1)
    loss, _ = losses.unrolled_g_loss(ens, x_real, x_fake, 2, torch.tensor(lrs, dtype=torch.float64))
    for k, D in enumerate(Ds):
        assert loss[k].item() == pytest.approx(losses.unrolled_g_loss(D, x_real[k], x_fake[k], 2, lrs[k])[0].item(), abs=1e-12)


def test_bad_wgan_and_unrolled_settings_are_rejected_with_what_to_change():
    for clip in (0.0, -0.01, float("inf")):
        with pytest.raises(ValueError, match=r"clip c .* must be a finite number > 0"):
            losses.WGANObjective(clip=clip)
    with pytest.raises(ValueError, match="lam .* must be a finite number > 0"):
        losses.WGANGPObjective(lam=-1.0)
    with pytest.raises(ValueError, match="seed"):
        losses.WGANGPObjective(seed=-1)
    for k in (-1, 1.5, True):
        with pytest.raises(ValueError, match=r"unroll_steps .* must be an integer >= 0 \(0: the plain GAN\)"):
            losses.UnrolledGANObjective(unroll_steps=k)
    with pytest.raises(ValueError, match="unroll_lr"):
        losses.UnrolledGANObjective(unroll_lr=0.0)
    D, G = _LinearD(), _LinearG()
    with pytest.raises(ValueError, match="call d_loss first"):
        losses.UnrolledGANObjective(2).g_loss(D, G(torch.randn(3, 1, dtype=torch.float64)), None)


def test_reconstruction_objective_is_the_mean_real_energy_and_trains_no_generator():
    from course_lib import models
    D = models.AutoencoderDiscriminator(2, hidden=8, code_dim=1)
    x, fake = torch.randn(64, 2), torch.randn(64, 2) * 100
    obj = losses.ReconstructionObjective()
    loss, parts = obj.d_loss(D, x, fake)
    assert float(loss.detach()) == pytest.approx(float(D(x).detach().mean()))   # the generated batch plays no part
    assert parts["e_real"] == pytest.approx(float(loss))
    with pytest.raises(ValueError, match="trains no generator"):
        obj.g_loss(D, fake, None)

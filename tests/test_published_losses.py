"""The losses exactly as published (issue 26): each finding checked against independent values (hand computations)."""
import pytest
import torch
from torch import nn

from course_lib import ensemble, losses, metrics, models, practice, toys
from course_lib.train import TrainConfig, train
from tests.test_losses import _LinearD  # D(x) = w.x + b, shared with the hand-unrolled test there


# ---------------------------------------------------------------- finding 1: WGAN-GP's eps come from the run's seed
class _Recorder(nn.Module):
    """D(x) = sum_j x_j^2 (its gradient 2x depends on where it is taken), remembering every input it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return x.pow(2).sum(-1)


def _eps_of_first_step(obj, b=16, k=None):
    """The eps the objective's first critic step draws: x_hat = eps * 1 + (1 - eps) * 0 = eps, read off D's input."""
    shape = (b, 1) if k is None else (k, b, 1)
    D = _Recorder()
    if k is not None:
        D.ensemble_size = k  # what ensemble.ensemble_of marks: the data then has a leading member dimension (K, B, ...)
    obj.d_loss(D, torch.ones(shape, dtype=torch.float64), torch.zeros(shape, dtype=torch.float64))
    return D.seen[-1][..., 0]  # the third call: D(x_real), D(x_fake), then D(x_hat)


def test_finding1_wgan_gp_seeds_draw_different_eps():
    a, a_again, b = (_eps_of_first_step(losses.WGANGPObjective(10.0, seed=s)) for s in (0, 0, 1))
    assert torch.equal(a, a_again)                     # one seed, one stream
    assert not torch.allclose(a, b)                    # the old (seed << 32) + t lost the seed: here a == b
    assert bool(((a > 0) & (a < 1)).all()) and len(set(a.tolist())) == 16
    # an ensemble of seeds (0, 1): member k's eps are those of the single run with seed k; one seed: all share it
    both = _eps_of_first_step(losses.WGANGPObjective(10.0, seed=(0, 1)), k=2)
    assert torch.equal(both[0], a) and torch.equal(both[1], b)
    shared = _eps_of_first_step(losses.WGANGPObjective(10.0, seed=0), k=2)
    assert torch.equal(shared[0], a) and torch.equal(shared[1], a)


def _wgan_gp_run(train_seed, eps_seed, steps=6):
    torch.manual_seed(train_seed)
    G, D = models.Generator(2, 2, 8, 1).double(), models.Discriminator(2, 8, 1).double()
    train(G, D, toys.ring8().sample, losses.WGANGPObjective(10.0, seed=eps_seed),
          TrainConfig(steps=steps, batch_size=16, n_critic=2, seed=train_seed, progress=False, store=False))
    return G, D


def _max_diff(a: dict, b: dict) -> float:
    assert list(a) == list(b)
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def test_finding1_wgan_gp_seeds_train_different_critics():
    _, d0 = _wgan_gp_run(0, 0)
    _, d0_again = _wgan_gp_run(0, 0)
    _, d1 = _wgan_gp_run(0, 1)  # the same networks, z and minibatches: only the eps differ
    assert _max_diff(d0.state_dict(), d0_again.state_dict()) == 0
    assert _max_diff(d0.state_dict(), d1.state_dict()) > 1e-6


def test_finding1_wgan_gp_ensemble_of_seeds_0_and_5_is_the_two_single_runs_in_float64():
    seeds, steps = (0, 5), 10
    nets = []
    for s in seeds:
        torch.manual_seed(s)
        nets.append((models.Generator(2, 2, 8, 1).double(), models.Discriminator(2, 8, 1).double()))
    G, D = ensemble.ensemble_of([g for g, _ in nets]), ensemble.ensemble_of([d for _, d in nets])
    obj = losses.WGANGPObjective(10.0, seed=seeds)
    assert obj.members == 2
    train(G, D, toys.ring8().sample, obj,
          TrainConfig(steps=steps, batch_size=16, n_critic=2, seed=seeds, progress=False, store=False))
    assert obj.t == 2 * steps
    for k, s in enumerate(seeds):
        g1, d1 = _wgan_gp_run(s, s, steps)
        assert _max_diff(ensemble.member_state(G, k), g1.state_dict()) < 1e-9
        assert _max_diff(ensemble.member_state(D, k), d1.state_dict()) < 1e-9
    _, d_shared = _wgan_gp_run(5, 0, steps)  # member 1 with member 0's eps (what the old code drew) is another run
    assert _max_diff(ensemble.member_state(D, 1), d_shared.state_dict()) > 1e-6


def test_finding1_wgan_gp_seed_settings_are_checked():
    assert losses.WGANGPObjective(10.0, seed=3).members is None
    assert losses.WGANGPObjective([1.0, 10.0, 5.0], seed=(0, 1, 2)).members == 3
    with pytest.raises(ValueError, match="one length"):
        losses.WGANGPObjective([1.0, 10.0], seed=(0, 1, 2))
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match=r"seed must be an integer >= 0"):
            losses.WGANGPObjective(seed=bad)
    with pytest.raises(ValueError, match=r"seed of member 1 must be an integer >= 0"):
        losses.WGANGPObjective(seed=(0, -2))
    with pytest.raises(ValueError, match="empty"):
        losses.WGANGPObjective(seed=[])
    with pytest.raises(ValueError, match="one per ensemble member"):
        losses.interpolates(torch.zeros(3, 4, 2), torch.ones(3, 4, 2), [torch.Generator()] * 2, n_batch_dims=2)


# ---------------------------------------------------------------- finding 2: feature matching under one D
def test_finding2_feature_matching_compares_features_under_the_current_discriminator():
    torch.manual_seed(0)
    D = practice.SSLNet(x_dim=3, hidden=(4,), n_classes=2, noise=0.0).double()
    x_lab, y_lab = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 0, 1, 0, 1])
    obj = practice.FeatureMatchingSSL(x_lab, y_lab, batch_size=4)
    x_real = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0], [2.0, 2.0, -1.0]], dtype=torch.float64)
    x_fake = torch.tensor([[0.5, 0.5, 0.5], [-1.0, 0.0, 2.0]], dtype=torch.float64)
    obj.d_loss(D, x_real, x_fake.clone())
    with torch.no_grad():  # D's update between d_loss and g_loss (n_critic >= 1: at least one)
        D.layers[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]))
        D.layers[0].bias.copy_(torch.tensor([0.0, 0.5, -1.0, 0.0]))
    # by hand, f(x) = relu(W x + b) with the W, b just set:
    f_real = torch.tensor([[1.0, 0.0, 0.0, 0.0],    # (1, -2, 0.5):  W x + b = (1, -1.5, -0.5, -0.5)
                           [0.0, 1.5, 2.0, 4.0],    # (0, 1, 3):     (0, 1.5, 2, 4)
                           [2.0, 2.5, 0.0, 3.0]],   # (2, 2, -1):    (2, 2.5, -2, 3)
                          dtype=torch.float64)
    f_fake = torch.tensor([[0.5, 1.0, 0.0, 1.5],    # (0.5, 0.5, 0.5): (0.5, 1, -0.5, 1.5)
                           [0.0, 0.5, 1.0, 1.0]],   # (-1, 0, 2):      (-1, 0.5, 1, 1)
                          dtype=torch.float64)
    want = float((f_real.mean(0) - f_fake.mean(0)).pow(2).sum())  # ||mean f(x) - mean f(G(z))||^2 under one D
    assert want == pytest.approx((1 - 0.25) ** 2 + (4 / 3 - 0.75) ** 2 + (2 / 3 - 0.5) ** 2 + (7 / 3 - 1.25) ** 2)
    x_fake_g = x_fake.clone().requires_grad_(True)
    loss, parts = obj.g_loss(D, x_fake_g, None)
    assert float(loss.detach()) == pytest.approx(want, abs=1e-12) and float(parts["g_loss"]) == pytest.approx(want, abs=1e-12)
    # no gradient reaches D through the real features: only the generated batch's features carry one
    (grad_w,) = torch.autograd.grad(loss, [D.layers[0].weight], retain_graph=True)
    with torch.no_grad():
        f_real_now = D.features(x_real).mean(0)
    x = x_fake.clone()
    W = D.layers[0].weight.detach().clone().requires_grad_(True)
    fake_only = (f_real_now - torch.relu(x @ W.T + D.layers[0].bias.detach()).mean(0)).pow(2).sum()
    (want_w,) = torch.autograd.grad(fake_only, [W])
    torch.testing.assert_close(grad_w, want_w, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="call d_loss first"):
        practice.FeatureMatchingSSL(x_lab, y_lab, batch_size=4).g_loss(D, x_fake, None)


# ---------------------------------------------------------------- finding 3: the unrolled GAN's generator loss
def _unrolled_by_hand(x_real, x_fake, w, b, eta, steps):
    """(w_K, b_K): K gradient steps on L_D = mean softplus(-(w.x + b)) + mean softplus(w.G(z) + b), gradients written out."""
    for _ in range(steps):
        s_real = torch.sigmoid(-(x_real @ w + b))    # -dL/dlogit at a real sample (times the batch size)
        s_fake = torch.sigmoid(x_fake @ w + b)       # dL/dlogit at a generated sample
        grad_w = (-s_real[:, None] * x_real).mean(0) + (s_fake[:, None] * x_fake).mean(0)
        grad_b = (-s_real).mean() + s_fake.mean()
        w, b = w - eta * grad_w, b - eta * grad_b
    return w, b


def test_finding3_unrolled_generator_minimises_the_games_value_under_the_unrolled_discriminator():
    """Metz et al. 2016, eqs. 5-6: G minimises f(theta_G, theta_D^K) = E log D_K(x) + E log(1 - D_K(G(z))), whose
    G-dependent part is E log(1 - D_K(G(z))) = -E softplus(w_K.G(z) + b_K); K = 2 steps unrolled by hand."""
    gen = torch.Generator().manual_seed(0)
    x_real = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    x_fake = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    eta, D = 0.7, _LinearD()
    w2, b2 = _unrolled_by_hand(x_real, x_fake.clone().requires_grad_(False), D.w.detach(), D.b.detach(), eta, 2)

    def objective_value_and_grad(obj):
        obj.d_loss(D, x_real, x_fake)
        xf = x_fake.clone().requires_grad_(True)
        loss, _ = obj.g_loss(D, xf, None)
        return loss.item(), torch.autograd.grad(loss, xf)[0]

    xf = x_fake.clone().requires_grad_(True)
    wk, bk = _unrolled_by_hand(x_real, xf, D.w.detach(), D.b.detach(), eta, 2)   # kept differentiable in x_fake
    minimax = -torch.nn.functional.softplus(xf @ wk + bk).mean()                   # E log(1 - sigmoid(logit))
    minimax_grad = torch.autograd.grad(minimax, xf)[0]
    value, grad = objective_value_and_grad(losses.UnrolledGANObjective(2, eta))   # the default: the paper's loss
    assert value == pytest.approx(float(torch.log1p(-torch.sigmoid(x_fake @ w2 + b2)).mean()), abs=1e-12)
    assert value == pytest.approx(minimax.item(), abs=1e-12)
    torch.testing.assert_close(grad, minimax_grad, rtol=0, atol=1e-12)
    # the option: the non-saturating heuristic -E log D_K(G(z)) on the same unrolled D
    xf = x_fake.clone().requires_grad_(True)
    wk, bk = _unrolled_by_hand(x_real, xf, D.w.detach(), D.b.detach(), eta, 2)
    non_sat = torch.nn.functional.softplus(-(xf @ wk + bk)).mean()
    value_ns, grad_ns = objective_value_and_grad(losses.UnrolledGANObjective(2, eta, generator_loss="non_saturating"))
    assert value_ns == pytest.approx(non_sat.item(), abs=1e-12)
    torch.testing.assert_close(grad_ns, torch.autograd.grad(non_sat, xf)[0], rtol=0, atol=1e-12)
    assert not torch.allclose(grad, grad_ns, atol=1e-3, rtol=0)                   # the two are different losses
    assert losses.UnrolledGANObjective(2, eta).name == "unrolled-gan[k=2]"
    assert losses.UnrolledGANObjective(2, eta, "non_saturating").name == "unrolled-gan[k=2, non_saturating]"
    with pytest.raises(ValueError, match="unknown generator loss 'hinge'"):
        losses.UnrolledGANObjective(2, eta, generator_loss="hinge")


# ---------------------------------------------------------------- finding 4: the smoothed optimal D where no density has mass
def test_finding4_smoothed_optimal_discriminator_is_finite_where_both_densities_vanish():
    p_data = torch.tensor([0.0, 0.3, 0.0, 1.0], dtype=torch.float64)
    p_model = torch.tensor([0.0, 0.1, 0.5, 1.0], dtype=torch.float64)
    d = practice.optimal_discriminator_smoothed(p_data, p_model, real_label=0.9, fake_label=0.1)
    assert bool(torch.isfinite(d).all())
    # (a + b)/2 where both are 0: the value D* has where the densities are equal (index 3), as metrics' 1/2 for a=1, b=0
    assert d.tolist() == pytest.approx([0.5, (0.9 * 0.3 + 0.1 * 0.1) / 0.4, 0.1, 0.5], abs=1e-12)
    plain = practice.optimal_discriminator_smoothed(p_data, p_model)
    assert torch.equal(plain, metrics.optimal_discriminator(p_data, p_model))
    assert float(practice.optimal_discriminator_smoothed(0.0, 0.0, 0.9, 0.0)) == pytest.approx(0.45)

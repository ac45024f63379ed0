"""The VAE: analytic KL against Monte Carlo, the reparameterization's gradients, the Bernoulli likelihood, the bounds."""
import math

import pytest
import torch

from course_lib import vae as V


def test_analytic_gaussian_kl_matches_a_monte_carlo_estimate():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=g, dtype=torch.float64)
    logvar = 0.5 * torch.randn(3, 4, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((400000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)            # (3,)
    torch.testing.assert_close(V.gaussian_kl(mu, logvar), mc, rtol=0, atol=0.02)


def test_gaussian_kl_is_zero_exactly_at_the_prior():
    assert float(V.gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max()) == 0.0


def test_reparameterization_gradients_match_the_chain_rule():
    mu = torch.tensor([0.3, -1.0], requires_grad=True)
    logvar = torch.tensor([0.2, -0.4], requires_grad=True)
    eps = torch.tensor([1.5, -0.7])
    z = V.reparameterize(mu, logvar, eps)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(2), rtol=0, atol=1e-7)
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps, rtol=1e-6, atol=1e-7)


def test_reparameterized_samples_have_the_requested_mean_and_variance():
    eps = torch.randn(200000, 1, generator=torch.Generator().manual_seed(1))
    z = V.reparameterize(torch.tensor([[2.0]]), torch.tensor([[math.log(0.25)]]), eps)
    assert float(z.mean()) == pytest.approx(2.0, abs=0.01)
    assert float(z.var()) == pytest.approx(0.25, abs=0.01)


def test_bernoulli_log_likelihood_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 1, 28, 28, generator=g)
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3), generator=g)
    ref = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(V.bernoulli_log_likelihood(logits, x), ref, rtol=1e-5, atol=1e-4)


def test_elbo_is_reconstruction_minus_kl_and_below_the_importance_weighted_bound():
    torch.manual_seed(0)
    model = V.VAE(latent_dim=4, hidden=32)
    x = V.binarize(torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(3)), seed=0)
    e, parts = V.elbo(model, x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(e.detach(), parts["reconstruction"] - parts["kl"], rtol=0, atol=1e-4)
    iw1 = V.importance_weighted_bound(model, x, 1, torch.Generator().manual_seed(5)).mean()
    iw200 = V.importance_weighted_bound(model, x, 200, torch.Generator().manual_seed(5)).mean()
    # E[IW_1] = ELBO; IW_k rises with k towards log p(x)
    assert float(iw1) == pytest.approx(float(e.detach().mean()), abs=2.0)
    assert float(iw200) > float(iw1)


def test_binarize_is_seeded_and_binary():
    img = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    a, b = V.binarize(img, seed=3), V.binarize(img, seed=3)
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}


def test_training_raises_the_heldout_elbo_on_a_simple_pattern_set():
    g = torch.Generator().manual_seed(0)
    proto = (torch.rand(4, 1, 28, 28, generator=g) > 0.5).float()       # four prototype images
    idx = torch.randint(4, (600,), generator=g)
    x = V.binarize(proto[idx] * 0.9 + 0.05, seed=1)                     # noisy copies
    torch.manual_seed(0)
    model = V.VAE(latent_dim=2, hidden=64)
    h = V.train_vae(model, x[:500], x[500:], V.VAEConfig(epochs=4, batch_size=50, progress=False))
    assert h.eval_epoch == [0, 1, 2, 3, 4]
    assert h.heldout_elbo[-1] > h.heldout_elbo[0] + 100
    # a perfect model of these images still pays the pixel noise: about 784 * H(0.05) = 156 nats
    assert h.heldout_elbo[-1] < -784 * (-(0.05 * math.log(0.05) + 0.95 * math.log(0.95))) + 5


def test_interpolation_starts_and_ends_at_the_two_reconstructions():
    torch.manual_seed(0)
    model = V.VAE(latent_dim=3, hidden=16)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    path = V.interpolate(model, x[0], x[1], steps=5)
    rec = V.reconstruct(model, x)
    assert path.shape == (5, 1, 28, 28)
    torch.testing.assert_close(path[0], rec[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(path[-1], rec[1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kw", [dict(epochs=0), dict(latent_dim=0), dict(lr=-1.0)])
def test_bad_config_raises_value_error(kw):
    with pytest.raises(ValueError):
        V.VAEConfig(**kw)


def test_wrong_image_shape_raises_value_error():
    model = V.VAE(latent_dim=2, hidden=8)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        V.train_vae(model, torch.zeros(10, 784), torch.zeros(2, 1, 28, 28), V.VAEConfig(epochs=1, progress=False))


def test_a_stored_vae_run_is_loaded_with_its_weights_and_history(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_STORE", str(tmp_path / "runs"))
    x = V.binarize(torch.rand(120, 1, 28, 28, generator=torch.Generator().manual_seed(0)), seed=1)
    cfg = V.VAEConfig(epochs=2, batch_size=40, progress=False)
    torch.manual_seed(0)
    a = V.VAE(latent_dim=2, hidden=16)
    ha = V.train_vae(a, x[:100], x[100:], cfg)
    torch.manual_seed(0)
    b = V.VAE(latent_dim=2, hidden=16)
    hb = V.train_vae(b, x[:100], x[100:], cfg)
    assert "vae: loaded from the run store" in capsys.readouterr().err
    assert hb == ha and all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    torch.manual_seed(0)
    c = V.VAE(latent_dim=2, hidden=16)
    V.train_vae(c, x[:100], x[100:], V.VAEConfig(epochs=3, batch_size=40, progress=False))   # another setting: trained
    assert "loaded" not in capsys.readouterr().err

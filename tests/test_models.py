import pytest
import torch

from course_lib import models


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_mlp_has_depth_hidden_layers_of_the_given_width(depth):
    net = models.mlp(2, 1, hidden=100, depth=depth)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert len(linears) == depth + 1
    assert all(m.out_features == 100 for m in linears[:-1])


def test_generator_and_discriminator_shapes():
    G, D = models.Generator(z_dim=3, x_dim=2, depth=2), models.Discriminator(x_dim=2, depth=1)
    g = torch.Generator().manual_seed(0)
    x = G.sample(16, g)
    assert x.shape == (16, 2) and D(x).shape == (16,)


def test_generator_codes_are_the_same_for_the_same_seed():
    G = models.Generator()
    a = G.sample_z(4, torch.Generator().manual_seed(3))
    b = G.sample_z(4, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bad_architecture_arguments_are_rejected():
    with pytest.raises(ValueError, match="activation"):
        models.mlp(2, 1, activation="swish2")
    with pytest.raises(ValueError, match="depth"):
        models.mlp(2, 1, depth=-1)
    with pytest.raises(ValueError, match="hidden"):
        models.mlp(2, 1, hidden=0)


# ---------------------------------------------------------------- minibatch discrimination
import math  # noqa: E402

from course_lib import ensemble  # noqa: E402


def test_minibatch_features_match_a_hand_computed_example():
    layer = models.MinibatchDiscrimination(1, n_kernels=2, kernel_dim=1)
    with torch.no_grad():
        layer.T.weight.copy_(torch.tensor([[1.0], [2.0]]))     # kernel 0: M = h, kernel 1: M = 2h
    h = torch.tensor([[0.0], [1.0], [3.0]])
    o = layer(h)
    e = math.exp
    expected = torch.tensor([[e(-1) + e(-3), e(-2) + e(-6)],
                             [e(-1) + e(-2), e(-2) + e(-4)],
                             [e(-3) + e(-2), e(-6) + e(-4)]])   # sum over the other samples j != i
    assert o.shape == (3, 2) and torch.allclose(o, expected, atol=1e-6, rtol=0)


def test_identical_samples_see_n_minus_one_neighbours_and_order_does_not_matter():
    layer = models.MinibatchDiscrimination(4, n_kernels=3, kernel_dim=2)
    same = torch.randn(1, 4).expand(5, 4)
    assert torch.allclose(layer(same), torch.full((5, 3), 4.0), atol=1e-6, rtol=0)
    h = torch.randn(6, 4)
    perm = torch.randperm(6)
    assert torch.allclose(layer(h[perm]), layer(h)[perm], atol=1e-6, rtol=0)


def test_minibatch_discriminator_scores_a_batch_and_stacks_into_an_ensemble():
    torch.manual_seed(0)
    Ds = [models.MinibatchDiscriminator(2, 16, 2, n_kernels=4, kernel_dim=3) for _ in range(2)]
    x = torch.randn(2, 10, 2)
    assert Ds[0](x[0]).shape == (10,)
    ens = ensemble.ensemble_of(Ds)
    out = ens(x)
    assert out.shape == (2, 10)
    for k, D in enumerate(Ds):
        assert torch.allclose(out[k], D(x[k]), atol=1e-5, rtol=0)
    # the score of a sample depends on the rest of its batch
    assert not torch.allclose(Ds[0](x[0])[:3], Ds[0](x[0][:3]), atol=1e-6, rtol=0)


def test_bad_minibatch_discrimination_arguments_are_rejected():
    with pytest.raises(ValueError, match="n_kernels must be a positive integer"):
        models.MinibatchDiscrimination(4, n_kernels=0)
    with pytest.raises(ValueError, match="depth .* must be an integer >= 1"):
        models.MinibatchDiscriminator(depth=0)

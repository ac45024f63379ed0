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

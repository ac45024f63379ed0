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


# ---------------------------------------------------------------- the denoising autoencoder (issue 27: it cannot learn the identity)
def _identity_autoencoder(noise_std):
    D = models.AutoencoderDiscriminator(2, hidden=8, code_dim=2, noise_std=noise_std)
    D.encoder, D.decoder = torch.nn.Identity(), torch.nn.Identity()  # Dec(Enc(x)) = x: the cheat
    return D


def test_the_identity_has_zero_energy_but_a_denoising_autoencoder_pays_noise_std_squared_for_it():
    x = torch.randn(20000, 2)
    plain, denoising = _identity_autoencoder(0.0), _identity_autoencoder(0.3)
    assert float(plain(x).abs().max()) == 0.0                                   # energy 0 everywhere: no contrast at all
    e = denoising(x)                                                            # training mode: |x - (x + 0.3 eps)|^2 per coordinate
    assert float(e.mean()) == pytest.approx(0.3 ** 2, rel=0.03)
    assert float(denoising.eval()(x).abs().max()) == 0.0                        # evaluated without noise: the clean energy


def test_denoising_noise_is_one_seeded_stream_kept_in_the_state():
    a, b = _identity_autoencoder(0.1), _identity_autoencoder(0.1)
    x = torch.zeros(5, 2)
    first = a(x)
    assert torch.equal(first, b(x))                       # the same stream for every autoencoder: call t draws the same noise
    assert not torch.equal(a(x), first)                   # and the next call draws new noise
    assert int(a.state_dict()["noise_calls"]) == 2        # the position in the stream travels with snapshots and checkpoints
    b.load_state_dict(a.state_dict())
    assert torch.equal(a(x), b(x))
    with models.clean_energy(a):                          # a gradient penalty sees the clean energy, even while training
        assert float(a(x).abs().max()) == 0.0
    assert float(a(x).abs().max()) > 0


def test_denoising_settings_are_checked():
    with pytest.raises(ValueError, match="noise_std"):
        models.AutoencoderDiscriminator(2, noise_std=-0.1)
    from course_lib import compare
    with pytest.raises(ValueError, match="denoise"):
        compare.MethodConfig(denoise=-0.1)
    assert "noise_calls" not in models.AutoencoderDiscriminator(2).state_dict()  # a plain autoencoder is unchanged


def test_packed_discriminator_judges_m_consecutive_samples_stacked_on_the_channels():
    from course_lib.models import PackedDiscriminator

    seen = {}

    class Spy(torch.nn.Module):
        def forward(self, x):
            seen["x"] = x
            return x.flatten(1).sum(1)

    D = PackedDiscriminator(Spy(), m=2)
    x = torch.arange(6 * 3 * 2 * 2, dtype=torch.float32).reshape(6, 3, 2, 2)
    out = D(x)
    assert out.shape == (3,) and seen["x"].shape == (3, 6, 2, 2)
    assert torch.equal(seen["x"][1, :3], x[2]) and torch.equal(seen["x"][1, 3:], x[3])   # pack 1 = samples 2 and 3
    assert torch.equal(out, x.flatten(1).sum(1).reshape(3, 2).sum(1))
    with pytest.raises(ValueError, match="divisible by 2"):
        D(x[:5])
    flat = torch.arange(12.0).reshape(6, 2)                   # points in the plane: packs of 2 points are 4-vectors
    assert PackedDiscriminator(torch.nn.Identity(), m=2)(flat).tolist() == flat.reshape(3, 4).tolist()
    with pytest.raises(ValueError, match="pack size"):
        PackedDiscriminator(Spy(), m=0)


def test_pacgan_is_a_method_whose_D_sees_packs_and_whose_bad_packs_are_refused():
    from course_lib import compare, methods

    cfg = compare.MethodConfig(hidden=16, depth=2, batch_size=32, pack=4)
    G, D, _ = compare.make_toy_method("pacgan", cfg, x_dim=2)
    assert methods.get("pacgan").reads("pack") and not methods.get("gan").reads("pack")
    assert D.D.x_dim == 8 and D(torch.zeros(32, 2)).shape == (8,)          # 4 points of R^2 -> one 8-vector -> one logit
    with pytest.raises(ValueError, match="pack"):
        compare.MethodConfig(pack=0)
    with pytest.raises(ValueError, match="multiple of pack = 3"):
        compare.make_toy_method("pacgan", compare.MethodConfig(batch_size=32, pack=3), x_dim=2)


def test_d_hidden_gives_the_discriminator_its_own_width():
    from course_lib import compare

    G, D, _ = compare.make_toy_method("gan", compare.MethodConfig(hidden=64, depth=2, d_hidden=8), x_dim=2)
    widths = lambda net: [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]  # noqa: E731
    assert widths(G) == [64, 64, 2] and widths(D) == [8, 8, 1]
    _, D_same, _ = compare.make_toy_method("gan", compare.MethodConfig(hidden=64, depth=2), x_dim=2)
    assert widths(D_same) == [64, 64, 1]                                    # d_hidden = 0: the generator's width
    with pytest.raises(ValueError, match="d_hidden"):
        compare.MethodConfig(d_hidden=-1)

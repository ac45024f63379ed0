"""GANs in practice and with labels: smoothing's optimal D, VBN's independence, the (K+1)-class loss, conditional G."""
import math

import pytest
import torch

from course_lib import practice


def test_optimal_discriminator_with_smoothed_targets_matches_the_closed_form():
    p_data, p_model = torch.tensor([0.3, 0.0, 1.0, 2.0]), torch.tensor([0.1, 0.5, 1.0, 0.0])
    d = practice.optimal_discriminator_smoothed(p_data, p_model, real_label=0.9, fake_label=0.0)
    assert torch.allclose(d, torch.tensor([0.9 * 0.75, 0.0, 0.45, 0.9], dtype=torch.float64))
    # two-sided smoothing: where only the model has mass D* = b > 0, so the generator is not pushed away from it
    d2 = practice.optimal_discriminator_smoothed(p_data, p_model, real_label=0.9, fake_label=0.1)
    assert float(d2[1]) == pytest.approx(0.1) and float(d2[3]) == pytest.approx(0.9)
    # and it is the minimiser of the smoothed cross-entropy, pointwise: a*p_d*log D + ... maximised at D*
    a, b, pd, pm = 0.9, 0.1, 0.3, 0.1
    grid = torch.linspace(0.001, 0.999, 9999, dtype=torch.float64)
    obj = pd * (a * grid.log() + (1 - a) * (1 - grid).log()) + pm * (b * grid.log() + (1 - b) * (1 - grid).log())
    best = float(grid[obj.argmax()])
    assert best == pytest.approx(float(practice.optimal_discriminator_smoothed(pd, pm, a, b)), abs=1e-3)


def test_practical_gan_losses_use_the_smoothed_targets():
    obj = practice.PracticalGAN(smooth=0.1)
    D = lambda x: x.flatten(1).sum(1)  # noqa: E731  logit = sum of the input
    x_real, x_fake = torch.tensor([[2.0]]), torch.tensor([[-1.0]])
    loss, parts = obj.d_loss(D, x_real, x_fake)
    want = -(0.9 * math.log(torch.sigmoid(torch.tensor(2.0))) + 0.1 * math.log(1 - torch.sigmoid(torch.tensor(2.0)))) \
        - math.log(1 - torch.sigmoid(torch.tensor(-1.0)))
    assert float(loss) == pytest.approx(want, rel=1e-5)
    mixed = practice.PracticalGAN(smooth=0.1, mixed=True)
    assert float(mixed.d_loss(D, x_real, x_fake)[0]) == pytest.approx(want, rel=1e-5)   # same loss for a batch-free D


def test_instance_noise_is_seeded_annealed_and_checked():
    obj = practice.PracticalGAN(noise_std=0.5, noise_steps=10)
    assert obj.current_noise() == 0.5
    D = lambda x: x.flatten(1).sum(1)  # noqa: E731
    for _ in range(5):
        obj.d_loss(D, torch.zeros(4, 1), torch.zeros(4, 1))
    assert obj.current_noise() == pytest.approx(0.25)
    x = practice.instance_noise(torch.zeros(10000), 0.3, torch.Generator().manual_seed(0))
    assert float(x.std()) == pytest.approx(0.3, rel=0.05)
    for bad in (dict(smooth=1.0), dict(smooth=-0.1), dict(fake_label=1.5), dict(noise_std=-1.0), dict(noise_steps=-1)):
        with pytest.raises(ValueError):
            practice.PracticalGAN(**bad)
    with pytest.raises(ValueError, match="noise std"):
        practice.instance_noise(torch.zeros(3), -0.1)


def _moved(G, n=8):
    """How far sample 0 moves when the other samples of its batch are replaced."""
    torch.manual_seed(1)
    z = G.sample_z(n, torch.Generator().manual_seed(0))
    z2 = z.clone()
    z2[1:] = G.sample_z(n - 1, torch.Generator().manual_seed(5))
    G.train()
    with torch.no_grad():
        return float((G(z)[0] - G(z2)[0]).abs().max())


def test_virtual_batch_norm_makes_a_sample_independent_of_its_batch():
    torch.manual_seed(0)
    vbn = practice.DCGANGenerator(z_dim=8, width=8, norm="virtual", ref_size=16)
    bn = practice.DCGANGenerator(z_dim=8, width=8, norm="batch")
    assert _moved(vbn) < 1e-6       # only the reference batch and x itself enter x's statistics
    assert _moved(bn) > 1e-3        # plain batch norm: the rest of the batch moves sample 0


def test_virtual_batch_norm_normalises_the_reference_batch():
    vbn = practice.VirtualBatchNorm(3)
    ref = 5 + 2 * torch.randn(200, 3, 4, 4)
    vbn.record = True
    out = vbn(ref)
    assert torch.allclose(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(out.var((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)
    vbn.record = False
    with pytest.raises(RuntimeError, match="reference"):
        practice.VirtualBatchNorm(3)(ref)


def test_finding5b_virtual_batch_norm_gives_the_example_its_own_share_one_over_n_plus_one():
    """Salimans et al. 2016: example x is normalised with the statistics of the reference batch plus x itself,
    mean = (N mean_ref + mean_x) / (N + 1), mean square likewise, var = mean square - mean^2."""
    vbn = practice.VirtualBatchNorm(1, eps=0.0).double()
    vbn.record = True
    vbn(torch.tensor([[0.0], [2.0]], dtype=torch.float64))           # N = 2: mean 1, mean square 2
    vbn.record = False
    out = vbn(torch.tensor([[4.0]], dtype=torch.float64))
    # mean = (2*1 + 4)/3 = 2, mean square = (2*2 + 16)/3 = 20/3, var = 20/3 - 4 = 8/3: (4 - 2)/sqrt(8/3) = sqrt(3/2)
    assert float(out.detach()) == pytest.approx(math.sqrt(1.5), abs=1e-12)   # without its own share: (4 - 1)/1 = 3
    # images (B, C, H, W): per channel, the reference's mean over its examples and pixels, the example's over its pixels
    torch.manual_seed(0)
    vbn = practice.VirtualBatchNorm(2, eps=1e-3)
    with torch.no_grad():
        vbn.weight.copy_(torch.tensor([1.5, -0.5]))
        vbn.bias.copy_(torch.tensor([0.2, 1.0]))
    ref, x = 3 + torch.randn(5, 2, 3, 3, dtype=torch.float64), torch.randn(4, 2, 3, 3, dtype=torch.float64)
    vbn.double()
    vbn.record = True
    vbn(ref)
    vbn.record = False
    out = vbn(x)
    n = len(ref)
    for i in range(len(x)):
        for c in range(2):
            pixels_ref, pixels_x = ref[:, c].reshape(-1).tolist(), x[i, c].reshape(-1).tolist()
            m_ref = sum(pixels_ref) / len(pixels_ref)
            sq_ref = sum(v * v for v in pixels_ref) / len(pixels_ref)
            m_x, sq_x = sum(pixels_x) / 9, sum(v * v for v in pixels_x) / 9
            mean, sq = (n * m_ref + m_x) / (n + 1), (n * sq_ref + sq_x) / (n + 1)
            want = (x[i, c] - mean) / math.sqrt(sq - mean**2 + 1e-3) * vbn.weight[c].item() + vbn.bias[c].item()
            torch.testing.assert_close(out[i, c].detach(), want, rtol=0, atol=1e-12)


def test_finding5c_projection_discriminator_is_psi_of_phi_plus_the_label_embedding_dotted_with_phi():
    """Miyato & Koyama 2018: D(x, y) = psi(phi(x)) + embed(y)^T phi(x), psi(h) = w.h + b."""
    torch.manual_seed(0)
    D = practice.DCGANDiscriminator(width=2, batchnorm=False, n_classes=3).double()
    images = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    x = torch.cat([images, practice.label_maps(y, 3).double()], 1)
    phi = D.features(images).detach()                                   # (4, 2 * 2 * 49)
    w, b, E = D.out.weight.detach()[0], D.out.bias.detach()[0], D.embed.weight.detach()
    want = torch.stack([phi[i] @ w + b + E[y[i]] @ phi[i] for i in range(4)])
    torch.testing.assert_close(D(x).detach(), want, rtol=0, atol=1e-12)
    # another label on the same images: the output moves by exactly (embed(y') - embed(y))^T phi(x)
    y2 = torch.tensor([2, 0, 0, 1])
    x2 = torch.cat([images, practice.label_maps(y2, 3).double()], 1)
    moved = (D(x2) - D(x)).detach()
    torch.testing.assert_close(moved, torch.stack([(E[y2[i]] - E[y[i]]) @ phi[i] for i in range(4)]), rtol=0, atol=1e-12)
    assert moved[3].item() == 0.0 and bool((moved[:3].abs() > 1e-6).all())
    with torch.no_grad():  # explicit embeddings: class 1 adds 0.5 * sum(phi), the others nothing
        D.embed.weight.zero_()
        D.embed.weight[1].fill_(0.5)
    torch.testing.assert_close(D(x).detach(), phi @ w + b + 0.5 * phi.sum(1) * (y == 1).double(), rtol=0, atol=1e-12)


def test_kplus1_loss_against_hand_computed_values():
    l_lab, y = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    l_unl, l_fake = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, -1.0]])
    loss, parts = practice.kplus1_d_loss(l_lab, y, l_unl, l_fake)
    ce = -math.log(math.exp(2) / (math.exp(2) + 1))
    z_u, z_f = 2.0, math.exp(1) + math.exp(-1)              # Z = sum_k exp(l_k)
    unsup = -math.log(z_u / (z_u + 1)) - math.log(1 / (z_f + 1))
    assert float(parts["supervised"]) == pytest.approx(ce, rel=1e-5)
    assert float(parts["unsupervised"]) == pytest.approx(unsup, rel=1e-5)
    assert float(loss) == pytest.approx(ce + unsup, rel=1e-5)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        practice.kplus1_d_loss(l_lab, torch.tensor([2]), l_unl, l_fake)


def test_feature_matching_and_the_decaying_margin():
    f_real, f_fake = torch.tensor([[1.0, 2.0], [3.0, 2.0]]), torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    assert float(practice.feature_matching_loss(f_real, f_fake)) == pytest.approx(2.0**2 + 1.0**2)
    assert [practice.decaying_margin(0.2, t, 100) for t in (0, 50, 100, 150)] == pytest.approx([0.2, 0.1, 0.0, 0.0])
    with pytest.raises(ValueError, match="margin"):
        practice.MarginSSL(torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]), margin=-0.1)


def test_the_conditional_generator_honours_its_label_argument():
    torch.manual_seed(0)
    G = practice.DCGANGenerator(z_dim=8, width=8, n_classes=10)
    g = torch.Generator().manual_seed(0)
    x3 = G.generate(torch.full((4,), 3), torch.Generator().manual_seed(0))
    x7 = G.generate(torch.full((4,), 7), torch.Generator().manual_seed(0))
    assert x3.shape == (4, 1, 28, 28) and not torch.allclose(x3, x7)   # same noise, other label: another image
    z = G.sample_z(6, g)
    full = G(z)
    assert full.shape == (6, 11, 28, 28)
    assert torch.equal(full[:, 1:, 0, 0], z[:, 8:])                      # the label rides along as one-hot maps
    assert torch.equal(full[:, 1:, 0, 0].sum(1), torch.ones(6))
    for bad in (torch.tensor([10]), torch.tensor([-1]), torch.tensor([0.5])):
        with pytest.raises(ValueError, match="labels"):
            G.generate(bad)
    with pytest.raises(ValueError, match="unconditional"):
        practice.DCGANGenerator(z_dim=8, width=8).generate(torch.tensor([1]))


def test_labelled_images_and_the_conditional_discriminator():
    images, labels = torch.rand(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 4])
    data = practice.LabelledImages(images, labels)
    x = data.sample(3, torch.Generator().manual_seed(0))
    assert x.shape == (3, 11, 28, 28) and torch.equal(x[:, 1:].sum(1), torch.ones(3, 28, 28))
    D = practice.DCGANDiscriminator(width=8, n_classes=10)
    assert D(x).shape == (3,)
    other = x.clone()
    other[:, 1:] = practice.label_maps(torch.tensor([9, 9, 9]), 10)
    assert not torch.allclose(D(x), D(other))                     # the label changes the verdict on the same image
    with pytest.raises(ValueError, match="input channels"):
        D(x[:, :1])
    with pytest.raises(ValueError, match="labels must lie"):
        practice.LabelledImages(images, torch.tensor([0, 1, 2, 3, 12]))


def test_ssl_net_features_energy_and_objectives_run_in_the_trainer():
    from course_lib.energy import ImageMLPGenerator
    from course_lib.train import TrainConfig, train

    torch.manual_seed(0)
    x_lab, y_lab = torch.rand(20, 1, 28, 28), torch.arange(20) % 10
    unl = lambda n, g: torch.rand((n, 1, 28, 28), generator=g)  # noqa: E731
    for obj, D in ((practice.FeatureMatchingSSL(x_lab, y_lab, batch_size=10), practice.SSLNet(hidden=(32, 16))),
                   (practice.MarginSSL(x_lab, y_lab, margin=0.1, decay_steps=4, batch_size=10),
                    practice.LadderNet(hidden=(32, 16)))):
        G = ImageMLPGenerator(z_dim=8, hidden=32)
        h = train(G, D, unl, obj, TrainConfig(steps=6, batch_size=10, progress=False, store=False))
        assert len(h["g_loss"]) == 6 and all(math.isfinite(v) for v in h["d_loss"])
        assert D.train()(x_lab).shape == (20, 10)
    assert obj.current_margin() == 0.0                       # decayed to zero after 6 > 4 steps
    assert practice.SSLNet(hidden=(32, 16)).features(x_lab).shape == (20, 16)


def test_balanced_subset_and_error_rate():
    labels = torch.arange(100) % 10
    pool = torch.arange(50, 100)
    idx = practice.balanced_subset(labels, pool, per_class=3, seed=0)
    assert len(idx) == 30 and set(idx.tolist()) <= set(pool.tolist())
    assert torch.equal(torch.bincount(labels[idx], minlength=10), torch.full((10,), 3))
    with pytest.raises(ValueError, match="fewer than per_class"):
        practice.balanced_subset(labels, pool, per_class=6)

    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):   # predicts class 0 for x < 0.5, class 1 otherwise
            return torch.stack([0.5 - x[:, 0], x[:, 0] - 0.5], 1)

    x, y = torch.tensor([[0.1], [0.9], [0.2], [0.7]]), torch.tensor([0, 1, 1, 1])
    assert practice.error_rate(Fixed(), x, y, batch=3) == pytest.approx(0.25)
    assert practice.misclassified(Fixed(), x, y, batch=3).tolist() == [False, False, True, False]  # the digit that is wrong


def test_fit_gan_is_seeded_and_uses_dcgan_s_adam(monkeypatch):
    data = lambda n, g: torch.rand((n, 1, 28, 28), generator=g)  # noqa: E731

    def run(seed):
        torch.manual_seed(0)
        G, D = practice.DCGANGenerator(z_dim=8, width=4), practice.DCGANDiscriminator(width=4)
        practice.fit_gan(G, D, data, practice.PracticalGAN(), steps=3, batch_size=8, lr=1e-3, seed=seed)
        return torch.cat([p.detach().flatten() for p in G.parameters()])

    assert torch.equal(run(0), run(0))                       # the same seed, the same run
    assert not torch.equal(run(0), run(1))                   # the seed reaches z and the minibatches
    seen, real_train = {}, practice.train

    def spy(G, D, data, objective, cfg, *a, **k):
        seen.update(lr=(cfg.lr_d, cfg.lr_g), betas=cfg.betas, steps=cfg.steps, batch=cfg.batch_size)
        return real_train(G, D, data, objective, cfg, *a, **k)

    monkeypatch.setattr(practice, "train", spy)
    G, D = practice.DCGANGenerator(z_dim=8, width=4), practice.DCGANDiscriminator(width=4)
    h = practice.fit_gan(G, D, data, practice.PracticalGAN(), steps=2, batch_size=8, lr=3e-4)
    assert seen == dict(lr=(3e-4, 3e-4), betas=(0.5, 0.999), steps=2, batch=8) and len(h["g_loss"]) == 2


def test_practical_gan_with_no_switches_is_the_non_saturating_gan():
    from course_lib.losses import GANObjective
    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1), torch.nn.Flatten(0))
    x_real, x_fake, z = torch.randn(6, 4), torch.randn(6, 4), torch.randn(6, 2)
    plain, practical = GANObjective("non_saturating"), practice.PracticalGAN()
    torch.testing.assert_close(practical.d_loss(D, x_real, x_fake)[0], plain.d_loss(D, x_real, x_fake)[0])
    torch.testing.assert_close(practical.g_loss(D, x_fake, z)[0], plain.g_loss(D, x_fake, z)[0])


def test_margin_controls_constant_margin_and_no_generated_samples():
    torch.manual_seed(0)
    x_lab, y_lab = torch.rand(10, 1, 28, 28), torch.arange(10)
    D = practice.LadderNet(hidden=(16, 8), noise=0.0)
    x_unl, x_fake = torch.rand(6, 1, 28, 28), torch.rand(6, 1, 28, 28, requires_grad=True)
    const = practice.MarginSSL(x_lab, y_lab, margin=5.0, decay_steps=None, batch_size=4)
    for _ in range(3):
        const.d_loss(D, x_unl, x_fake)
    assert const.current_margin() == 5.0 and const.name == "ssl[EBGAN, constant margin]"
    # with a margin above every energy the hinge is active on every generated sample: the loss is CE + E(unl) + m - E(fake)
    ctrl = practice.MarginSSL(x_lab, y_lab, margin=5.0, batch_size=4, seed=1, contrastive=False)
    ref = practice.MarginSSL(x_lab, y_lab, margin=5.0, batch_size=4, seed=1)
    l_ctrl, p_ctrl = ctrl.d_loss(D, x_unl, x_fake)
    l_ref, p_ref = ref.d_loss(D, x_unl, x_fake)          # the same labelled batch (same seed)
    with torch.no_grad():
        e_fake = float(D.energy(x_fake).mean())
    assert l_ref.item() == pytest.approx(l_ctrl.item() + 5.0 - e_fake, rel=1e-5)
    assert l_ctrl.item() == pytest.approx(float(p_ctrl["supervised"] + p_ctrl["e_real"]), rel=1e-6)
    assert float(p_ref["pushing"]) == 1.0 and "pushing" not in p_ctrl and "e_fake" not in p_ctrl
    l_ctrl.backward()
    assert x_fake.grad is None                            # the control's D never looks at the generated batch
    D.zero_grad()
    g_ctrl, _ = ctrl.g_loss(D, x_fake, None)
    g_ctrl.backward()
    assert float(g_ctrl.detach()) == 0.0 and all(q.grad is None for q in D.parameters())
    assert ctrl.name == "ssl[EBGAN, no generated samples]" and ref.name == "ssl[EBGAN, decaying margin]"
    with pytest.raises(ValueError, match="decay_steps"):
        practice.MarginSSL(x_lab, y_lab, decay_steps=0)


def test_split_labelled_keeps_labelled_digits_out_of_the_unlabelled_set():
    from course_lib.data import ImageData

    images = torch.arange(60, dtype=torch.float32).reshape(60, 1, 1, 1)   # each image its own index
    data = ImageData(images, torch.arange(60) % 10, "mnist", "train", "")
    x_lab, y_lab, unl = practice.split_labelled(data, per_class=2, seed=4)
    assert torch.equal(torch.bincount(y_lab, minlength=10), torch.full((10,), 2))
    lab_ids, unl_ids = set(x_lab.flatten().long().tolist()), set(unl.images.flatten().long().tolist())
    assert len(unl) == 40 and lab_ids.isdisjoint(unl_ids) and lab_ids | unl_ids == set(range(60))
    assert torch.equal(unl.labels, unl.images.flatten().long() % 10)
    again = practice.split_labelled(data, per_class=2, seed=4)[0]
    assert torch.equal(again, x_lab) and not torch.equal(practice.split_labelled(data, 2, seed=5)[0], x_lab)


# ---------------------------------------------------------------- the ladder network (EBGAN-LN's classifier)
def test_combinator_matches_the_vanilla_formula_by_hand():
    g = practice.Combinator(2)
    assert torch.equal(g(torch.tensor([[3.0, -1.0]]), torch.tensor([[0.5, 2.0]])), torch.zeros(1, 2))  # a6 = 0 at init: z_hat = mu = 0
    with torch.no_grad():
        g.a.copy_(torch.tensor([[1.0, 2.0, 0.0, 0.5, 0.1, 2.0, 1.0, 1.0, 0.0, 0.3]]).T.repeat(1, 2))
    z, u = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    expected = []
    for zi, ui in zip((1.0, 0.0), (0.0, 1.0)):
        mu = 1.0 * sig(2.0 * ui + 0.0) + 0.5 * ui + 0.1
        v = 2.0 * sig(1.0 * ui + 1.0) + 0.0 * ui + 0.3
        expected.append((zi - mu) * v + mu)
    torch.testing.assert_close(g(z, u), torch.tensor([expected]))


def test_ladder_energy_is_the_bottom_layer_denoising_cost_and_eval_needs_calibration():
    torch.manual_seed(0)
    net = practice.LadderNet(x_dim=6, hidden=(5, 4), n_classes=3, noise=0.0)
    x = torch.rand(8, 6)
    # at initialisation every combinator outputs 0, so x_hat = 0 and E(x) = mean over pixels of x^2
    torch.testing.assert_close(net.energy(x), x.pow(2).mean(1))
    # a combinator that passes its lateral input through (v = 1, mu = 0) makes the bottom cost that of the noisy input
    noisy = practice.LadderNet(x_dim=6, hidden=(5, 4), n_classes=3, noise=0.5)
    with torch.no_grad():
        noisy.g[0].a.zero_()
        noisy.g[0].a[9].fill_(1.0)
    torch.manual_seed(3)
    e = noisy.energy(x)
    torch.manual_seed(3)
    expected = (0.5 * torch.randn_like(x)).pow(2).mean(1)   # the first draw of the noisy path is the input's noise
    torch.testing.assert_close(e, expected)
    net.eval()
    with pytest.raises(RuntimeError, match="calibrate"):
        net(x)
    net.calibrate(x)
    pre = net.W[0](x)
    torch.testing.assert_close(net.pop_mean0, pre.mean(0))
    torch.testing.assert_close(net.pop_var0, pre.var(0, unbiased=False))
    train_logits = net.train()(x)
    torch.testing.assert_close(net.eval()(x), train_logits)  # noise 0 and the same batch: population = batch statistics
    with pytest.raises(ValueError, match="at least 2"):
        net.calibrate(x[:1])


def test_ladder_trains_as_the_energy_of_the_margin_objective():
    from course_lib.energy import ImageMLPGenerator
    from course_lib.train import TrainConfig, train

    torch.manual_seed(0)
    x_lab, y_lab = torch.rand(20, 1, 28, 28), torch.arange(20) % 10
    unl = lambda n, g: torch.rand((n, 1, 28, 28), generator=g)  # noqa: E731
    D, G = practice.LadderNet(hidden=(32, 16)), ImageMLPGenerator(z_dim=8, hidden=32)
    obj = practice.MarginSSL(x_lab, y_lab, margin=0.1, decay_steps=4, batch_size=10, weight=1000.0)
    h = train(G, D, unl, obj, TrainConfig(steps=5, batch_size=10, progress=False, store=False))
    assert all(math.isfinite(v) for v in h["d_loss"]) and len(h["e_fake"]) == 5
    D.eval().calibrate(unl(50, torch.Generator().manual_seed(1)))
    assert 0.0 <= practice.error_rate(D, x_lab, y_lab) <= 1.0
    with pytest.raises(ValueError, match="lambda"):
        practice.MarginSSL(x_lab, y_lab, weight=0.0)


def test_labelled_draws_say_what_is_wrong():
    from course_lib.data import ImageData

    labels = torch.arange(30) % 10           # 3 examples of each digit
    images = torch.rand(30, 1, 28, 28)
    with pytest.raises(ValueError, match="fewer than per_class=4"):
        practice.balanced_subset(labels, torch.arange(30), per_class=4)
    data = ImageData(images=images, labels=labels, name="mnist", split="train", note="")
    with pytest.raises(ValueError, match="fewer than per_class"):
        practice.split_labelled(data, per_class=4)       # 40 labels asked of 30 digits
    with pytest.raises(ValueError, match=r"0\.\.9; got \[10\]"):
        practice.FeatureMatchingSSL(images[:3], torch.tensor([0, 1, 10]))

"""Energy-based GANs (issue 4): autoencoder discriminators, EBGAN (+ pulling-away term), MAGAN,
Loss-Sensitive GAN, BEGAN, and the comparison helpers."""
import math

import pytest
import torch

from course_lib import compare, losses, models
from course_lib.train import TrainConfig, train
from course_lib.toys import ring8

T = lambda *v: torch.tensor(v, dtype=torch.float32)  # noqa: E731


# ---------------------------------------------------------------- losses against hand-computed values
def test_ebgan_d_loss_matches_hand_computed_value():
    # mean(0.2, 0.4) + mean([1 - 0.5]+, [1 - 1.5]+) = 0.3 + (0.5 + 0) / 2
    loss, parts = losses.ebgan_d_loss(T(0.2, 0.4), T(0.5, 1.5), margin=1.0)
    assert loss.item() == pytest.approx(0.55, abs=1e-6)
    assert parts["d_loss_fake"] == pytest.approx(0.25, abs=1e-6)


def test_ebgan_g_loss_adds_weighted_pulling_away_term():
    codes = T(1.0, 2.0).repeat(3, 1)  # identical codes: f_PT = 1
    loss, parts = losses.ebgan_g_loss(T(1.0, 3.0, 2.0), codes, pt_weight=0.1)
    assert loss.item() == pytest.approx(2.0 + 0.1, abs=1e-6)
    assert parts["pt"] == pytest.approx(1.0, abs=1e-6)
    loss0, _ = losses.ebgan_g_loss(T(1.0, 3.0, 2.0))
    assert loss0.item() == pytest.approx(2.0, abs=1e-6)


def test_pulling_away_term_is_zero_for_orthogonal_codes():
    assert losses.pulling_away_term(torch.eye(5) * 3.0).item() == pytest.approx(0.0, abs=1e-7)


def test_pulling_away_term_is_one_for_identical_codes():
    codes = torch.randn(1, 7, generator=torch.Generator().manual_seed(0)).repeat(6, 1)
    assert losses.pulling_away_term(codes).item() == pytest.approx(1.0, abs=1e-6)


def test_pulling_away_term_matches_double_sum_of_squared_cosines():
    codes = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    n, total = len(codes), 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                total += float(torch.nn.functional.cosine_similarity(codes[i], codes[j], dim=0)) ** 2
    assert losses.pulling_away_term(codes).item() == pytest.approx(total / (n * (n - 1)), rel=1e-9)


def test_lsgan_d_loss_matches_hand_computed_value():
    # mean(0.1, 0.3) + 2 * mean([0.3 + 0.1 - 0.5]+, [0.4 + 0.3 - 0.2]+) = 0.2 + 2 * 0.25
    loss, parts = losses.lsgan_d_loss(T(0.1, 0.3), T(0.5, 0.2), delta=T(0.3, 0.4), lam=2.0)
    assert loss.item() == pytest.approx(0.7, abs=1e-6)
    assert parts["violated"] == pytest.approx(0.5, abs=1e-6)
    assert losses.lsgan_g_loss(T(0.5, 0.2))[0].item() == pytest.approx(0.35, abs=1e-6)


def test_sample_distance_is_mean_absolute_difference_per_pair():
    a, b = T(0.0, 0.0, 1.0, 1.0).reshape(2, 2), T(1.0, -1.0, 1.0, 3.0).reshape(2, 2)
    assert losses.sample_distance(a, b, "l1").tolist() == pytest.approx([1.0, 1.0], abs=1e-6)
    assert losses.sample_distance(a, b, "l2").tolist() == pytest.approx([1.0, 2.0], abs=1e-6)


def test_gradient_norm_penalty_of_linear_energy_is_squared_weight_norm():
    D = torch.nn.Linear(3, 1)
    with torch.no_grad():
        D.weight.copy_(T(1.0, -2.0, 2.0).reshape(1, 3))
    energy = lambda x: D(x).squeeze(-1)  # noqa: E731
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    assert losses.gradient_norm_penalty(energy, x).item() == pytest.approx(9.0, abs=1e-5)


def test_gradient_norm_penalty_is_taken_per_sample():
    energy = lambda x: (x ** 2).sum(1)  # grad = 2x, so the penalty is mean_i 4 ||x_i||^2  # noqa: E731
    x = T(1.0, 0.0, 0.0, 2.0).reshape(2, 2)
    assert losses.gradient_norm_penalty(energy, x).item() == pytest.approx((4 * 1 + 4 * 4) / 2, abs=1e-5)


def test_began_d_loss_matches_hand_computed_value():
    loss, _ = losses.began_d_loss(T(0.2, 0.4), T(0.1, 0.3), k=0.5)  # 0.3 - 0.5 * 0.2
    assert loss.item() == pytest.approx(0.2, abs=1e-6)
    assert losses.began_g_loss(T(0.1, 0.3))[0].item() == pytest.approx(0.2, abs=1e-6)


def test_began_k_update_matches_formula_and_clips():
    assert losses.began_k_update(0.5, 0.4, 0.1, gamma=0.5, lambda_k=0.1) == pytest.approx(0.51, abs=1e-9)
    assert losses.began_k_update(0.99, 10.0, 0.0, gamma=1.0, lambda_k=1.0) == 1.0
    assert losses.began_k_update(0.01, 0.0, 10.0, gamma=1.0, lambda_k=1.0) == 0.0


def test_began_convergence_measure_matches_formula():
    assert losses.began_convergence(0.4, 0.1, gamma=0.5) == pytest.approx(0.4 + abs(0.2 - 0.1), abs=1e-12)
    assert losses.began_convergence(0.4, 0.5, gamma=0.5) == pytest.approx(0.4 + 0.3, abs=1e-12)


def test_began_objective_logs_m_global_from_the_same_energies():
    obj = losses.BEGANObjective(gamma=0.7, lambda_k=0.0)
    out = obj.update({"e_real": 0.3, "e_fake_g": 0.05})
    assert out["M_global"] == pytest.approx(0.3 + abs(0.7 * 0.3 - 0.05), abs=1e-12)


def test_began_k_stays_in_unit_interval_for_any_energies():
    obj = losses.BEGANObjective(gamma=0.5, lambda_k=0.5)
    g = torch.Generator().manual_seed(0)
    ks = [obj.update({"e_real": float(a), "e_fake_g": float(b)})["k"] for a, b in torch.rand(500, 2, generator=g) * 4]
    assert min(ks) >= 0.0 and max(ks) <= 1.0
    assert min(ks) == 0.0 and max(ks) == 1.0  # the clamp was actually reached on both sides


def test_began_k_stays_in_unit_interval_during_training():
    torch.manual_seed(0)
    G, D, obj = compare.make_toy_method("began", compare.MethodConfig(hidden=16, lambda_k=0.5, code_dim=2))
    h = train(G, D, ring8().sample, obj, TrainConfig(steps=40, batch_size=32, progress=False))
    assert all(0.0 <= k <= 1.0 for k in h["k"]) and len(h["k"]) == 40


# ---------------------------------------------------------------- MAGAN's margin
def test_magan_starts_margin_at_mean_real_energy_after_warmup():
    obj = losses.MAGANObjective(warmup_steps=4, epoch_steps=2)
    for e in (9.0, 9.0, 3.0, 1.0):
        obj.update({"e_real": e, "e_fake_g": 5.0})
    assert obj.margin == pytest.approx(2.0)  # mean over the last warm-up epoch


def test_magan_adapt_margin_follows_the_papers_rule():
    obj = losses.MAGANObjective(warmup_steps=1, epoch_steps=1)
    obj.margin = 1.0
    assert obj.adapt_margin(0.5, 0.8) == 1.0     # first epoch: E_fake_prev = inf > E_fake, no change
    assert obj.adapt_margin(0.5, 0.9) == 0.5     # E_real < m, E_real < E_fake, E_fake did not drop: m <- E_real
    assert obj.adapt_margin(0.4, 0.3) == 0.5     # E_real >= E_fake: no change
    assert obj.adapt_margin(0.6, 0.7) == 0.5     # E_real >= m: no change (the margin never grows)


def test_magan_margin_never_grows_during_training():
    torch.manual_seed(0)
    cfg = compare.MethodConfig(hidden=16, magan_warmup=10, magan_epoch=5)
    G, D, obj = compare.make_toy_method("magan", cfg)
    h = train(G, D, ring8().sample, obj, TrainConfig(steps=50, batch_size=32, progress=False))
    m = [v for v in h["margin"] if not math.isnan(v)]
    assert len(m) == 50 - 9
    assert all(b <= a for a, b in zip(m, m[1:]))


def test_magan_generator_does_not_move_during_warmup():
    torch.manual_seed(0)
    G, D, obj = compare.make_toy_method("magan", compare.MethodConfig(hidden=16, magan_warmup=10, magan_epoch=5))
    before = [p.detach().clone() for p in G.parameters()]
    train(G, D, ring8().sample, obj, TrainConfig(steps=9, batch_size=32, progress=False))
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))


# ---------------------------------------------------------------- a few steps lower D's loss
@pytest.mark.parametrize("method", compare.METHODS)
def test_a_few_discriminator_steps_lower_its_loss_on_a_fixed_batch(method):
    torch.manual_seed(0)
    cfg = compare.MethodConfig(hidden=32, magan_warmup=10, magan_epoch=5)
    G, D, obj = compare.make_toy_method(method, cfg)
    if method == "began":
        obj.k = 0.5  # exercise the fake term too
    if method == "magan":
        obj.t, obj.margin = 10, 1.0  # past the warm-up: the hinge loss
    g = torch.Generator().manual_seed(0)
    x_real = ring8().sample(128, g)
    with torch.no_grad():
        x_fake = G(G.sample_z(128, g))
    log = compare.fit_discriminator(D, obj, x_real, x_fake, steps=30, lr=1e-3)
    assert log["d_loss"][-1] < 0.9 * log["d_loss"][0]


# ---------------------------------------------------------------- networks
def test_autoencoder_energy_is_mean_squared_reconstruction_error():
    torch.manual_seed(0)
    D = models.AutoencoderDiscriminator(x_dim=2, hidden=8, code_dim=3)
    x = torch.randn(5, 2)
    e, codes = D.energy_and_codes(x)
    assert e.shape == (5,) and codes.shape == (5, 3)
    assert torch.allclose(e, ((x - D.reconstruct(x)) ** 2).mean(1), atol=1e-6)
    assert torch.allclose(D(x), e) and torch.allclose(D.codes(x), codes)


def test_l1_autoencoder_energy_is_mean_absolute_error():
    torch.manual_seed(0)
    D = models.ConvAutoencoderDiscriminator(image_size=12, width=4, code_dim=5, norm="l1")
    x = torch.rand(3, 1, 12, 12)
    assert torch.allclose(D(x), (x - D.reconstruct(x)).abs().mean((1, 2, 3)), atol=1e-6)
    assert D.codes(x).shape == (3, 5)


def test_conv_generator_makes_images_in_unit_interval_with_generator_interface():
    torch.manual_seed(0)
    G = models.ConvGenerator(z_dim=6, width=4)
    x = G.sample(4, torch.Generator().manual_seed(0))
    assert G.z_dim == 6 and x.shape == (4, 1, 28, 28) and x.device.type == "cpu"
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert torch.equal(x, G.sample(4, torch.Generator().manual_seed(0)))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("margin", [0.0, -1.0])
def test_non_positive_margin_is_rejected(margin):
    with pytest.raises(ValueError, match="margin"):
        losses.EBGANObjective(margin=margin)
    with pytest.raises(ValueError, match="margin"):
        losses.ebgan_d_loss(T(0.1), T(0.2), margin)


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.5])
def test_gamma_outside_unit_interval_is_rejected(gamma):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        losses.BEGANObjective(gamma=gamma)


def test_negative_lambda_k_is_rejected():
    with pytest.raises(ValueError, match="lambda_k"):
        losses.BEGANObjective(lambda_k=-0.1)


def test_negative_pt_weight_is_rejected():
    with pytest.raises(ValueError, match="pt_weight"):
        losses.EBGANObjective(pt_weight=-0.1)
    with pytest.raises(ValueError, match="pt_weight"):
        losses.ebgan_g_loss(T(0.1, 0.2), None, -1.0)


@pytest.mark.parametrize("size", [30, 6, 28.0])
def test_unsupported_image_size_is_rejected(size):
    with pytest.raises(ValueError, match="multiple of 4"):
        models.ConvAutoencoderDiscriminator(image_size=size)
    with pytest.raises(ValueError, match="multiple of 4"):
        models.ConvGenerator(image_size=size)


def test_conv_autoencoder_rejects_images_of_another_size():
    D = models.ConvAutoencoderDiscriminator(image_size=28, width=4)
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        D(torch.rand(2, 1, 32, 32))


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="choose one of"):
        compare.make_toy_method("sngan")


# ---------------------------------------------------------------- comparison helpers
def test_summarize_gives_mean_and_sample_std_over_seeds():
    rows = [dict(method="ebgan", target="ring8", seed=s, modes=m, n_modes=8, hq=q, seconds=1.0)
            for s, m, q in ((0, 6, 0.5), (1, 8, 0.7), (2, 7, 0.6))]
    (s,) = compare.summarize(rows)
    assert s["modes_mean"] == pytest.approx(7.0) and s["modes_std"] == pytest.approx(1.0)
    assert s["hq_mean"] == pytest.approx(0.6) and s["hq_std"] == pytest.approx(0.1)
    assert "| ring8 | EBGAN | 7.0 ± 1.0 / 8 | 60.0 ± 10.0 | 3 |" in compare.format_table([s])


def test_compare_runs_every_method_target_and_seed():
    cfg = compare.MethodConfig(steps=3, batch_size=16, hidden=8, magan_warmup=2, magan_epoch=1, n_eval=50)
    rows = compare.compare(methods=("gan", "began"), targets=("ring8",), seeds=(0, 1), cfg=cfg)
    assert [(r["method"], r["seed"]) for r in rows] == [("gan", 0), ("gan", 1), ("began", 0), ("began", 1)]
    assert all(0 <= r["modes"] <= 8 and 0.0 <= r["hq"] <= 1.0 for r in rows)
    again = compare.compare(methods=("began",), targets=("ring8",), seeds=(1,), cfg=cfg)
    assert again[0]["hq"] == rows[3]["hq"]  # seeded: the same numbers


def test_compare_applies_per_target_settings_and_rejects_unknown_ones():
    cfg = compare.MethodConfig(steps=2, batch_size=16, hidden=8, n_eval=50)
    rows = compare.compare(methods=("gan",), targets=("ring8", "grid25"), seeds=(0,), cfg=cfg,
                           per_target={"grid25": {"lr_g": 0.05, "steps": 3}})
    assert rows[0]["cfg"]["lr_g"] == cfg.lr_g and rows[0]["cfg"]["steps"] == 2
    assert rows[1]["cfg"]["lr_g"] == 0.05 and rows[1]["cfg"]["steps"] == 3
    direct = compare.compare(methods=("gan",), targets=("grid25",), seeds=(0,), cfg=compare.with_overrides(cfg, lr_g=0.05, steps=3))
    assert direct[0]["hq"] == rows[1]["hq"] and direct[0]["modes"] == rows[1]["modes"]
    with pytest.raises(ValueError, match="not compared"):
        compare.compare(methods=("gan",), targets=("ring8",), seeds=(0,), cfg=cfg, per_target={"grid25": {"lr_g": 0.1}})
    with pytest.raises(ValueError, match="unknown MethodConfig fields"):
        compare.compare(methods=("gan",), targets=("ring8",), seeds=(0,), cfg=cfg, per_target={"ring8": {"learning_rate": 0.1}})


def test_latent_interpolation_hits_both_end_points():
    torch.manual_seed(0)
    G = models.Generator(z_dim=2, x_dim=2, hidden=8)
    z0, z1 = T(1.0, 0.0), T(0.0, 1.0)
    x = compare.latent_interpolation(G, z0, z1, n=5)
    assert x.shape == (5, 2)
    assert torch.allclose(x[0], G(z0[None])[0], atol=1e-6) and torch.allclose(x[-1], G(z1[None])[0], atol=1e-6)


def test_gradient_norms_of_linear_energy_equal_weight_norm():
    D = torch.nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(T(3.0, 4.0).reshape(1, 2))
    energy = torch.nn.Sequential(D, torch.nn.Flatten(0))
    assert compare.gradient_norms(energy, torch.randn(7, 2)).tolist() == pytest.approx([5.0] * 7, abs=1e-5)


def test_compare_gives_each_method_its_own_settings_per_run():
    cfg = compare.MethodConfig(steps=2, batch_size=16, hidden=8, n_eval=50)
    rows = compare.compare(methods=("gan", "ebgan"), targets=("ring8",), seeds=(0,), cfg=cfg,
                           per_target={"ring8": {"lr_g": 0.01}}, per_run={("ring8", "ebgan"): {"lr_g": 0.05, "margin": 2.0}})
    by = {r["method"]: r["cfg"] for r in rows}
    assert by["gan"]["lr_g"] == 0.01 and by["ebgan"]["lr_g"] == 0.05 and by["ebgan"]["margin"] == 2.0
    with pytest.raises(ValueError, match="not compared"):
        compare.compare(methods=("gan",), targets=("ring8",), seeds=(0,), cfg=cfg, per_run={("ring8", "began"): {}})

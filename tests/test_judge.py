"""The course judge: a "not a digit" class, a feature-density reject option, FD with its real-vs-real scale."""
import math

import pytest
import torch

from course_lib import evaluation as ev
from course_lib.data import DataNotFoundError, load_images


@pytest.fixture(scope="module")
def small_judge():
    """A judge trained for 150 steps on 3,000 real MNIST digits, calibrated on 1,000 others, FD reference 1,000 more."""
    try:
        data = load_images("mnist", split="train", download=False)
    except DataNotFoundError as err:
        pytest.skip(f"MNIST is not available (set COURSE_DATA to the folder holding MNIST/raw): {err}")
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(data.images), generator=g)[:6000]
    trn, val, ref = idx[:3000], idx[3000:4000], idx[4000:5000]
    x, y = data.images, data.labels
    torch.manual_seed(0)
    model = ev.MnistClassifier(n_classes=11)
    ev.train_judge(model, x[trn], y[trn], steps=150, batch_size=64, n_bad=16, progress=False)
    val_feats = ev.predict(model, x[val])[1]
    density = ev.fit_density(ev.predict(model, x[trn])[1], y[trn], val_feats, quantile=0.995)
    judge = ev.DigitJudge(model, 0.0, val, trn, {}, "digits", density, ev.predict(model, x[ref])[1], val_feats)
    return judge, x[idx[5000:]], y[idx[5000:]]


def test_reject_option_rejects_uniform_noise_and_gaussian_blobs(small_judge):
    judge, digits, _ = small_judge
    g = torch.Generator().manual_seed(1)
    for make in (ev.uniform_noise, ev.gaussian_blobs):
        x = make(300, g, digits)
        rep = judge(x)
        assert rep["recognisable"] < 0.02 and rep["not_a_digit"] > 0.95, (make.__name__, rep["text"])
        d = judge.density.distance(ev.predict(judge.model, x)[1])
        assert float(d.median()) > judge.density.max_distance, make.__name__  # the density alone rejects most of them
    noise_feats = ev.predict(judge.model, ev.uniform_noise(300, g, digits))[1]
    assert float(judge.density.rejects(noise_feats).double().mean()) > 0.95


def test_a_confident_held_out_digit_is_accepted(small_judge):
    judge, digits, labels = small_judge
    probs, feats = ev.predict(judge.model, digits)
    confident = (probs[:, :10].max(1).values > 0.99) & (probs.argmax(1) == labels)
    assert confident.sum() > 100  # the fixture's judge has learnt the digits
    accepted = ~judge.density.rejects(feats[confident])
    assert float(accepted.double().mean()) > 0.95
    first = digits[confident][:1]
    rep = judge(first)
    assert rep["recognisable"] == 1.0 and rep["not_a_digit"] == 0.0 and rep["classes"] == 1
    assert judge(digits)["recognisable"] > 0.5  # a judge of 150 steps is confident on most digits already


def test_reject_cut_is_the_validation_quantile(small_judge):
    judge, _, _ = small_judge
    above = float((judge.density.distance(judge.val_features) > judge.density.max_distance).double().mean())
    assert above == pytest.approx(0.005, abs=0.0015)  # 1,000 validation digits: 5 of them above the 99.5% quantile


def test_mahalanobis_distance_matches_its_formula_on_a_constructed_case():
    means = torch.tensor([[0.0, 0.0], [10.0, 0.0]], dtype=torch.float64)
    cov = torch.tensor([[4.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    precision = torch.linalg.inv(cov)
    feats = torch.tensor([[1.0, 2.0], [9.0, -1.0], [5.0, 0.0]], dtype=torch.float64)
    # by hand: Sigma^-1 = [[2, -1], [-1, 4]] / 7; d = min_c v^T Sigma^-1 v, v = phi - mu_c
    quad = lambda v: (2 * v[0] ** 2 - 2 * v[0] * v[1] + 4 * v[1] ** 2) / 7  # noqa: E731
    expected = [min(quad(f - m) for m in means) for f in feats]
    assert ev.mahalanobis(feats, means, precision).tolist() == pytest.approx([float(e) for e in expected], rel=1e-12)
    assert float(quad(torch.tensor([1.0, 2.0]))) == pytest.approx(14 / 7)  # the first point to class 0: (2 - 4 + 16) / 7


def test_class_gaussians_recover_the_means_and_the_shared_covariance():
    g = torch.Generator().manual_seed(0)
    cov = torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
    root = torch.linalg.cholesky(cov)
    labels = torch.arange(3).repeat_interleave(20000)
    true_means = torch.tensor([[0.0, 0.0], [5.0, 1.0], [-3.0, 4.0]], dtype=torch.float64)
    feats = true_means[labels] + torch.randn(len(labels), 2, generator=g, dtype=torch.float64) @ root.T
    means, shared = ev.class_gaussians(feats, labels, n_classes=3)
    assert torch.allclose(means, true_means, atol=0.05)
    assert torch.allclose(shared, cov, atol=0.05)


def test_frechet_distance_real_vs_real_is_small_and_noise_vs_real_is_large(small_judge):
    judge, digits, _ = small_judge
    rep_real = judge(digits[:500])
    rep_noise = judge(ev.uniform_noise(500, torch.Generator().manual_seed(2), digits))
    assert rep_real["fd"] < 3 * rep_real["fd_real"]
    assert rep_noise["fd"] > 20 * rep_real["fd_real"]
    assert rep_noise["fd_real"] == pytest.approx(rep_real["fd_real"])  # the scale depends only on the sample size
    assert "FD" in rep_real["text"] and "real vs real" in rep_real["text"]
    assert math.isnan(judge(digits[:1])["fd"])  # one image has no covariance


@pytest.mark.parametrize("bad, match", [
    (torch.rand(4, 28, 28), r"shape \(N, 1, 28, 28\)"),
    (torch.rand(4, 3, 28, 28), r"shape \(N, 1, 28, 28\)"),
    (torch.rand(0, 1, 28, 28), "N >= 1"),
    (torch.full((2, 1, 28, 28), math.nan), "NaN or inf"),
    ([[0.5]], "torch.Tensor"),
])
def test_bad_input_gives_a_clear_value_error(small_judge, bad, match):
    judge, _, _ = small_judge
    with pytest.raises(ValueError, match=match):
        judge(bad)


def test_non_digit_kinds_are_images_in_the_unit_range_and_reproducible(small_judge):
    judge, digits, _ = small_judge
    assert sum(nd.trained for nd in ev.NON_DIGITS.values()) >= 3
    assert sum(not nd.trained for nd in ev.NON_DIGITS.values()) >= 2  # kinds the judge never saw in training
    for kind, nd in ev.NON_DIGITS.items():
        a = nd.make(8, torch.Generator().manual_seed(3), digits, judge.model)
        b = nd.make(8, torch.Generator().manual_seed(3), digits, judge.model)
        assert a.shape == (8, 1, 28, 28) and float(a.min()) >= 0 and float(a.max()) <= 1, kind
        assert torch.equal(a, b), kind


def test_digit_report_counts_only_accepted_images():
    probs = torch.eye(10)[[0, 1, 2, 3]].double()
    rep = ev.digit_report(probs, accepted=torch.tensor([True, False, True, False]))
    assert rep["recognisable"] == 0.5 and rep["counts"][:4] == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="one flag per row"):
        ev.digit_report(probs, accepted=torch.tensor([True]))


def test_summary_names_the_test_split_and_the_non_digits(small_judge):
    judge, digits, _ = small_judge
    j = ev.DigitJudge(judge.model, 0.991, judge.held, judge.train, judge(digits[:200]), "digits", judge.density,
                      judge.test_features, judge.val_features, {"uniform noise": 0.0, "smooth noise": 0.004})
    assert "99.10% accurate on the official test split" in j.summary
    assert "at most 0.4% recognisable" in j.summary and "not a digit" in j.summary


# ---------------------------------------------------------------- StackedMNIST: modes read channel by channel
def test_classify_agrees_with_the_verdict_and_stacked_modes_read_each_channel(small_judge):
    from course_lib.data import StackedDigits, mode_of

    judge, digits, labels = small_judge
    label, ok = judge.classify(digits[:400])
    assert judge(digits[:400])["recognisable"] == pytest.approx(float(ok.double().mean()))
    assert float((label[ok] == labels[:400][ok]).double().mean()) > 0.9     # what it counts, it mostly reads right
    data = StackedDigits(digits, labels)
    x, mode = data.sample_with_modes(300, torch.Generator().manual_seed(2))
    rep = ev.stacked_modes(judge, x)
    read, p = rep["recognisable"], float(ok.double().mean())
    assert abs(float(read.double().mean()) - p ** 3) < 0.12   # three independent digits: recognised about p^3 of the time
    assert float((rep["mode"][read] == mode[read]).double().mean()) > 0.75  # three right readings in a row, mostly
    # a collapsed generator: one stacked image repeated is one mode, KL = log 1000 over the recognisable copies
    same = x[:1].repeat(50, 1, 1, 1)
    one = ev.stacked_modes(judge, same)
    assert one["covered"] == 1 and one["kl_uniform"] == pytest.approx(math.log(1000))
    assert torch.equal(mode_of(torch.tensor([[1, 2, 3], [0, 0, 9]])), torch.tensor([123, 9]))
    with pytest.raises(ValueError, match=r"\(N, C, 28, 28\)"):
        ev.stacked_modes(judge, torch.rand(4, 28, 28))


def test_stacked_images_target_scores_modes_and_kl_as_the_papers_count_them():
    from course_lib import compare
    from course_lib.data import StackedDigits

    class ReadsTheLabelPixel:                        # a judge that reads a digit from pixel (0, 0): value = label / 10
        def classify(self, images):
            label = (images[:, 0, 0, 0] * 10).round().long().clamp(0, 9)
            return label, torch.ones(len(images), dtype=torch.bool)

    digits = torch.zeros(10, 1, 28, 28)
    digits[:, 0, 0, 0] = torch.arange(10) / 10
    target = compare.StackedImages(StackedDigits(digits, torch.arange(10)), ReadsTheLabelPixel())
    assert target.dim == 3 * 28 * 28 and target.n_modes == 1000
    x = target.sample(20000, torch.Generator().manual_seed(0))
    assert x.shape == (20000, 2352)
    score = target.score(x)
    assert score["modes"] == 1000 and score["hq"] == 1.0 and score["kl"] < 0.05      # uniform draws cover all 1,000
    two = torch.stack([x[0], x[1]] * 50)                                            # a generator that draws two modes
    s2 = target.score(two)
    modes = {int(m) for m in ev.stacked_modes(ReadsTheLabelPixel(), target.images(two))["mode"]}
    assert s2["modes"] == len(modes) and s2["kl"] == pytest.approx(math.log(1000 / len(modes)))

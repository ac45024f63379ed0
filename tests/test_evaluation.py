"""Evaluation: NLL rescaling, dequantisation bound, ROC/PR curves, classifier-based scores."""
import math

import numpy as np
import pytest
import torch

from course_lib.evaluation import (MnistClassifier, classifier_score, dequantization_bound, dequantize, digit_report, recognisable_share, fit_mnist_classifier, frechet_distance,
                                   nll_rescaled, operating_points, pr_auc, pr_curve, roc_auc, train_classifier)


def test_nll_rescaling_identity_for_a_gaussian_fit():
    g = torch.Generator().manual_seed(0)
    sigma, k = 7.5, 3
    x = 2.0 + 3.0 * torch.randn(5000, k, generator=g, dtype=torch.float64)
    def gauss_nll(d):  # NLL of the per-dimension maximum-likelihood Gaussian
        return float(-torch.distributions.Normal(d.mean(0), d.std(0, unbiased=False)).log_prob(d).sum(1).mean())
    assert nll_rescaled(gauss_nll(x / sigma), sigma, k) == pytest.approx(gauss_nll(x), abs=1e-9)


@pytest.mark.parametrize("sigma", [0.0, -1.0])
def test_rescaling_needs_positive_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        nll_rescaled(1.0, sigma, 2)


def test_dequantization_bound_is_above_the_discrete_nll():
    g = torch.Generator().manual_seed(0)
    normal = torch.distributions.Normal(torch.tensor(3.2, dtype=torch.float64), torch.tensor(1.5, dtype=torch.float64))
    x_int = normal.sample((20000,)).floor()
    discrete = float(-torch.log(normal.cdf(x_int + 1) - normal.cdf(x_int)).mean())  # -log P(x), P(x) = mass of [x, x+1)
    bound = dequantization_bound(lambda x: normal.log_prob(x), x_int, n_draws=4, generator=g)
    assert bound >= discrete
    assert bound - discrete < 0.1  # tight for a smooth density


def test_roc_auc_equals_the_mann_whitney_probability_with_ties():
    s = torch.tensor([0.1, 0.4, 0.4, 0.8, 0.3, 0.9])
    y = torch.tensor([0, 0, 1, 1, 0, 1])
    pos, neg = s[y == 1], s[y == 0]
    want = float(((pos[:, None] > neg[None]).double() + 0.5 * (pos[:, None] == neg[None]).double()).mean())
    assert roc_auc(s, y) == pytest.approx(want, abs=1e-12)


def test_pr_auc_of_a_perfect_scorer_is_one():
    y = torch.tensor([1] * 30 + [0] * 70)
    s = y.float() + 0.01 * torch.rand(100, generator=torch.Generator().manual_seed(0))
    for method in ("davis_goadrich", "linear"):
        assert pr_auc(s, y, method) == pytest.approx(1.0, abs=1e-12)
    assert roc_auc(s, y) == pytest.approx(1.0, abs=1e-12)


def test_pr_auc_of_a_random_scorer_is_the_positive_fraction():
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(40000, generator=g) < 0.2).long()
    s = torch.rand(40000, generator=g)
    assert pr_auc(s, y) == pytest.approx(float(y.float().mean()), abs=0.01)
    assert roc_auc(s, y) == pytest.approx(0.5, abs=0.01)


def test_davis_goadrich_points_hand_computed():
    # Operating points A = (TP 1, FP 0), B = (TP 3, FP 4) of P = 3 positives: each extra TP brings 2 FPs.
    s = torch.tensor([9.0, 5, 5, 5, 5, 5, 5])
    y = torch.tensor([1, 1, 1, 0, 0, 0, 0])
    r, p = pr_curve(s, y, "davis_goadrich")
    np.testing.assert_allclose(r, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(p, [1, 1, 2 / 4, 3 / 7])


def test_davis_goadrich_starts_from_the_last_all_negative_point_when_the_first_positives_tie():
    # Two negatives score highest (operating point TP 0, FP 2), then a tie of 3 positives and 4 negatives
    # (TP 3, FP 6), then 3 positives and 1 negative (TP 6, FP 7); P = 6. From (0, 2) to (3, 6) each true
    # positive brings 4/3 false positives: (1, 10/3), (2, 14/3), (3, 6); from (3, 6) to (6, 7), 1/3 each.
    s = torch.tensor([9.0, 9] + [5.0] * 7 + [1.0] * 4)
    y = torch.tensor([0, 0] + [1, 1, 1, 0, 0, 0, 0] + [1, 1, 1, 0])
    r, p = pr_curve(s, y, "davis_goadrich")
    tp = np.array([1, 2, 3, 4, 5, 6.0])
    fp = np.array([10 / 3, 14 / 3, 6, 19 / 3, 20 / 3, 7])
    np.testing.assert_allclose(r, np.r_[0, tp / 6])
    np.testing.assert_allclose(p, np.r_[3 / 13, tp / (tp + fp)])
    assert p[1] == pytest.approx(0.2308, abs=1e-4)  # not 1/3, the precision of the tied group as a whole
    area = np.trapezoid(np.r_[3 / 13, tp / (tp + fp)], np.r_[0, tp / 6])
    assert pr_auc(s, y) == pytest.approx(area, abs=1e-12)
    # the area over recall [0, 1/2], by hand: 1/6 * (3/13 + (3/13 + 3/10) / 2 + (3/10 + 1/3) / 2)
    r_half = r <= 0.5 + 1e-12
    assert np.trapezoid(p[r_half], r[r_half]) == pytest.approx((3 / 13 + (3 / 13 + 3 / 10) / 2 + (3 / 10 + 1 / 3) / 2) / 6)
    # the linear curve has no point before TP 3: it starts at (recall 0.5, precision 1/3)
    r_lin, p_lin = pr_curve(s, y, "linear")
    np.testing.assert_allclose(r_lin, [0, 0.5, 1])
    np.testing.assert_allclose(p_lin, [1 / 3, 1 / 3, 6 / 13])


def _segment_scores(tp_a, fp_a, tp_b, fp_b, n_pos):
    """Scores whose only operating points are A = (tp_a, fp_a) and B = (tp_b, fp_b) (plus 'all'), n_pos positives."""
    n_neg = fp_b + 1
    s = [3.0] * (tp_a + fp_a) + [2.0] * (tp_b - tp_a + fp_b - fp_a) + [1.0] * (n_pos - tp_b + n_neg - fp_b)
    y = [1] * tp_a + [0] * fp_a + [1] * (tp_b - tp_a) + [0] * (fp_b - fp_a) + [1] * (n_pos - tp_b) + [0] * (n_neg - fp_b)
    return torch.tensor(s), torch.tensor(y)


def test_correct_interpolation_never_exceeds_linear_when_precision_falls():
    g = torch.Generator().manual_seed(0)
    checked = 0
    for _ in range(300):
        tp_a, tp_b = sorted(torch.randint(1, 40, (2,), generator=g).tolist())
        if tp_b == tp_a:
            continue
        fp_a = int(torch.randint(0, 30, (1,), generator=g))
        fp_b = fp_a + int(torch.randint(0, 60, (1,), generator=g))
        if tp_b / (tp_b + fp_b) > tp_a / (tp_a + fp_a):
            continue  # precision rises from A to B (see the next test)
        s, y = _segment_scores(tp_a, fp_a, tp_b, fp_b, n_pos=tp_b)
        assert pr_auc(s, y, "davis_goadrich") <= pr_auc(s, y, "linear") + 1e-12
        checked += 1
    assert checked > 100
    # the real detectors of this course: the correct area never exceeds the linear one on sparse operating points
    y = (torch.rand(3000, generator=g) < 0.1).long()
    s = y.float() * 1.0 + torch.randn(3000, generator=g)
    for k in (3, 5, 10, 30):
        assert pr_auc(s, y, "davis_goadrich", max_points=k) <= pr_auc(s, y, "linear", max_points=k)


def test_where_precision_rises_the_correct_curve_lies_above_the_chord():
    # A = (TP 1, FP 3) precision 1/4, B = (TP 5, FP 3) precision 5/8: precision rises, the curve is concave there.
    s, y = _segment_scores(1, 3, 5, 3, n_pos=5)
    assert pr_auc(s, y, "davis_goadrich") > pr_auc(s, y, "linear")


def test_nan_scores_are_rejected_with_advice():
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(torch.tensor([0.1, float("nan")]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="positive and one negative"):
        pr_auc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1]))


def test_operating_points_group_tied_scores():
    op = operating_points(torch.tensor([0.5, 0.5, 0.2]), torch.tensor([1, 0, 1]))
    np.testing.assert_array_equal(op.tp, [1, 2])
    np.testing.assert_array_equal(op.fp, [1, 1])


def test_classifier_score_is_number_of_classes_for_confident_balanced_predictions_and_one_for_constant():
    assert classifier_score(torch.eye(10).repeat(5, 1)) == pytest.approx(10.0, rel=1e-6)
    assert classifier_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0, rel=1e-6)


def test_frechet_distance_matches_closed_form_for_gaussians():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200000, 2, generator=g, dtype=torch.float64)
    b = torch.tensor([1.0, 0.0]) + torch.randn(200000, 2, generator=g, dtype=torch.float64) * torch.tensor([2.0, 1.0])
    # ||mu||^2 + sum_i (s_a,i - s_b,i)^2 for diagonal covariances: 1 + (1 - 2)^2 + 0 = 2
    assert frechet_distance(a, b) == pytest.approx(2.0, abs=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_is_exact_and_silent_when_a_covariance_is_singular():
    """Dead features (zero variance) make S_a S_b singular; the distance must still match the closed form."""
    import warnings
    g = torch.Generator().manual_seed(1)
    a = torch.randn(50000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 3.0, 0.0])  # third unit dead
    b = torch.randn(50000, 3, generator=g, dtype=torch.float64) * torch.tensor([2.0, 0.0, 0.0]) + 1.0
    # diagonal covariances: ||mu_a - mu_b||^2 + sum_i (sigma_a,i - sigma_b,i)^2 = 3 + (1 + 9 + 0) = 13
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(a, b) == pytest.approx(13.0, abs=0.15)
        assert frechet_distance(b, b) == pytest.approx(0.0, abs=1e-6)


def test_classifier_features_and_logits_have_the_stated_shapes():
    m = MnistClassifier()
    x = torch.rand(3, 1, 28, 28)
    assert m(x).shape == (3, 10) and m.features(x).shape == (3, 64)


def test_dequantize_adds_uniform_noise_and_rejects_non_integers():
    x = torch.tensor([0.0, 3.0, 255.0])
    xt = dequantize(x, torch.Generator().manual_seed(0))
    assert ((xt - x.double()) >= 0).all() and ((xt - x.double()) < 1).all()
    with pytest.raises(ValueError, match="integer"):
        dequantize(torch.tensor([0.5]))


def test_bits_per_dim_converts_nats():
    from course_lib.evaluation import bits_per_dim
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)


def test_digit_report_counts_confident_samples_and_their_class_entropy():
    confident = torch.eye(10)[[0, 1, 2, 3, 0, 1, 2, 3]] * 0.95 + 0.005   # max 0.955, four classes twice each
    vague = torch.full((8, 10), 0.1)                                       # never recognisable
    r = digit_report(torch.cat([confident, vague]))
    assert r["recognisable"] == pytest.approx(0.5)
    assert r["classes"] == 4 and r["entropy_bits"] == pytest.approx(2.0)  # uniform over 4 classes: log2 4
    assert r["counts"] == [2, 2, 2, 2, 0, 0, 0, 0, 0, 0]
    collapsed = digit_report(torch.eye(10)[[7] * 20])
    assert collapsed["classes"] == 1 and collapsed["entropy_bits"] == 0.0 and collapsed["recognisable"] == 1.0
    assert f"{collapsed['entropy_bits']:.2f}" == "0.00" and f"{digit_report(vague)['entropy_bits']:.2f}" == "0.00"
    assert digit_report(torch.eye(10).repeat(3, 1))["entropy_bits"] == pytest.approx(math.log2(10))


def test_digit_report_gives_the_recognisable_share_within_each_class():
    """A generator of clean "1"s and blurry "8"s: its overall share mixes the two, the per-class shares do not."""
    ones = torch.eye(10)[[1] * 6] * 0.95 + 0.005                       # six confident "1"s
    eights = torch.full((4, 10), 0.05)
    eights[:, 8] = 0.55                                                 # four "8"s, most probable class 8, not confident
    eights[0] = torch.eye(10)[8] * 0.95 + 0.005                         # ... but the first one is
    r = digit_report(torch.cat([ones, eights]))
    assert r["recognisable"] == pytest.approx(0.7)
    assert r["drawn"] == [0, 6, 0, 0, 0, 0, 0, 0, 4, 0] and sum(r["drawn"]) == 10
    assert recognisable_share(r, [1]) == pytest.approx(1.0) and recognisable_share(r, [8]) == pytest.approx(0.25)
    assert all(math.isnan(recognisable_share(r, [c])) for c in (0, 2, 3, 4, 5, 6, 7, 9))
    assert recognisable_share(r, [c for c in range(10) if c != 1]) == pytest.approx(0.25)  # pooled over the other classes
    assert recognisable_share(r, range(10)) == pytest.approx(r["recognisable"])
    rejected = digit_report(torch.cat([ones, eights]), accepted=torch.tensor([False] * 3 + [True] * 7))
    assert recognisable_share(rejected, [1]) == pytest.approx(0.5) and recognisable_share(rejected, [8]) == pytest.approx(0.25)


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.5])
def test_digit_report_rejects_a_threshold_outside_the_open_unit_interval(threshold):
    with pytest.raises(ValueError, match="threshold"):
        digit_report(torch.eye(10), threshold)


def test_fit_mnist_classifier_learns_separable_digits_and_holds_out_the_requested_images():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    images = torch.rand(200, 1, 28, 28, generator=g) * 0.1
    images[labels == 1, :, :14] += 0.9                     # class 1: bright top half
    judge = fit_mnist_classifier(images, labels, n_heldout=50, steps=60, batch_size=32, progress=False)
    assert len(judge.held) == 50 and len(set(judge.held.tolist()) | set(judge.train.tolist())) == 200
    assert not set(judge.held.tolist()) & set(judge.train.tolist())
    assert judge.accuracy == 1.0
    assert judge.real["recognisable"] == judge(images[judge.held])["recognisable"]
    assert "100.0% accurate on 50 held-out real digits" in judge.summary
    fashion = fit_mnist_classifier(images, labels, n_heldout=50, steps=60, batch_size=32, progress=False,
                                   what="Fashion-MNIST images")
    assert "held-out real Fashion-MNIST images" in fashion.summary and "digits" not in fashion.summary
    with pytest.raises(ValueError, match="n_heldout"):
        fit_mnist_classifier(images, labels, n_heldout=200, steps=1, progress=False)


def test_train_classifier_calls_back_after_every_update_with_the_model():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    images, labels = torch.randn(16, 1, 2, 2), torch.arange(16) % 2
    seen = []

    def callback(step, m):
        seen.append((step, m, m[1].weight.detach().clone()))

    losses = train_classifier(model, images, labels, steps=5, batch_size=8, progress=False, callback=callback)
    assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5] and all(m is model for _, m, _ in seen)
    assert len(losses) == 5
    assert not torch.equal(seen[0][2], seen[1][2])           # called after the update, not before
    assert torch.equal(seen[-1][2], model[1].weight)


def test_within_class_spread_is_the_mean_squared_distance_to_the_class_means():
    from course_lib import evaluation
    feats = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [10.0, 14.0], [5.0, 5.0]])
    classes = torch.tensor([0, 0, 1, 1, 2])           # class 2 has one sample: no spread to measure, left out
    # class 0: distances^2 to (1, 0) are 1 and 1 -> 1; class 1: to (10, 12) are 4 and 4 -> 4; mean 2.5
    assert evaluation.within_class_spread(feats, classes) == pytest.approx(2.5)
    assert evaluation.within_class_spread(feats[:2] * 0, classes[:2]) == 0.0  # identical samples: no variety
    with pytest.raises(ValueError, match="at least two samples"):
        evaluation.within_class_spread(feats[4:], classes[4:])


def _davis_goadrich_by_loop(scores, labels):
    """The interpolation of Davis and Goadrich (2006, section 4) written point by point: the reference for pr_curve."""
    from course_lib.evaluation import operating_points

    op = operating_points(scores, labels)
    tp, fp = np.r_[0.0, op.tp.astype(float)], np.r_[0.0, op.fp.astype(float)]
    first = int(np.argmax(tp > 0))
    tp, fp = tp[first - 1:], fp[first - 1:]
    rt, rf = [], []
    for a in range(len(tp) - 1):
        dtp, dfp = tp[a + 1] - tp[a], fp[a + 1] - fp[a]
        if dtp == 0:
            rt.append(tp[a + 1]), rf.append(fp[a + 1])
            continue
        for x in range(1, int(dtp) + 1):
            rt.append(tp[a] + x), rf.append(fp[a] + x * dfp / dtp)
    rt, rf = np.asarray(rt), np.asarray(rf)
    return np.r_[0.0, rt / op.n_pos], np.r_[rt[0] / (rt[0] + rf[0]), rt / (rt + rf)]


@pytest.mark.parametrize("seed", range(4))
def test_pr_curve_equals_the_point_by_point_interpolation_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(500, generator=g) < 0.3).long()
    s = torch.round(torch.randn(500, generator=g) * 3 + 2 * y) / 2        # coarse scores: many ties, mixed groups
    r, p = pr_curve(s, y)
    r_ref, p_ref = _davis_goadrich_by_loop(s, y)
    assert np.array_equal(r, r_ref) and np.array_equal(p, p_ref)

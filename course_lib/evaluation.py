"""How generative models are evaluated: likelihoods (and their pitfalls), detection curves, and
classifier-based sample scores.

* NLL of rescaled data: NLL(x) = NLL(x / sigma) + k log sigma (change of variables);
  dequantisation: the continuous NLL of x + u, u ~ U[0, 1)^k, bounds the discrete NLL from above
  (Theis, van den Oord and Bethge 2016, arXiv:1511.01844).
* ROC and precision-recall curves with their areas; the PR area uses the interpolation of Davis
  and Goadrich (2006, ICML, "The Relationship Between Precision-Recall and ROC Curves"), not a
  straight line between operating points.
* A small MNIST classifier trained in the course, and two scores computed with it: an
  Inception-Score analogue (Salimans et al. 2016, arXiv:1606.03498), a Frechet distance on
  its features (Heusel et al. 2017, arXiv:1706.08500), and ``digit_report``: how many generated
  digits it recognises confidently and how varied their classes are.
* ``course_judge``: the one judge every chapter uses, hardened so that noise cannot pass for a
  digit. A plain classifier's max-softmax is no test of "is this a digit at all": a softmax must
  pick some class, and a network trained only on digits extrapolates confidently far from them
  (Nguyen, Yosinski and Clune 2015, arXiv:1412.1897; Hendrycks and Gimpel 2017, arXiv:1610.02136).
  So the judge has two independent guards. (1) An eleventh class, "not a digit", trained on
  corruptions drawn on the fly from a seeded generator (uniform noise, smooth blobs of ink,
  pixel-shuffled digits, two digits overlaid), which teaches it what ink without a digit's structure looks like
  (outlier exposure, Hendrycks et al. 2019, arXiv:1812.04606). (2) A reject option from the
  density of its penultimate features: class-conditional Gaussians with one shared covariance,
  d(x) = min_c (phi(x) - mu_c)^T Sigma^-1 (phi(x) - mu_c) (Lee et al. 2018, arXiv:1807.03888),
  cut at the 99.5% quantile of validation digits' d, which catches inputs of kinds never seen in
  training, where the extra class may not generalise. Recognisable = max_{y<10} p(y|x) > 0.9 AND
  d(x) below the cut. Both are checked on kinds of non-digits NOT used in training (smooth
  low-frequency noise, blends of three digits, noise pushed by gradient steps towards the judge's
  own confidence: the failure of a sampler that climbs the classifier), the accuracy (argmax over
  the ten classes) on the official test split, thresholds chosen on validation only. Without the
  two-digit blends in training, three-digit blends passed a quarter of the time (measured): the
  density guard alone does not catch images made of real strokes.
  Beside the share, the judge reports the Frechet distance to the test split in its own feature
  space, with the real-vs-real value (validation vs test, same sample size) as its scale.

Convention for detection: label 1 = positive (an anomaly), and a *higher* score means "more
likely positive" (for an energy-based detector the score is the energy).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import store
from .runtime import is_test


# ---------------------------------------------------------------- likelihoods
def nll_rescaled(nll_scaled: float, sigma: float, k: int) -> float:
    """NLL of x from the NLL of x_tilde = x / sigma: NLL = NLL_scaled + k log sigma (k = dimensions, nats)."""
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"the scale sigma must be a positive finite number, got {sigma!r}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k (the data's dimension) must be a positive integer, got {k!r}")
    return float(nll_scaled) + k * math.log(sigma)


def bits_per_dim(nll_nats: float, k: int) -> float:
    """bits/dim = NLL / (k log 2)."""
    return float(nll_nats) / (k * math.log(2))


def dequantize(x_int: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x_tilde = x + u, u ~ U[0, 1)^k: integer data made continuous (Theis et al. 2016, section 3.1)."""
    x_int = torch.as_tensor(x_int)
    if x_int.is_floating_point() and not torch.equal(x_int, x_int.floor()):
        raise ValueError("dequantize expects integer-valued data (e.g. pixel values 0..255); round or rescale it first")
    return x_int.double() + torch.rand(x_int.shape, generator=generator, dtype=torch.float64)


def dequantization_bound(log_density, x_int: torch.Tensor, n_draws: int = 8, generator: torch.Generator | None = None) -> float:
    """-E_x E_u[log p(x + u)] >= -E_x[log P(x)], P(x) = integral over [0,1)^k of p(x + u) du (Jensen): an upper bound on the discrete NLL."""
    if not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    vals = [log_density(dequantize(x_int, generator)).double() for _ in range(n_draws)]
    return float(-torch.stack(vals).mean())


# ---------------------------------------------------------------- detection curves
def _check_scores(scores, labels):
    s = np.asarray(torch.as_tensor(scores).detach().cpu().double()).ravel()
    y = np.asarray(torch.as_tensor(labels).detach().cpu()).ravel()
    if s.shape != y.shape:
        raise ValueError(f"scores and labels must have the same length, got {s.shape} and {y.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"{int((~np.isfinite(s)).sum())} scores are NaN or inf; remove those samples or fix the model that produced them")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (negative) or 1 (positive, e.g. the anomaly)")
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("need at least one positive and one negative label to draw ROC/PR curves")
    return s, y.astype(np.int64)


@dataclass
class OperatingPoints:
    """Counts at each distinct threshold, from the strictest (highest score) to accepting everything."""

    tp: np.ndarray          # true positives when predicting positive for score >= threshold
    fp: np.ndarray          # false positives
    thresholds: np.ndarray
    n_pos: int
    n_neg: int


def operating_points(scores, labels) -> OperatingPoints:
    """(TP, FP) for every threshold between distinct scores (tied scores form one step)."""
    s, y = _check_scores(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_group = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[last_of_group]
    fp = np.cumsum(1 - y)[last_of_group]
    return OperatingPoints(tp, fp, s[last_of_group], int(y.sum()), int(len(y) - y.sum()))


def roc_curve(scores, labels):
    """(FPR, TPR) from (0, 0) to (1, 1): FPR = FP / N, TPR = TP / P at each threshold."""
    op = operating_points(scores, labels)
    return np.r_[0.0, op.fp / op.n_neg], np.r_[0.0, op.tp / op.n_pos]


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve (trapezoids; linear interpolation is correct in ROC space) = P(score_pos > score_neg) + P(tie) / 2."""
    fpr, tpr = roc_curve(scores, labels)
    return float(np.trapezoid(tpr, fpr))


def pr_curve(scores, labels, interpolation: str = "davis_goadrich", max_points: int | None = None):
    """(recall, precision) points of the PR curve, starting at recall 0 with the first point's precision.

    ``interpolation="davis_goadrich"``: between operating points A and B, each extra true
    positive brings (FP_B - FP_A) / (TP_B - TP_A) false positives, giving the points
    (TP_A + x) / P, (TP_A + x) / (TP_A + x + FP_A + x (FP_B - FP_A) / (TP_B - TP_A)) for
    x = 1, 2, ..., TP_B - TP_A (Davis and Goadrich 2006, section 4), starting from the last point with
    TP = 0 (all-negative top groups) or from (0, 0). ``"linear"``: only the
    operating points, to be joined by straight lines (which overstates the area when precision
    falls between them). ``max_points`` keeps only that many evenly spaced thresholds, as when a
    detector was run at a few settings.
    """
    if interpolation not in ("davis_goadrich", "linear"):
        raise ValueError(f"interpolation must be 'davis_goadrich' or 'linear', got {interpolation!r}")
    op = operating_points(scores, labels)
    tp, fp = op.tp.astype(float), op.fp.astype(float)
    if max_points is not None:
        if not isinstance(max_points, int) or max_points < 1:
            raise ValueError(f"max_points must be a positive integer, got {max_points!r}")
        keep = np.unique(np.linspace(0, len(tp) - 1, max_points).round().astype(int))
        tp, fp = tp[keep], fp[keep]
    if interpolation == "davis_goadrich":
        # precision is undefined while TP = 0, but the last such point (or (0, 0) when the top-scored
        # group already holds a positive) anchors the interpolation to the first point with TP > 0
        tp, fp = np.r_[0.0, tp], np.r_[0.0, fp]
        first = int(np.argmax(tp > 0))
        tp, fp = tp[first - 1:], fp[first - 1:]
        # interval a (from point a to a + 1) gives dtp_a points x = 1 .. dtp_a, or, with only negatives added
        # (dtp_a = 0), the one point a + 1: a vertical drop at constant recall
        dtp, dfp = np.diff(tp), np.diff(fp)
        counts = np.where(dtp > 0, dtp, 1).astype(np.int64)
        a = np.repeat(np.arange(len(dtp)), counts)
        x = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1).astype(float)
        drop = dtp[a] == 0
        tp = np.where(drop, tp[a + 1], tp[a] + x)
        fp = np.where(drop, fp[a + 1], fp[a] + x * dfp[a] / np.where(drop, 1.0, dtp[a]))
    else:
        keep = tp > 0  # precision is undefined before the first true positive
        tp, fp = tp[keep], fp[keep]
    recall, precision = tp / op.n_pos, tp / (tp + fp)
    return np.r_[0.0, recall], np.r_[precision[0], precision]


def pr_auc(scores, labels, interpolation: str = "davis_goadrich", max_points: int | None = None) -> float:
    """Area under the PR curve by the composite trapezoid rule over ``pr_curve``'s points."""
    r, p = pr_curve(scores, labels, interpolation, max_points)
    return float(np.trapezoid(p, r))


# ---------------------------------------------------------------- a small MNIST classifier
class MnistClassifier(nn.Module):
    """A small CNN for 28 x 28 digits: two conv blocks (optionally batch-normalised), a feature layer (for the Frechet distance), the logits."""

    def __init__(self, n_classes: int = 10, width: int = 16, n_features: int = 64, batch_norm: bool = False):
        super().__init__()
        norm = (lambda c: [nn.BatchNorm2d(c)]) if batch_norm else (lambda c: [])  # noqa: E731 (none: the layout of old checkpoints)
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), *norm(width), nn.ReLU(), nn.MaxPool2d(2),              # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1), *norm(2 * width), nn.ReLU(), nn.MaxPool2d(2),  # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * width * 49, n_features), nn.ReLU(),                          # (B, n_features)
        )
        self.head = nn.Linear(n_features, n_classes)
        # channels-last weights make every activation channels-last: on a CPU its batch norm and max pooling are
        # vectorised, about twice as fast (measured on 2 cores: 56 -> 30 ms a training step of 152 images,
        # 212 -> 110 ms to judge 1,000); the numbers are the same up to rounding
        self.body.to(memory_format=torch.channels_last)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations phi(x), (B, n_features)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, n_classes) logits


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int = 500,
                     batch_size: int = 128, lr: float = 2e-3, seed: int = 0, progress: bool = True,
                     callback=None) -> list:
    """Minimise the cross-entropy -log softmax(f(x))_y with Adam on random minibatches; returns the loss per step.

    ``callback(step, model)``, when given, runs after every update (e.g. to keep a weight average).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="classifier"):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        loss = F.cross_entropy(model(images[idx].to(dev)), labels[idx].to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if callback is not None:
            callback(step, model)
    model.eval()
    return losses


@dataclass
class FeatureDensity:
    """Class-conditional Gaussians N(mu_c, Sigma) on the judge's features, and the cut on d(x) beyond which x is no digit."""

    means: torch.Tensor      # (C, F) the class means mu_c
    precision: torch.Tensor  # (F, F) Sigma^-1, Sigma shared by the classes (ridge-regularised)
    max_distance: float      # d(x) above this: rejected (a high quantile of validation digits' d)

    def distance(self, feats: torch.Tensor) -> torch.Tensor:
        """d(x) = min_c (phi(x) - mu_c)^T Sigma^-1 (phi(x) - mu_c), (N,)."""
        return mahalanobis(feats, self.means, self.precision)

    def rejects(self, feats: torch.Tensor) -> torch.Tensor:
        """d(x) > max_distance, (N,) bool."""
        return self.distance(feats) > self.max_distance


@dataclass
class DigitJudge:
    """A classifier fitted on real digits, its accuracy and split, and its verdict on held-out real digits.

    ``judge(images)``: how many of ``images`` it recognises and how varied they are (``judge_digits``);
    a course judge (``course_judge``) also rejects non-digits by its feature density and adds the
    Frechet distance to the test split with its real-vs-real scale.
    """

    model: nn.Module
    accuracy: float        # on the held-out real digits (a course judge: the official test split)
    held: torch.Tensor     # indices of the held-out images (a course judge: the validation part of the training split)
    train: torch.Tensor    # indices of the images it was trained on
    real: dict             # its verdict on held-out real digits (a course judge: the test split): the scale for generated ones
    what: str = "digits"   # what the images are, for the summary ("digits", "Fashion-MNIST images", ...)
    density: FeatureDensity | None = None      # the reject option (course judge only)
    test_features: torch.Tensor | None = None  # (N_test, F) phi of the test split: the FD reference
    val_features: torch.Tensor | None = None   # (N_val, F) phi of the validation digits: the real-vs-real FD scale
    non_digits: dict = field(default_factory=dict)  # kind -> share of that kind counted recognisable
    train_seconds: float = math.nan             # how long its training took (when it was trained, not loaded)

    def __call__(self, images: torch.Tensor) -> dict:
        if self.density is None:
            return judge_digits(self.model, images)
        return self.verdict(images)

    def verdict(self, images: torch.Tensor) -> dict:
        """``digit_report`` with recognisable = max_{y<10} p(y|x) > 0.9 and d(x) <= cut, plus "not_a_digit", "fd", "fd_real", "text"."""
        probs, feats = predict(self.model, check_images(images))
        rejected = self.density.rejects(feats)
        rep = digit_report(probs[:, :10], accepted=~rejected)
        rep["not_a_digit"] = float(((probs.argmax(1) == 10) | rejected).double().mean())
        rep["fd"], rep["fd_real"] = self.frechet(feats)
        rep["text"] = (f"recognisable {100 * rep['recognisable']:5.1f}%, classes {rep['classes']:2d}/10, "
                       f"class entropy {rep['entropy_bits']:.2f} bits, not a {self.item} {100 * rep['not_a_digit']:.1f}%, "
                       f"FD {rep['fd']:.2f} (real vs real: {rep['fd_real']:.2f})")
        return rep

    def classify(self, images: torch.Tensor, threshold: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
        """``(label, recognisable)`` per image, (N,) each: the most probable digit class, and whether ``verdict`` counts
        the image (max_{y<10} p(y|x) > ``threshold`` and, for a course judge, d(x) within the reject cut)."""
        probs, feats = predict(self.model, check_images(images))
        conf, label = probs[:, :10].max(1)
        ok = conf > threshold
        if self.density is not None:
            ok = ok & ~self.density.rejects(feats)
        return label, ok

    def frechet(self, feats: torch.Tensor) -> tuple[float, float]:
        """(FD(phi(images), phi(test)), FD(phi(validation[-n:]), phi(test))): the distance and its real-vs-real scale, n = len(images).

        The scale uses the *last* n validation digits, so a sample of the first ones (as chapters draw
        "held-out" digits from the same seeded permutation) is not compared with itself.
        """
        n = min(len(feats), len(self.val_features))
        if n < 2:
            return math.nan, math.nan
        fd = max(frechet_distance(feats, self.test_features), 0.0)  # round-off can give -1e-12 for identical sets
        return fd, max(frechet_distance(self.val_features[-n:], self.test_features), 0.0)

    @property
    def item(self) -> str:
        """What one image is called in the text: "digit", "Fashion-MNIST item"."""
        return "digit" if self.what == "digits" else "Fashion-MNIST item" if "Fashion" in self.what else "image of its kind"

    @property
    def summary(self) -> str:
        if self.density is None:
            return (f"the judge: a small CNN, {100 * self.accuracy:.1f}% accurate on {len(self.held):,} held-out real {self.what}, "
                    f"which it finds {self.real['text']}")
        worst = max(self.non_digits.values())
        return (f"the judge: a small CNN with a 'not a {self.item}' class and a feature-density reject option, "
                f"{100 * self.accuracy:.2f}% accurate on the official test split ({len(self.test_features):,} real {self.what}); "
                f"of {len(self.non_digits)} kinds of non-{self.item}s ({', '.join(self.non_digits)}) it counts at most "
                f"{100 * worst:.1f}% recognisable; on {len(self.held):,} held-out validation {self.what} it finds {self.real['text']}")


def stacked_modes(judge: DigitJudge, images: torch.Tensor) -> dict:
    """StackedMNIST's mode count: the judge reads every channel of (N, C, 28, 28) ``images`` as a digit; the triple of
    its labels is the image's mode (``data.mode_of``).

    Returns ``mode`` (N,), ``recognisable`` (N,) (every channel a digit the judge counts), and, over all N images as
    the papers count them, ``covered`` (distinct modes) and ``kl_uniform`` (``metrics.mode_histogram``), plus the same
    two over the recognisable images only.
    """
    from .data import mode_of
    from .metrics import mode_histogram

    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[2:]) != (28, 28):
        raise ValueError(f"images must be an (N, C, 28, 28) tensor (C digits stacked as channels), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    per_channel = [judge.classify(images[:, c:c + 1]) for c in range(images.shape[1])]
    mode = mode_of(torch.stack([label for label, _ in per_channel], 1))
    ok = torch.stack([r for _, r in per_channel], 1).all(1)
    n_modes = 10 ** images.shape[1]
    every, good = mode_histogram(mode, n_modes), (mode_histogram(mode[ok], n_modes) if ok.any() else None)
    return dict(mode=mode, recognisable=ok, covered=every["covered"], kl_uniform=every["kl_uniform"],
                covered_recognisable=good["covered"] if good else 0,
                kl_recognisable=good["kl_uniform"] if good else math.log(n_modes))


def fit_mnist_classifier(images: torch.Tensor, labels: torch.Tensor, n_heldout: int = 1000, steps: int = 800,
                         batch_size: int = 128, seed: int = 0, device="cpu", progress: bool = True,
                         what: str = "digits") -> DigitJudge:
    """A seeded ``MnistClassifier`` trained on all but ``n_heldout`` random images, as a ``DigitJudge``.

    ``what`` names the images in the judge's summary (the same CNN judges Fashion-MNIST: "Fashion-MNIST images").

    Kept in the run store (``course_lib.store``): the same images, labels and settings load the
    trained weights instead of training again (a line on stderr says so).
    """
    if not 0 < n_heldout < len(images):
        raise ValueError(f"n_heldout must lie in (0, {len(images)}), got {n_heldout!r}")
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    held, trn = perm[:n_heldout], perm[n_heldout:]
    torch.manual_seed(seed)
    model = MnistClassifier().to(device)

    def fit():
        train_classifier(model, images[trn], labels[trn], steps=steps, batch_size=batch_size, seed=seed,
                         progress=progress)
        return dict(model=store.to_cpu(model.state_dict()))

    spec = dict(what="mnist classifier", model=model, images=images, labels=labels, n_heldout=n_heldout, steps=steps,
                batch_size=batch_size, seed=seed)
    payload, how, seconds = store.remember(spec, fit)
    if how == "loaded":
        model.load_state_dict(payload["model"])
        if progress:
            print(f"classifier: loaded from the run store in {seconds:.1f} s ({steps:,} steps not retrained)",
                  file=sys.stderr)
    model.eval()
    probs, _ = predict(model, images[held])
    accuracy = float((probs.argmax(1) == labels[held]).double().mean())
    return DigitJudge(model, accuracy, held, trn, judge_digits(model, images[held]), what)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities softmax(f(x)) (N, C) and features phi(x) (N, F), on the CPU."""
    dev = next(model.parameters()).device
    model.eval()
    probs, feats = [], []
    for i in range(0, len(images), batch):
        f = model.features(images[i:i + batch].to(dev))
        feats.append(f.cpu())
        probs.append(F.softmax(model.head(f), dim=1).cpu())
    return torch.cat(probs), torch.cat(feats)


def classifier_score(probs: torch.Tensor) -> float:
    """IS = exp(E_x KL(p(y|x) || p(y))), p(y) = E_x p(y|x): the Inception Score (Salimans et al. 2016) with our classifier; 1 <= IS <= C."""
    p = torch.as_tensor(probs, dtype=torch.float64)
    if p.ndim != 2 or not torch.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be an (N, C) array of class probabilities (rows of a softmax)")
    p = p / p.sum(1, keepdim=True)
    py = p.mean(0, keepdim=True)
    kl = (p * (torch.log(p.clamp_min(1e-12)) - torch.log(py.clamp_min(1e-12)))).sum(1)
    return float(torch.exp(kl.mean()))


def digit_report(probs: torch.Tensor, threshold: float = 0.9, accepted: torch.Tensor | None = None) -> dict:
    """Recognisable = max_y p(y|x) > threshold (and ``accepted``, when given); returns their share, the classes among them and the entropy (bits) of those classes.

    ``counts[c]`` of the recognisable images and ``drawn[c]`` of all images have c as their most probable class.

    A generator whose digits are recognisable and varied scores a share near that of real digits
    and an entropy near log2 10 = 3.32 bits; a collapsed one a low entropy, a blurry one a low share.
    """
    p = torch.as_tensor(probs, dtype=torch.float64)
    if p.ndim != 2 or len(p) == 0 or not torch.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be a non-empty (N, C) array of class probabilities (rows of a softmax)")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold!r}")
    conf, label = p.max(1)
    ok = conf > threshold
    if accepted is not None:
        accepted = torch.as_tensor(accepted, dtype=torch.bool).cpu()
        if accepted.shape != ok.shape:
            raise ValueError(f"accepted must be one flag per row of probs, got {tuple(accepted.shape)} for {len(p)} rows")
        ok = ok & accepted
    counts = torch.bincount(label[ok], minlength=p.shape[1]).double()
    q = counts / counts.sum().clamp_min(1)
    entropy = float(-(q[q > 0] * q[q > 0].log2()).sum()) + 0.0  # + 0.0: no '-0.00 bits' for one class or none
    drawn = torch.bincount(label, minlength=p.shape[1])  # for quality within a class: ``recognisable_share``
    return dict(recognisable=float(ok.double().mean()), classes=int((counts > 0).sum()), entropy_bits=entropy,
                counts=counts.long().tolist(), drawn=drawn.tolist())


def recognisable_share(report: dict, classes) -> float:
    """Recognisable share among the images whose most probable class is in ``classes``: sum counts / sum drawn (NaN if none).

    Quality within a class, free of the class mix (a generator of "1"s looks cleaner than one of "8"s
    only because a "1" is easier to draw); ``report`` is a ``digit_report``.
    """
    drawn = sum(report["drawn"][c] for c in classes)
    return sum(report["counts"][c] for c in classes) / drawn if drawn else math.nan


def judge_digits(model: nn.Module, images: torch.Tensor, threshold: float = 0.9) -> dict:
    """``digit_report`` of the classifier's probabilities on ``images``, plus a one-line summary under "text"."""
    rep = digit_report(predict(model, images)[0], threshold)
    rep["text"] = (f"recognisable {100 * rep['recognisable']:5.1f}%, classes {rep['classes']:2d}/10, "
                   f"class entropy {rep['entropy_bits']:.2f} bits")
    return rep


def frechet_distance(feat_a: torch.Tensor, feat_b: torch.Tensor) -> float:
    """FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}) between Gaussians fitted to two feature sets (Heusel et al. 2017)."""
    a = np.asarray(torch.as_tensor(feat_a, dtype=torch.float64))
    b = np.asarray(torch.as_tensor(feat_b, dtype=torch.float64))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (N, F) feature arrays with the same F and N >= 2, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("features contain NaN or inf")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (S_a S_b)^{1/2} = Tr (S_a^{1/2} S_b S_a^{1/2})^{1/2}: a symmetric PSD matrix, so its root comes from
    # eigenvalues and stays exact when a covariance is singular (dead ReLU features, collapsed samples)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(w.clip(min=0))) @ v.T
    m = root_a @ s_b @ root_a
    tr_root = np.sqrt(np.linalg.eigvalsh((m + m.T) / 2).clip(min=0)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * tr_root)


# ---------------------------------------------------------------- the course judge: hard to fool
def check_images(images) -> torch.Tensor:
    """``images`` as a float (N, 1, 28, 28) tensor with finite pixels, else a ValueError saying what is wrong."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"images must be a torch.Tensor of shape (N, 1, 28, 28), got {type(images).__name__}")
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28) or len(images) == 0:
        raise ValueError(f"images must have shape (N, 1, 28, 28) with N >= 1, got {tuple(images.shape)}")
    images = images.float()
    if not torch.isfinite(images).all():
        raise ValueError(f"{int((~torch.isfinite(images)).flatten(1).any(1).sum())} images contain NaN or inf pixels; "
                         "the generator that made them has diverged")
    return images


def class_gaussians(feats: torch.Tensor, labels: torch.Tensor, n_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """mu_c = mean of phi over class c, Sigma = (1/N) sum_i (phi_i - mu_{y_i})(phi_i - mu_{y_i})^T: (C, F) means, (F, F) shared covariance."""
    f = torch.as_tensor(feats, dtype=torch.float64)
    y = torch.as_tensor(labels).long()
    means = torch.stack([f[y == c].mean(0) for c in range(n_classes)])
    centred = f - means[y]
    return means, centred.T @ centred / len(f)


def within_class_spread(feats: torch.Tensor, classes: torch.Tensor, n_classes: int = 10) -> float:
    """mean_c E_{i in c} ||phi_i - mu_c||^2 over the classes with two or more samples: variety within a class."""
    per_class = [((feats[classes == c] - feats[classes == c].mean(0)) ** 2).sum(1).mean() for c in range(n_classes)
                 if (classes == c).sum() > 1]
    if not per_class:
        raise ValueError("within_class_spread needs a class with at least two samples")
    return float(torch.stack(per_class).mean())


def mahalanobis(feats: torch.Tensor, means: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """d(x) = min_c (phi(x) - mu_c)^T P (phi(x) - mu_c), P = Sigma^-1: the squared distance to the nearest class, (N,)."""
    f = torch.as_tensor(feats, dtype=torch.float64)
    diff = f[:, None, :] - means.double()[None]                        # (N, C, F)
    return torch.einsum("ncf,fg,ncg->nc", diff, precision.double(), diff).min(1).values


def fit_density(train_feats, train_labels, val_feats, quantile: float = 0.995, ridge: float = 1e-3) -> FeatureDensity:
    """Class Gaussians on training features, P = (Sigma + ridge * tr(Sigma)/F I)^-1, cut = the ``quantile`` of validation digits' d."""
    means, cov = class_gaussians(train_feats, train_labels)
    eye = torch.eye(len(cov), dtype=cov.dtype)
    precision = torch.linalg.inv(cov + ridge * float(torch.trace(cov)) / len(cov) * eye)
    cut = float(torch.quantile(mahalanobis(val_feats, means, precision), quantile))
    return FeatureDensity(means.float(), precision, cut)


def _pick(images: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    return images[torch.randint(len(images), (n,), generator=gen)]


def uniform_noise(n, gen, images, model=None):
    """x ~ U[0, 1]^784."""
    return torch.rand(n, 1, 28, 28, generator=gen)


def gaussian_blobs(n, gen, images, model=None, max_blobs: int = 4):
    """x = min(1, sum_k a_k exp(-|p - c_k|^2 / (2 s_k^2))): 1 to 4 round blobs of ink, c_k ~ U[4, 24]^2, s_k ~ U[1.5, 4.5], a_k ~ U[0.5, 1]."""
    k = max_blobs
    c = 4 + 20 * torch.rand(n, k, 2, 1, 1, generator=gen)
    s = 1.5 + 3 * torch.rand(n, k, 1, 1, generator=gen)
    a = (0.5 + 0.5 * torch.rand(n, k, 1, 1, generator=gen)) * (torch.rand(n, k, 1, 1, generator=gen) < 0.6)
    a[:, 0] = 0.5 + 0.5 * torch.rand(n, 1, 1, generator=gen)  # at least one blob
    grid = torch.arange(28.0)
    sq = (grid.view(1, 1, 28, 1) - c[:, :, 0]) ** 2 + (grid.view(1, 1, 1, 28) - c[:, :, 1]) ** 2  # (n, k, 28, 28)
    return (a * torch.exp(-sq / (2 * s ** 2))).sum(1, keepdim=True).clamp(max=1)


def shuffled_digits(n, gen, images, model=None):
    """x = a real image with its 784 pixels in a random order: the ink of a digit, none of its shape."""
    x = _pick(images, n, gen).flatten(1)
    order = torch.rand(x.shape, generator=gen).argsort(1)
    return x.gather(1, order).view(n, 1, 28, 28)


def smooth_noise(n, gen, images, model=None):
    """x = bilinear upsampling of U[0, 1] on a coarse g x g grid, g ~ {4, ..., 8}, stretched to [0, 1]: low-frequency noise."""
    out = []
    for g in torch.randint(4, 9, (n,), generator=gen).tolist():
        u = F.interpolate(torch.rand(1, 1, g, g, generator=gen), size=(28, 28), mode="bilinear", align_corners=True)
        out.append((u - u.min()) / (u.max() - u.min()).clamp_min(1e-6))
    return torch.cat(out)


def blends(n, gen, images, model=None, k: int = 2):
    """x = (x_1 + ... + x_k) / max pixel: k real images overlaid, none of them any more."""
    x = sum(_pick(images, n, gen) for _ in range(k))
    return x / x.flatten(1).max(1).values.clamp_min(1e-6).view(n, 1, 1, 1)


def two_blends(n, gen, images, model=None):
    """``blends`` of k = 2 images."""
    return blends(n, gen, images, k=2)


def three_blends(n, gen, images, model=None):
    """``blends`` of k = 3 images."""
    return blends(n, gen, images, k=3)


def confident_noise(n, gen, images, model=None, steps: int = 10, step: float = 0.02):
    """x_0 ~ U[0, 1], x_{t+1} = clip(x_t + step * sign grad_x max_{y<10} log p(y|x_t), 0, 1): noise pushed towards the judge's own confidence."""
    x = torch.rand(n, 1, 28, 28, generator=gen)
    dev = next(model.parameters()).device
    model.eval()
    for _ in range(steps):
        x = x.to(dev).requires_grad_(True)
        logp = F.log_softmax(model(x), 1)[:, :10].max(1).values.sum()
        (grad,) = torch.autograd.grad(logp, x)
        x = (x + step * grad.sign()).clamp(0, 1).detach()
    return x.cpu()


@dataclass(frozen=True)
class NonDigit:
    """A kind of image that is not a digit (nor a Fashion-MNIST item)."""

    make: Callable   # (n, generator, real images, model) -> (n, 1, 28, 28) in [0, 1]
    trained: bool    # shown to the judge as the class "not a digit" while it trains


# Each kind declared once; the three trained kinds teach the extra class, the others test that the rejection generalises.
NON_DIGITS = {
    "uniform noise": NonDigit(uniform_noise, trained=True),
    "Gaussian blobs": NonDigit(gaussian_blobs, trained=True),
    "pixel-shuffled": NonDigit(shuffled_digits, trained=True),
    "2-image blend": NonDigit(two_blends, trained=True),
    "smooth noise": NonDigit(smooth_noise, trained=True),
    "3-image blend": NonDigit(three_blends, trained=False),
    "noise pushed to confidence": NonDigit(confident_noise, trained=False),
}


def non_digit_batch(n: int, gen: torch.Generator, images: torch.Tensor) -> torch.Tensor:
    """n images from the trained kinds of ``NON_DIGITS``, in equal parts (the rest from the first kind)."""
    kinds = [k.make for k in NON_DIGITS.values() if k.trained]
    sizes = [n // len(kinds)] * len(kinds)
    sizes[0] += n - sum(sizes)
    return torch.cat([make(m, gen, images) for make, m in zip(kinds, sizes)])


def train_judge(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int, batch_size: int = 128,
                n_bad: int = 32, lr: float = 3e-3, seed: int = 0, progress: bool = True) -> list:
    """Minimise CE over 10 digit classes + class 10 = "not a digit" (``n_bad`` trained non-digits a batch), Adam with cosine-decayed lr."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps)))
    y_bad = torch.full((n_bad,), 10, dtype=torch.long)
    losses = []
    model.train()
    for _ in tqdm(range(steps), disable=not progress, desc="judge"):
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        x = torch.cat([images[idx], non_digit_batch(n_bad, gen, images)])   # (B + n_bad, 1, 28, 28)
        y = torch.cat([labels[idx], y_bad])
        loss = F.cross_entropy(model(x.to(dev)), y.to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


JUDGE_STEPS = dict(test=40, real=3600)  # the course's settings: every chapter calls course_judge with these


def course_judge(name: str = "mnist", steps: int | None = None, device="cpu", progress: bool = True, n_val: int = 5000,
                 width: int = 16, n_features: int = 128, batch_size: int = 128, n_bad: int = 24, quantile: float = 0.995,
                 n_check: int = 1000, seed: int = 0) -> DigitJudge:
    """The course's judge for ``name`` ("mnist" or "fashion_mnist"): 11-class CNN + feature-density reject option.

    Trained on the training split minus ``n_val`` random images (the validation part, which sets the
    reject cut at its ``quantile`` of d(x), and whose verdict is ``real``); ``accuracy`` is measured on
    the official test split, which is also the FD reference, ``non_digits`` on ``n_check`` images of each kind of ``NON_DIGITS`` (a fresh seed).
    ``steps`` defaults to the profile's ``JUDGE_STEPS``. Kept in the run store: one training per build.
    """
    from .data import load_images

    steps = JUDGE_STEPS["test" if is_test() else "real"] if steps is None else steps
    trn_data, test_data = load_images(name, split="train"), load_images(name, split="test")
    images, labels = trn_data.images, trn_data.labels
    if not 0 < n_val < len(images):
        raise ValueError(f"n_val must lie in (0, {len(images)}), got {n_val!r}")
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    held, trn = perm[:n_val], perm[n_val:]
    torch.manual_seed(seed)
    model = MnistClassifier(n_classes=11, width=width, n_features=n_features, batch_norm=True).to(device)

    what = {"mnist": "digits", "fashion_mnist": "Fashion-MNIST images"}.get(name, "images")

    def fit():
        start = time.perf_counter()
        train_judge(model, images[trn], labels[trn], steps=steps, batch_size=batch_size, n_bad=n_bad, seed=seed,
                    progress=progress)
        seconds = time.perf_counter() - start
        fit_idx = trn[torch.randperm(len(trn), generator=torch.Generator().manual_seed(seed + 1))[:10000]]
        val_feats = predict(model, images[held])[1]
        density = fit_density(predict(model, images[fit_idx])[1], labels[fit_idx], val_feats, quantile)
        probs, test_feats = predict(model, test_data.images)
        accuracy = float((probs[:, :10].argmax(1) == test_data.labels).double().mean())  # which digit: argmax over y < 10
        judge = DigitJudge(model, accuracy, held, trn, {}, what,
                           density, test_feats, val_feats, train_seconds=seconds)
        judge.real = judge(images[held])
        gen = torch.Generator().manual_seed(seed + 12345)  # not the training stream: fresh non-digits, from test images
        judge.non_digits = {kind: judge(nd.make(n_check, gen, test_data.images, model))["recognisable"]
                            for kind, nd in NON_DIGITS.items()}
        return dict(model=store.to_cpu(model.state_dict()), means=density.means, precision=density.precision,
                    max_distance=density.max_distance, accuracy=judge.accuracy, test_features=test_feats,
                    val_features=val_feats, real=judge.real, non_digits=judge.non_digits, seconds=seconds)

    spec = dict(what="course judge", version=3, name=name, model=model, images=images, labels=labels,
                test_images=test_data.images, test_labels=test_data.labels, n_val=n_val, steps=steps,
                batch_size=batch_size, n_bad=n_bad, quantile=quantile, n_check=n_check, seed=seed)
    payload, how, seconds = store.remember(spec, fit)
    model.load_state_dict(payload["model"])
    model.eval()
    if progress:
        print(f"judge: {'loaded from the run store' if how == 'loaded' else 'trained and checked'} in {seconds:.1f} s "
              f"({steps:,} steps{' not retrained' if how == 'loaded' else ''})", file=sys.stderr)
    density = FeatureDensity(payload["means"], payload["precision"], float(payload["max_distance"]))
    return DigitJudge(model, float(payload["accuracy"]), held, trn, dict(payload["real"]), what, density,
                      payload["test_features"], payload["val_features"], dict(payload["non_digits"]),
                      float(payload["seconds"]))

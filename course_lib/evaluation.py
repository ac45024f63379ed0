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

Convention for detection: label 1 = positive (an anomaly), and a *higher* score means "more
likely positive" (for an energy-based detector the score is the energy).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import store


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
        rt, rf = [], []
        for a in range(len(tp) - 1):
            dtp, dfp = tp[a + 1] - tp[a], fp[a + 1] - fp[a]
            if dtp == 0:  # only negatives added: a vertical drop at constant recall
                rt.append(tp[a + 1]), rf.append(fp[a + 1])
                continue
            x = np.arange(1, int(dtp) + 1, dtype=float)
            rt.extend(tp[a] + x), rf.extend(fp[a] + x * dfp / dtp)
        tp, fp = np.asarray(rt), np.asarray(rf)
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
    """A small CNN for 28 x 28 digits: two conv blocks, a 64-unit feature layer (for the Frechet distance), 10 logits."""

    def __init__(self, n_classes: int = 10, width: int = 16, n_features: int = 64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),            # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * width * 49, n_features), nn.ReLU(),          # (B, n_features)
        )
        self.head = nn.Linear(n_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations phi(x), (B, n_features)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, n_classes) logits


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
class DigitJudge:
    """A classifier fitted on real digits, its held-out accuracy and split, and its verdict on the held-out digits.

    ``judge(images)`` is ``judge_digits(judge.model, images)``: how many digits it recognises and how varied they are.
    """

    model: nn.Module
    accuracy: float        # on the held-out real digits
    held: torch.Tensor     # indices of the held-out images
    train: torch.Tensor    # indices of the images it was trained on
    real: dict             # judge_digits on the held-out real digits: the scale for generated ones
    what: str = "digits"   # what the images are, for the summary ("digits", "Fashion-MNIST images", ...)

    def __call__(self, images: torch.Tensor) -> dict:
        return judge_digits(self.model, images)

    @property
    def summary(self) -> str:
        return (f"the judge: a small CNN, {100 * self.accuracy:.1f}% accurate on {len(self.held):,} held-out real {self.what}, "
                f"which it finds {self.real['text']}")


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


def digit_report(probs: torch.Tensor, threshold: float = 0.9) -> dict:
    """Recognisable = max_y p(y|x) > threshold; returns their share, the classes among them and the entropy (bits) of those classes.

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
    counts = torch.bincount(label[ok], minlength=p.shape[1]).double()
    q = counts / counts.sum().clamp_min(1)
    entropy = float(-(q[q > 0] * q[q > 0].log2()).sum()) + 0.0  # + 0.0: no '-0.00 bits' for one class or none
    return dict(recognisable=float(ok.double().mean()), classes=int((counts > 0).sum()), entropy_bits=entropy,
                counts=counts.long().tolist())


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

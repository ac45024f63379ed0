"""One rule for every comparison of the course: which of two set-ups did better, or that n seeds cannot tell.

A comparison takes one number per run (modes covered, a share, an error) of set-up A and of set-up
B. Runs that share their seeds are paired (the same seed draws the same initial weights and
minibatches for both), and the rule looks at the per-seed differences; otherwise at the two groups.
A percentile bootstrap (Efron & Tibshirani 1993, ch. 13) gives a ``level`` interval for the
difference of the means. Three outcomes, worded from it and nothing else:

* "A does better": the interval lies wholly on A's side of zero;
* "B does better": wholly on B's side;
* "No difference detectable with n seeds": the interval holds zero, or there are fewer than
  ``MIN_SEEDS`` runs a side (then the sentence says that too few seeds were run to tell).

``compare_runs`` returns a ``Verdict``, whose ``sentence()`` is what a chapter prints: no
comparative sentence of the course is typed by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SEEDS = 5          # fewer runs a side than this and no verdict is drawn
LEVEL = 0.95           # the bootstrap interval's coverage
N_BOOT = 10_000        # bootstrap resamples


@dataclass(frozen=True)
class Verdict:
    """The outcome of ``compare_runs``: "a", "b" or "none", with the numbers it rests on."""

    a: str
    b: str
    what: str
    outcome: str
    mean_a: float
    mean_b: float
    diff: float            # mean of A minus mean of B
    low: float             # the bootstrap interval of the difference
    high: float
    n: int                 # runs a side (the smaller side when unpaired)
    paired: bool
    higher_is_better: bool
    level: float = LEVEL
    unit: str = "seed"     # what pairs the runs, in the sentence's words (e.g. "configuration" for a grid search)

    @property
    def winner(self) -> str | None:
        """The name of the better set-up, or None when no difference is detectable."""
        return {"a": self.a, "b": self.b}.get(self.outcome)

    def sentence(self) -> str:
        """The verdict in words, with the numbers it rests on, as a sentence of its own (capital first letter)."""
        text = self.clause()
        return text[:1].upper() + text[1:]

    def clause(self) -> str:
        """The verdict as ``sentence`` words it, to go inside a sentence (after a colon or a semicolon): the rule's own
        words start in lower case, the set-ups' names are written as they were given."""
        units = f"{self.unit}s"
        how = f"{self.n} {'paired ' if self.paired else ''}{self.unit}{'s' if self.n != 1 else ''}"
        numbers = (f"{self.mean_a:.3g} against {self.mean_b:.3g}; difference {self.diff:+.3g}, "
                   f"{100 * self.level:.0f}% interval {self.low:+.3g} to {self.high:+.3g}, {how}")
        if self.outcome == "none":
            if self.n < MIN_SEEDS:
                return (f"between {self.a} and {self.b}, too few {units} ({self.n}, fewer than {MIN_SEEDS}) to tell a difference in "
                        f"{self.what} ({self.mean_a:.3g} against {self.mean_b:.3g})")
            return f"no difference in {self.what} detectable with {self.n} {units} between {self.a} and {self.b} ({numbers})"
        better, worse = (self.a, self.b) if self.outcome == "a" else (self.b, self.a)
        return f"{better} does better than {worse} in {self.what} ({self.a} {numbers})"


def _bootstrap_means(values: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of ``values``."""
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    return values[idx].mean(axis=1)


def compare_runs(a_values, b_values, a: str = "A", b: str = "B", what: str = "the score", higher_is_better: bool = True,
                 paired: bool | None = None, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0,
                 unit: str = "seed") -> Verdict:
    """The course's verdict on set-up ``a`` against ``b`` from one number per run (see the module's docstring).

    ``paired`` (default: when both sides have as many runs) compares per-seed differences: give the
    values in the same seed order. ``higher_is_better=False`` for errors and distances. ``unit`` names
    what the runs are paired by in the sentence ("seed" by default; "configuration" when the runs of a
    grid search pair by their shared configuration, as ``sweep.paired_verdict`` does).
    """
    x, y = np.asarray(a_values, dtype=float).ravel(), np.asarray(b_values, dtype=float).ravel()
    if len(x) == 0 or len(y) == 0:
        raise ValueError(f"compare_runs needs at least one run a side, got {len(x)} for {a!r} and {len(y)} for {b!r}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"compare_runs: the values of {a!r} or {b!r} contain NaN or inf; drop or fix those runs first")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    if paired is None:
        paired = len(x) == len(y)
    if paired and len(x) != len(y):
        raise ValueError(f"paired runs need one value per seed on both sides, got {len(x)} for {a!r} and {len(y)} for {b!r}")
    n = len(x) if paired else min(len(x), len(y))
    diff = float(x.mean() - y.mean())
    rng = np.random.default_rng(seed)
    if paired:
        boots = _bootstrap_means(x - y, rng, n_boot)
    else:
        boots = _bootstrap_means(x, rng, n_boot) - _bootstrap_means(y, rng, n_boot)
    return _verdict(a, b, what, float(x.mean()), float(y.mean()), boots, n, paired, higher_is_better, level, unit)


def _verdict(a, b, what, mean_a, mean_b, boots, n, paired, higher_is_better, level, unit) -> Verdict:
    """The rule itself: the ``level`` interval of the bootstrapped differences ``boots`` decides, or too few runs do."""
    low, high = (float(v) for v in np.quantile(boots, [(1 - level) / 2, (1 + level) / 2]))
    diff = mean_a - mean_b
    sign = 1.0 if higher_is_better else -1.0
    outcome = "none" if n < MIN_SEEDS or low <= 0 <= high else ("a" if sign * diff > 0 else "b")
    return Verdict(a, b, what, outcome, mean_a, mean_b, diff, low, high, n, paired, higher_is_better, level, unit)


def by_seed(rows, key: str = "modes") -> list:
    """The ``key`` values of ``rows`` (one per run) in the order of their seeds, for a paired comparison."""
    rows = sorted(rows, key=lambda r: r["seed"])
    seeds = [r["seed"] for r in rows]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"by_seed: several runs share a seed ({seeds}); select one set-up's runs first")
    return [r[key] for r in rows]


def compare_scores(metric, score_a, score_b, labels=None, a: str = "A", b: str = "B", what: str = "the score",
                   higher_is_better: bool = True, level: float = LEVEL, n_boot: int = 1000, seed: int = 0,
                   unit: str = "test example") -> Verdict:
    """The course's verdict on two scores of the same test examples (one trained model each, no seeds to pair).

    ``metric(scores, labels)`` gives one number for a set of examples (e.g. an anomaly score's
    PR-AUC); with ``labels=None``, ``metric(scores)`` (e.g. the mean negative log-likelihood of
    test points). The interval comes from a paired bootstrap over the examples: A and B are scored
    on the same resample, and with labels the positives and negatives are resampled separately,
    keeping their ratio. It measures how much the verdict depends on the test examples drawn, not
    on the training runs. The outcome and the sentence follow ``compare_runs``' rule.
    """
    sa, sb = np.asarray(score_a, dtype=float).ravel(), np.asarray(score_b, dtype=float).ravel()
    if len(sa) != len(sb) or (labels is not None and len(np.asarray(labels).ravel()) != len(sa)):
        raise ValueError(f"compare_scores needs one score of A and of B per example (and one label each, if given): got "
                         f"{len(sa)} and {len(sb)} scores" + ("" if labels is None else f", {len(np.asarray(labels).ravel())} labels"))
    if not (np.isfinite(sa).all() and np.isfinite(sb).all()):
        raise ValueError(f"compare_scores: the scores of {a!r} or {b!r} contain NaN or inf")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    if labels is None:
        groups = [np.arange(len(sa))]
        m = lambda s, idx: float(metric(s[idx]))  # noqa: E731
    else:
        y = np.asarray(labels).ravel().astype(bool)
        groups = [np.flatnonzero(y), np.flatnonzero(~y)]
        if min(len(g) for g in groups) == 0:
            raise ValueError(f"compare_scores needs positives and negatives among the labels, got {len(groups[0])} and {len(groups[1])}")
        m = lambda s, idx: float(metric(s[idx], y[idx]))  # noqa: E731
    if sum(len(g) for g in groups) < MIN_SEEDS:
        raise ValueError(f"compare_scores needs at least {MIN_SEEDS} examples, got {len(sa)}")
    everything = np.concatenate(groups)
    mean_a, mean_b = m(sa, everything), m(sb, everything)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        diffs[i] = m(sa, idx) - m(sb, idx)
    return _verdict(a, b, what, mean_a, mean_b, diffs, len(sa), True, higher_is_better, level, unit)

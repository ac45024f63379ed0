"""The course's one comparison rule on constructed data: a clear difference, none, a tie, too few seeds."""
import numpy as np
import pytest

from course_lib import verdicts
from course_lib.verdicts import compare_runs


def test_a_clear_paired_difference_names_the_better_set_up_either_way_round():
    a, b = [5, 6, 7, 5, 6, 7], [2, 3, 3, 2, 4, 3]
    v = compare_runs(a, b, "EBGAN-PT", "EBGAN", "modes covered")
    assert v.outcome == "a" and v.winner == "EBGAN-PT" and v.paired and v.n == 6
    assert v.low > 0 and v.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert v.sentence().startswith("EBGAN-PT does better than EBGAN in modes covered")
    assert compare_runs(b, a, "EBGAN", "EBGAN-PT").outcome == "b"
    # for an error, lower is better: the same numbers reverse the verdict
    assert compare_runs(a, b, "A", "B", "test error", higher_is_better=False).outcome == "b"


def test_a_constant_per_seed_gain_is_detected_although_the_seeds_vary_widely():
    """Pairing removes the seeds' spread: B = A + 1 on every seed, A ranging over 0..8."""
    a = [0, 8, 2, 6, 4]
    v = compare_runs([x + 1 for x in a], a)
    assert v.outcome == "a" and v.low == pytest.approx(1.0) and v.high == pytest.approx(1.0)
    unpaired = compare_runs([x + 1 for x in a], a, paired=False)
    assert unpaired.outcome == "none" and "No difference" in unpaired.sentence()


def test_no_difference_when_the_interval_holds_zero():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 8), rng.normal(0, 1, 8)
    v = compare_runs(a, b, "A", "B", "score")
    assert v.low <= 0 <= v.high and v.outcome == "none" and v.winner is None
    assert v.sentence().startswith("No difference in score detectable with 8 seeds between A and B")
    assert v.clause().startswith("no difference in score")        # inside a sentence: "By the rule: no difference ..."


def test_clause_keeps_names_as_given_and_sentence_capitalises_the_first_letter():
    v = compare_runs([5, 6, 7, 8, 9], [1, 2, 3, 4, 5], "feature matching", "the labels alone", "accuracy")
    assert v.clause().startswith("feature matching does better than the labels alone in accuracy")
    assert v.sentence().startswith("Feature matching does better")
    few = compare_runs([1, 2], [0, 1], "GAN", "EBGAN")
    assert few.clause().startswith("between GAN and EBGAN, too few seeds (2, fewer than 5)")
    assert few.sentence().startswith("Between GAN and EBGAN")


def test_a_tie_is_no_difference():
    v = compare_runs([3, 3, 4, 2, 5], [3, 3, 4, 2, 5])
    assert v.outcome == "none" and v.low == v.high == 0.0


def test_fewer_than_five_seeds_never_give_a_verdict():
    v = compare_runs([8, 8, 8], [0, 0, 0], "A", "B", "modes")
    assert v.outcome == "none" and v.n == 3 < verdicts.MIN_SEEDS
    assert "too few seeds (3" in v.sentence()


def test_unpaired_groups_of_different_sizes():
    v = compare_runs([10, 11, 12, 10, 11, 12, 11], [1, 2, 1, 2, 1], "A", "B")
    assert not v.paired and v.n == 5 and v.outcome == "a"


def test_the_verdict_is_deterministic_and_bad_input_is_refused():
    a, b = [1, 2, 3, 4, 5], [2, 2, 2, 2, 2]
    assert compare_runs(a, b) == compare_runs(a, b)
    with pytest.raises(ValueError, match="NaN"):
        compare_runs([1, float("nan")], [1, 2])
    with pytest.raises(ValueError, match="paired"):
        compare_runs([1, 2, 3], [1, 2], paired=True)
    with pytest.raises(ValueError, match="at least one run"):
        compare_runs([], [1])


def test_by_seed_orders_rows_and_refuses_mixed_set_ups():
    rows = [dict(seed=2, modes=5), dict(seed=0, modes=3), dict(seed=1, modes=4)]
    assert verdicts.by_seed(rows) == [3, 4, 5]
    with pytest.raises(ValueError, match="share a seed"):
        verdicts.by_seed(rows + [dict(seed=0, modes=1)])


def test_the_pairing_unit_is_named_in_the_sentence_and_seed_stays_the_default():
    a, b = [5, 6, 7, 5, 6, 7], [2, 3, 3, 2, 4, 3]
    assert compare_runs(a, b).unit == "seed" and "6 paired seeds" in compare_runs(a, b).sentence()
    v = compare_runs(a, b, "EBGAN", "GAN", "modes covered", unit="configuration")
    assert "6 paired configurations" in v.sentence()
    assert "detectable with 5 configurations" in compare_runs([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], unit="configuration").sentence()
    assert "too few configurations (3" in compare_runs([8, 8, 8], [0, 0, 0], unit="configuration").sentence()


def _grid_rows(modes_a, modes_b, target="ring8"):
    """Rows of a grid search of two methods: configuration i (its own lr_d) trains both from seed i."""
    rows = []
    for method, modes in (("ebgan", modes_a), ("gan", modes_b)):
        for i, m in enumerate(modes):
            rows.append(dict(method=method, target=target, seed=i, modes=m, hq=0.5, n_modes=8, diverged=False,
                             overrides=dict(lr_d=1e-4 * (i + 1))))
    return rows[::-1]  # any order: the pairing is by seed


def test_paired_verdict_pairs_runs_by_configuration_clear_difference_none_and_tie():
    from course_lib import sweep
    clear = sweep.paired_verdict(_grid_rows([6, 7, 5, 8, 6, 7, 6], [1, 2, 0, 3, 1, 2, 1]), "ring8", "ebgan", "gan")
    assert clear.outcome == "a" and clear.winner == "EBGAN" and clear.paired and clear.n == 7
    assert clear.unit == "configuration" and clear.sentence().startswith("EBGAN does better than GAN in modes covered")
    # a per-configuration gain of 1 is found although the configurations range from 0 to 7 modes
    shifted = sweep.paired_verdict(_grid_rows([1, 8, 3, 6, 4, 2], [0, 7, 2, 5, 3, 1]), "ring8", "ebgan", "gan")
    assert shifted.outcome == "a" and shifted.low == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    noise = sweep.paired_verdict(_grid_rows(rng.integers(0, 9, 10), rng.integers(0, 9, 10)), "ring8", "ebgan", "gan")
    assert noise.outcome == "none" and noise.low <= 0 <= noise.high
    tie = sweep.paired_verdict(_grid_rows([3, 0, 4, 2, 5], [3, 0, 4, 2, 5]), "ring8", "ebgan", "gan")
    assert tie.outcome == "none" and tie.low == tie.high == 0.0
    # the share of failed runs (<= 1 mode): lower is better, so the GAN's many failures make EBGAN the better one
    fails = sweep.paired_verdict(_grid_rows([6, 7, 5, 8, 6, 7, 6], [1, 2, 0, 3, 1, 0, 1]), "ring8", "ebgan", "gan",
                                 value=lambda r: r["modes"] <= 1, what="share of failed runs", higher_is_better=False)
    assert fails.outcome == "a" and fails.mean_a == 0 and fails.mean_b == pytest.approx(5 / 7)


def test_paired_verdict_refuses_runs_that_do_not_share_their_configurations():
    from course_lib import sweep
    rows = _grid_rows([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    rows[0] = dict(rows[0], overrides=dict(lr_d=0.5))
    with pytest.raises(ValueError, match="different configurations"):
        sweep.paired_verdict(rows, "ring8", "ebgan", "gan")
    with pytest.raises(ValueError, match="same configurations"):
        sweep.paired_verdict(_grid_rows([1, 2, 3, 4, 5], [1, 2, 3, 4]), "ring8", "ebgan", "gan")
    with pytest.raises(ValueError, match="no runs"):
        sweep.paired_verdict(_grid_rows([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]), "grid25", "ebgan", "gan")


def test_reachable_good_draws_the_line_from_the_best_run_and_robustness_counts_failures():
    from course_lib import sweep
    rows = _grid_rows([5, 1, 0, 3, 2], [0, 0, 1, 4, 5])
    rows = [dict(r, hq=0.8 if (r["method"], r["seed"]) == ("gan", 4) else 0.3) for r in rows]
    good = sweep.reachable_good(rows)
    assert good == {"ring8": (4, pytest.approx(0.4))}  # best run: 5 modes at 80% -> ceil(3.75) = 4 modes, 40%
    by = {s["method"]: s for s in sweep.robustness(rows, good)}
    assert (by["gan"]["good"], by["ebgan"]["good"]) == (1, 0)  # EBGAN's 5-mode run has only 30% high quality
    assert (by["gan"]["failed"], by["gan"]["zero"], by["ebgan"]["failed"], by["ebgan"]["zero"]) == (3, 2, 2, 1)
    assert by["gan"]["failed_share"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="modes_frac"):
        sweep.reachable_good(rows, modes_frac=0)


# ---------------------------------------------------------------- compare_scores: one model each, the examples resampled
def _auc(s, y):
    from course_lib.evaluation import roc_auc
    return roc_auc(s, y)


def test_compare_scores_finds_a_clear_difference_and_names_the_winner():
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.2
    good, noise = y + rng.normal(0, 0.5, 2000), rng.normal(0, 1, 2000)
    v = verdicts.compare_scores(_auc, good, noise, y, "the energy", "noise", "ROC-AUC", n_boot=300)
    assert v.outcome == "a" and v.winner == "the energy" and v.low > 0
    assert v.mean_a == pytest.approx(_auc(good, y)) and v.mean_b == pytest.approx(_auc(noise, y))
    assert "the energy does better than noise in ROC-AUC" in v.clause() and "2000 paired test examples" in v.sentence()
    flipped = verdicts.compare_scores(_auc, noise, good, y, "noise", "the energy", "ROC-AUC", n_boot=300)
    assert flipped.outcome == "b" and flipped.winner == "the energy"


def test_compare_scores_calls_the_same_score_a_tie_and_handles_lower_is_better_without_labels():
    rng = np.random.default_rng(1)
    y = rng.random(1000) < 0.3
    s = y + rng.normal(0, 1, 1000)
    assert verdicts.compare_scores(_auc, s, s.copy(), y, "A", "B", "ROC-AUC", n_boot=200).outcome == "none"
    nll_a, nll_b = rng.normal(1.0, 0.3, 500), rng.normal(1.5, 0.3, 500)  # per-point NLL: lower is better
    v = verdicts.compare_scores(np.mean, nll_a, nll_b, None, "MCMC", "MEG", "NLL", higher_is_better=False, n_boot=300,
                                unit="test point")
    assert v.outcome == "a" and v.winner == "MCMC" and v.diff == pytest.approx(nll_a.mean() - nll_b.mean())


def test_compare_scores_rejects_bad_input_with_a_clear_message():
    with pytest.raises(ValueError, match="one score of A and of B per example"):
        verdicts.compare_scores(np.mean, [1.0, 2.0], [1.0], None)
    with pytest.raises(ValueError, match="positives and negatives"):
        verdicts.compare_scores(_auc, np.arange(10.0), np.arange(10.0), np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        verdicts.compare_scores(np.mean, [1.0, float("nan")] * 5, [1.0] * 10, None)

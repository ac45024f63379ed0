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

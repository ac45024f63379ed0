"""Structured perceptron on HMM sequence labelling: features, Viterbi = brute force, margins, convergence."""
import itertools

import numpy as np
import pytest
import torch

from course_lib import structured as st

K, V = 3, 5


def _w(seed=0):
    return np.random.default_rng(seed).normal(size=st.n_features(K, V))


def test_score_is_the_sum_of_start_transition_and_emission_weights():
    w = _w()
    x, y = np.array([4, 0, 2]), np.array([1, 1, 2])
    ws, wt, we = w[:K], w[K:K + K * K].reshape(K, K), w[K + K * K:].reshape(K, V)
    by_hand = ws[1] + wt[1, 1] + wt[1, 2] + we[1, 4] + we[1, 0] + we[2, 2]
    assert st.score(w, x, y, K, V) == pytest.approx(by_hand, abs=1e-12)
    assert st.features(x, y, K, V).sum() == 1 + 2 + 3      # one start, T-1 transitions, T emissions


@pytest.mark.parametrize("seed", range(6))
def test_viterbi_argmax_matches_brute_force_on_short_sequences(seed):
    rng = np.random.default_rng(seed)
    w = _w(seed)
    X = rng.integers(0, V, size=(4, 6))
    Y = st.viterbi(w, X, K, V)
    for x, y in zip(X, Y):
        y_bf = st.brute_force_argmax(w, x, K, V)
        assert st.score(w, x, y, K, V) == pytest.approx(st.score(w, x, y_bf, K, V), abs=1e-10)
        assert np.array_equal(y, y_bf)


def test_margin_matches_best_minus_second_best_by_enumeration():
    w = _w(3)
    x = np.random.default_rng(3).integers(0, V, size=5)
    scores = sorted(st.score(w, x, np.array(y), K, V) for y in itertools.product(range(K), repeat=5))
    y_star = st.viterbi(w, x[None], K, V)
    assert st.margin(w, x[None], y_star, K, V)[0] == pytest.approx(scores[-1] - scores[-2], abs=1e-10)
    # for any other labelling the margin is negative
    y_other = (y_star + 1) % K
    assert st.margin(w, x[None], y_other, K, V)[0] < 0


def test_max_marginals_peak_at_the_viterbi_score():
    w = _w(4)
    X = np.random.default_rng(4).integers(0, V, size=(3, 7))
    m = st.max_marginals(w, X, K, V)
    best = np.array([st.score(w, x, y, K, V) for x, y in zip(X, st.viterbi(w, X, K, V))])
    np.testing.assert_allclose(m.max(2), best[:, None].repeat(7, 1), rtol=0, atol=1e-10)


def test_sampled_hmm_frequencies_match_its_transition_matrix():
    hmm = st.random_hmm(K, V, stay=0.8, seed=0)
    X, Y = st.sample_hmm(hmm, 2000, 20, torch.Generator().manual_seed(0))
    counts = np.zeros((K, K))
    np.add.at(counts, (Y[:, :-1].numpy().ravel(), Y[:, 1:].numpy().ravel()), 1)
    np.testing.assert_allclose(counts / counts.sum(1, keepdims=True), hmm.trans.numpy(), rtol=0, atol=0.02)


def test_perceptron_converges_to_zero_mistakes_on_separable_data():
    hmm = st.random_hmm(K, V, stay=0.8, seed=0)
    g = torch.Generator().manual_seed(0)
    X, Y = st.separable_hmm_data(hmm, 100, 8, g, min_margin=1.0)
    assert (st.margin(hmm.log_weights(), X.numpy(), Y.numpy(), K, V) >= 1.0).all()
    res = st.structured_perceptron(X, Y, K, V, epochs=50, negatives="viterbi", seed=0)
    assert res.converged_epoch is not None and res.mistakes[-1] == 0
    assert st.token_accuracy(st.viterbi(res.w, X.numpy(), K, V), Y) == 1.0


def test_perceptron_update_adds_phi_of_label_and_subtracts_phi_of_prediction():
    # one example, one epoch: from w = 0 the arg max is all-zeros labels (ties broken to state 0)
    x, y = np.array([[1, 2, 3]]), np.array([[2, 2, 1]])
    res = st.structured_perceptron(x, y, K, V, epochs=1, negatives="viterbi")
    y_pred = st.viterbi(np.zeros(st.n_features(K, V)), x, K, V)[0]
    expected = st.features(x[0], y[0], K, V) - st.features(x[0], y_pred, K, V)
    np.testing.assert_array_equal(res.w, expected)


def test_update_happens_only_when_the_negative_scores_at_least_as_high_as_the_label():
    # one epoch with random negatives, replayed by hand with the same generator draws: w changes only
    # when y~ != y^ and F(x, y~) >= F(x, y^); negatives that already score lower are skipped
    hmm = st.random_hmm(K, V, stay=0.8, seed=0)
    X, Y = st.sample_hmm(hmm, 30, 6, torch.Generator().manual_seed(3))
    X, Y = X.numpy(), Y.numpy()
    res = st.structured_perceptron(X, Y, K, V, epochs=1, negatives="random", seed=4)
    g = torch.Generator().manual_seed(4)
    order = torch.randperm(len(X), generator=g).numpy()
    Y_rand = torch.randint(K, X.shape, generator=g).numpy()
    w, n_upd, n_skipped = np.zeros(st.n_features(K, V)), 0, 0
    for i in order:
        if np.array_equal(Y_rand[i], Y[i]):
            continue
        if st.score(w, X[i], Y_rand[i], K, V) >= st.score(w, X[i], Y[i], K, V):
            w = w + st.features(X[i], Y[i], K, V) - st.features(X[i], Y_rand[i], K, V)
            n_upd += 1
        else:
            n_skipped += 1
    assert n_skipped > 0 and n_upd > 0        # both branches of the condition are exercised
    assert res.updates == [n_upd]
    np.testing.assert_array_equal(res.w, w)


def test_random_negatives_stop_updating_while_the_argmax_is_still_wrong():
    hmm = st.random_hmm(K, V, stay=0.8, seed=0)
    X, Y = st.separable_hmm_data(hmm, 100, 10, torch.Generator().manual_seed(1), min_margin=1.0)
    res = st.structured_perceptron(X, Y, K, V, epochs=10, negatives="random", seed=0)
    assert res.updates[-1] == 0 and res.mistakes[-1] > 10


def test_bad_inputs_raise_value_error_naming_the_options():
    with pytest.raises(ValueError, match="viterbi"):
        st.structured_perceptron(np.zeros((2, 3), int), np.zeros((2, 3), int), K, V, negatives="beam")
    with pytest.raises(ValueError, match="K \\+ K\\^2"):
        st.viterbi(np.zeros(5), np.zeros((1, 3), int), K, V)
    with pytest.raises(ValueError, match="too many"):
        st.brute_force_argmax(_w(), np.zeros(30, int), K, V)


def test_random_hmm_is_seeded_normalised_and_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a, b = st.random_hmm(K, V, seed=7), st.random_hmm(K, V, seed=7)
    assert torch.rand(1) == before
    assert torch.equal(a.emit, b.emit) and torch.equal(a.trans, b.trans)
    for m in (a.start, a.trans, a.emit):
        torch.testing.assert_close(m.sum(-1), torch.ones_like(m.sum(-1)), rtol=0, atol=1e-12)

"""Structured prediction with an evaluation function F(x, y) = w . phi(x, y): sequence labelling on
data from a hidden Markov model, exact arg max by Viterbi, and the structured perceptron
(Collins 2002, "Discriminative training methods for hidden Markov models", EMNLP).

Shapes: a data set is ``X`` (N, T) observed symbols in 0..V-1 and ``Y`` (N, T) labels (hidden
states) in 0..K-1, int64 tensors. The weight vector ``w`` (numpy, float64) is laid out as
``[start (K), transition (K*K), emission (K*V)]`` so that

    F(x, y) = w_start[y_1] + sum_t w_trans[y_{t-1}, y_t] + sum_t w_emit[y_t, x_t],

which is exactly w . phi(x, y) with phi counting the first label, the label bigrams and the
(label, symbol) pairs. The inner loops run in numpy: the perceptron is sequential and tiny.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import torch

NEGATIVES = ("viterbi", "greedy", "random")


@dataclass
class HMM:
    """A hidden Markov model: p(y_1) = start, p(y_t | y_{t-1}) = trans, p(x_t | y_t) = emit."""

    start: torch.Tensor  # (K,) probabilities
    trans: torch.Tensor  # (K, K) rows sum to 1
    emit: torch.Tensor   # (K, V) rows sum to 1

    @property
    def K(self) -> int:
        return self.trans.shape[0]

    @property
    def V(self) -> int:
        return self.emit.shape[1]

    def log_weights(self) -> np.ndarray:
        """w* = [log start, log trans, log emit]: with it, arg max_y w* . phi(x, y) is the MAP state sequence."""
        return np.concatenate([self.start.log().numpy().ravel(), self.trans.log().numpy().ravel(),
                               self.emit.log().numpy().ravel()]).astype(np.float64)


def random_hmm(K: int = 3, V: int = 6, stay: float = 0.7, concentration: float = 0.5, seed: int = 0) -> HMM:
    """An HMM with "sticky" transitions (p(stay) = ``stay``) and Dirichlet(``concentration``) emission rows."""
    if not (K >= 2 and V >= 2):
        raise ValueError(f"need K >= 2 states and V >= 2 symbols, got K={K}, V={V}")
    if not 0.0 < stay < 1.0:
        raise ValueError(f"stay must be in (0, 1), got {stay}")
    g = torch.Generator().manual_seed(seed)
    off = torch.rand(K, K, generator=g, dtype=torch.float64) + 0.1
    off.fill_diagonal_(0.0)
    trans = (1 - stay) * off / off.sum(1, keepdim=True) + stay * torch.eye(K, dtype=torch.float64)
    # torch's Gamma/Dirichlet take no generator: draw the emission rows from a local, seeded numpy generator
    rng = np.random.default_rng(int(torch.randint(2**31 - 1, (1,), generator=g)))
    emit = torch.from_numpy(rng.dirichlet(np.full(V, concentration), size=K)) + 1e-3
    emit = emit / emit.sum(1, keepdim=True)
    start = torch.full((K,), 1.0 / K, dtype=torch.float64)
    return HMM(start, trans, emit)


def sample_hmm(hmm: HMM, n: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences of ``length`` steps: y_1 ~ start, y_t ~ trans[y_{t-1}], x_t ~ emit[y_t]; returns (X, Y), each (n, T)."""
    if n < 1 or length < 1:
        raise ValueError(f"n and length must be >= 1, got n={n}, length={length}")
    Y = torch.empty(n, length, dtype=torch.int64)
    Y[:, 0] = torch.multinomial(hmm.start.expand(n, -1), 1, generator=generator)[:, 0]
    for t in range(1, length):
        Y[:, t] = torch.multinomial(hmm.trans[Y[:, t - 1]], 1, generator=generator)[:, 0]
    X = torch.multinomial(hmm.emit[Y.reshape(-1)], 1, generator=generator).reshape(n, length)
    return X, Y


def n_features(K: int, V: int) -> int:
    """dim phi = K + K^2 + K V (start, transition and emission indicators)."""
    return K + K * K + K * V


def _split(w: np.ndarray, K: int, V: int):
    if w.shape != (n_features(K, V),):
        raise ValueError(f"w must have shape ({n_features(K, V)},) = K + K^2 + K*V for K={K}, V={V}; got {w.shape}")
    return w[:K], w[K:K + K * K].reshape(K, K), w[K + K * K:].reshape(K, V)


def features(x, y, K: int, V: int) -> np.ndarray:
    """phi(x, y) = [onehot(y_1), sum_t onehot(y_{t-1}, y_t), sum_t onehot(y_t, x_t)] (Collins 2002, section 2)."""
    x, y = np.asarray(x), np.asarray(y)
    phi = np.zeros(n_features(K, V))
    phi[y[0]] += 1
    np.add.at(phi, K + y[:-1] * K + y[1:], 1)
    np.add.at(phi, K + K * K + y * V + x, 1)
    return phi


def score(w: np.ndarray, x, y, K: int, V: int) -> float:
    """F(x, y) = w . phi(x, y)."""
    return float(w @ features(x, y, K, V))


def viterbi(w: np.ndarray, X, K: int, V: int) -> np.ndarray:
    """arg max_y F(x, y) for each row of X (N, T) by dynamic programming, O(N T K^2) (Viterbi 1967)."""
    ws, wt, we = _split(np.asarray(w, dtype=np.float64), K, V)
    X = np.atleast_2d(np.asarray(X))
    N, T = X.shape
    delta = ws[None, :] + we[:, X[:, 0]].T                 # (N, K) best score ending in state k
    back = np.zeros((N, T, K), dtype=np.int64)
    for t in range(1, T):
        cand = delta[:, :, None] + wt[None, :, :]          # (N, K_prev, K)
        back[:, t] = cand.argmax(1)
        delta = cand.max(1) + we[:, X[:, t]].T
    Y = np.zeros((N, T), dtype=np.int64)
    Y[:, -1] = delta.argmax(1)
    rows = np.arange(N)
    for t in range(T - 1, 0, -1):
        Y[:, t - 1] = back[rows, t, Y[:, t]]
    return Y


def max_marginals(w: np.ndarray, X, K: int, V: int) -> np.ndarray:
    """m[n, t, k] = max over y with y_t = k of F(x_n, y), by forward and backward max-product passes, (N, T, K)."""
    ws, wt, we = _split(np.asarray(w, dtype=np.float64), K, V)
    X = np.atleast_2d(np.asarray(X))
    N, T = X.shape
    em = we[:, X].transpose(1, 2, 0)                        # (N, T, K) emission scores w_emit[k, x_t]
    alpha = np.zeros((N, T, K))                             # best score of y_1..y_t with y_t = k
    beta = np.zeros((N, T, K))                              # best score of y_{t+1}..y_T given y_t = k
    alpha[:, 0] = ws[None, :] + em[:, 0]
    for t in range(1, T):
        alpha[:, t] = (alpha[:, t - 1, :, None] + wt[None]).max(1) + em[:, t]
    for t in range(T - 2, -1, -1):
        beta[:, t] = (wt[None] + (em[:, t + 1] + beta[:, t + 1])[:, None, :]).max(2)
    return alpha + beta


def margin(w: np.ndarray, X, Y, K: int, V: int) -> np.ndarray:
    """F(x, y) - max_{y' != y} F(x, y') per sequence, (N,): > 0 exactly when y is the unique arg max."""
    X, Y = np.atleast_2d(np.asarray(X)), np.atleast_2d(np.asarray(Y))
    m = max_marginals(w, X, K, V)                          # (N, T, K)
    f = np.array([score(w, x, y, K, V) for x, y in zip(X, Y)])
    onehot = np.eye(K, dtype=bool)[Y]                       # (N, T, K)
    runner_up = np.where(onehot, -np.inf, m).max((1, 2))    # best sequence that differs from y somewhere
    return f - runner_up


def separable_hmm_data(hmm: HMM, n: int, length: int, generator: torch.Generator, min_margin: float = 1.0,
                       max_tries: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ HMM, y = its MAP state sequence (Viterbi with w* = log-probabilities), kept only where the MAP
    wins by >= ``min_margin`` nats: a data set that w* separates with a margin, so the perceptron converges."""
    ws = hmm.log_weights()
    Xs, Ys, have = [], [], 0
    for _ in range(max_tries):
        X, _ = sample_hmm(hmm, 2 * n, length, generator)
        Y = viterbi(ws, X.numpy(), hmm.K, hmm.V)
        keep = margin(ws, X.numpy(), Y, hmm.K, hmm.V) >= min_margin
        Xs.append(X[torch.from_numpy(keep)])
        Ys.append(torch.from_numpy(Y[keep]))
        have += int(keep.sum())
        if have >= n:
            return torch.cat(Xs)[:n], torch.cat(Ys)[:n]
    raise ValueError(f"only {have} of {n} sequences have a MAP margin >= {min_margin}; lower min_margin or length")


def greedy_decode(w: np.ndarray, X, K: int, V: int) -> np.ndarray:
    """Left-to-right search: y_t = arg max_k [w_trans[y_{t-1}, k] + w_emit[k, x_t]] (fast, not the arg max)."""
    ws, wt, we = _split(np.asarray(w, dtype=np.float64), K, V)
    X = np.atleast_2d(np.asarray(X))
    Y = np.zeros(X.shape, dtype=np.int64)
    Y[:, 0] = (ws[None, :] + we[:, X[:, 0]].T).argmax(1)
    for t in range(1, X.shape[1]):
        Y[:, t] = (wt[Y[:, t - 1]] + we[:, X[:, t]].T).argmax(1)
    return Y


def brute_force_argmax(w: np.ndarray, x, K: int, V: int) -> np.ndarray:
    """arg max over all K^T label sequences of F(x, y), by enumeration (for checking Viterbi on short x)."""
    x = np.asarray(x)
    if K ** len(x) > 2_000_000:
        raise ValueError(f"K^T = {K}^{len(x)} sequences is too many to enumerate; use a shorter x")
    ys = np.array(list(itertools.product(range(K), repeat=len(x))))  # (K^T, T)
    ws, wt, we = _split(np.asarray(w, dtype=np.float64), K, V)
    s = ws[ys[:, 0]] + wt[ys[:, :-1], ys[:, 1:]].sum(1) + we[ys, x[None, :]].sum(1)
    return ys[s.argmax()]


def token_accuracy(Y_pred, Y) -> float:
    """Fraction of positions where the predicted label equals the true one."""
    return float((np.asarray(Y_pred) == np.asarray(Y)).mean())


@dataclass
class PerceptronResult:
    """The learned weights and what happened per epoch."""

    w: np.ndarray                                          # final weights
    w_avg: np.ndarray                                      # averaged weights (Collins 2002, section 2.5)
    mistakes: list = field(default_factory=list)           # per epoch: examples whose exact arg max, with w at the end of the epoch, is wrong
    updates: list = field(default_factory=list)            # per epoch: updates made during the epoch (w changes as it goes)
    heldout_accuracy: list = field(default_factory=list)   # per epoch: token accuracy of exact decoding with w_avg
    converged_epoch: int | None = None                     # first epoch with zero mistakes (None if never)


def structured_perceptron(X, Y, K: int, V: int, epochs: int = 20, negatives: str = "viterbi", seed: int = 0,
                          X_heldout=None, Y_heldout=None) -> PerceptronResult:
    """Structured perceptron: y~ = search_y F(x, y); if F(x, y~) >= F(x, y^) and y~ != y^, w <- w + phi(x, y^) - phi(x, y~).

    ``negatives`` picks how y~ is found: "viterbi" (the exact arg max, Collins 2002), "greedy"
    (left-to-right search) or "random" (a uniformly drawn label sequence). Mistakes are always
    counted with the exact arg max, held-out accuracy with Viterbi decoding of the averaged w.
    Stops after the first epoch without mistakes.
    """
    if negatives not in NEGATIVES:
        raise ValueError(f"negatives must be one of {NEGATIVES}, got {negatives!r}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    X, Y = np.asarray(X), np.asarray(Y)
    if X.shape != Y.shape or X.ndim != 2:
        raise ValueError(f"X and Y must both be (N, T) with the same shape, got {X.shape} and {Y.shape}")
    g = torch.Generator().manual_seed(seed)
    w = np.zeros(n_features(K, V))
    w_sum, n_seen = np.zeros_like(w), 0
    res = PerceptronResult(w, w.copy())
    T = X.shape[1]
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(X), generator=g).numpy()
        if negatives == "random":
            Y_rand = torch.randint(K, (len(X), T), generator=g).numpy()
        n_upd = 0
        for i in order:
            x, y_hat = X[i], Y[i]
            if negatives == "viterbi":
                y_neg = viterbi(w, x[None], K, V)[0]
            elif negatives == "greedy":
                y_neg = greedy_decode(w, x[None], K, V)[0]
            else:
                y_neg = Y_rand[i]
            phi_pos, phi_neg = features(x, y_hat, K, V), features(x, y_neg, K, V)
            if not np.array_equal(y_neg, y_hat) and w @ phi_neg >= w @ phi_pos:
                w = w + phi_pos - phi_neg   # raise F on the label, lower it on the negative
                n_upd += 1
            w_sum += w
            n_seen += 1
        n_mist = int((viterbi(w, X, K, V) != Y).any(1).sum())
        res.w, res.w_avg = w.copy(), w_sum / n_seen
        res.mistakes.append(n_mist)
        res.updates.append(n_upd)
        if X_heldout is not None:
            res.heldout_accuracy.append(token_accuracy(viterbi(res.w_avg, X_heldout, K, V), Y_heldout))
        if n_mist == 0 and res.converged_epoch is None:
            res.converged_epoch = epoch
            break
    return res

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 01 · Structured perceptron: learning an evaluation function
#
# **Question.** How can a scoring function be learned when the hard part is finding the wrong
# answers it must score low?
#
# The whole course is about one idea: learn a function $F$ that gives a **high score to good objects
# and a low score to everything else**, then produce objects by finding high scores. Energy-based
# GANs write $E = -F$ and call it an energy. Before networks and images, we meet the idea where
# everything is exact: the structured perceptron {cite:p}`collins2002discriminative`.
#
# * An input $x$ (here a sequence of symbols) and a structured output $y$ (a label for every
#   position). A feature map $\phi(x, y)$ and a linear evaluation function $F(x, y) = w\cdot\phi(x, y)$.
# * **Inference**: $\tilde y = \arg\max_{y} F(x, y)$, over exponentially many $y$.
# * **Learning**: for each training pair $(x, \hat y)$, find $\tilde y$; if $\tilde y \ne \hat y$ **and**
#   $F(x, \tilde y) \ge F(x, \hat y)$ (the wrong answer scores at least as well as the right one),
#   $w \leftarrow w + \phi(x, \hat y) - \phi(x, \tilde y)$; otherwise $w$ stays. This raises $F$ on the
#   correct answer and lowers it on the wrong answer the model currently likes best. When $\tilde y$
#   is the exact arg max the second condition holds whenever $\tilde y \ne \hat y$; it matters in
#   section 5, where $\tilde y$ comes from a cheaper search and may already score below $\hat y$.
#
# We will see that the update is easy and the **arg max is the hard part**: learning only works
# if we can find the negative example $\tilde y$ that the model wrongly prefers. That is the role a
# GAN's generator will take over.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** Open with the question on the slide and ask the room where the wrong answers come from in
# ordinary classification (the other labels) and in sequence labelling (exponentially many sequences). Everything
# later in the course is a way of finding those wrong answers: Viterbi here, MCMC in 06, a generator in 07-10. The
# perceptron runs in seconds, so run it live and let the class watch the mistakes fall.

# %% slideshow={"slide_type": "subslide"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from course_lib import is_test, setup_notebook
from course_lib.exercises import check
from course_lib import structured as st

t_notebook = time.perf_counter()
S, device = setup_notebook(
    seed=0,
    test=dict(K=3, V=6, length=10, n_train=150, n_heldout=500, epochs=30, min_margin=1.0, bf_lengths=(4, 6, 8),
              sizes=(3, 10, 40, 150), hidden_epochs=5),
    real=dict(K=3, V=6, length=10, n_train=400, n_heldout=4000, epochs=60, min_margin=1.0, bf_lengths=(4, 6, 8, 10, 12),
              sizes=(3, 10, 30, 100, 400), hidden_epochs=10),
)
print(f"(a linear model in numpy: the device {device} is not used)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The task: labelling sequences from a hidden Markov model
#
# A hidden Markov model with $K$ hidden states and $V$ symbols: a state sequence $y_1\dots y_T$
# follows a Markov chain that tends to stay in its state, and each state emits a symbol $x_t$ from
# its own distribution. The task is to read the symbols and label every position with its state.
#
# The features count what a labelling claims: which state starts, which state follows which
# (a $K\times K$ table) and which state emits which symbol (a $K\times V$ table). So
#
# $$F(x, y) = w_{start}[y_1] + \sum_{t\ge 2} w_{trans}[y_{t-1}, y_t] + \sum_t w_{emit}[y_t, x_t].$$
#
# If $w$ holds the HMM's log-probabilities, $F(x, y) = \log p(x, y)$ and the arg max is the most
# probable state sequence. The perceptron must find a good $w$ from labelled examples alone.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
hmm = st.random_hmm(S.K, S.V, stay=0.8, seed=0)
np.set_printoptions(precision=2, suppress=True)
print("transition matrix p(y_t | y_{t-1}):\n", hmm.trans.numpy())
print("emission matrix p(x_t | y_t):\n", hmm.emit.numpy())
print(f"dim phi = K + K^2 + K V = {st.n_features(S.K, S.V)}")
print(f"label sequences per input of length {S.length}: K^T = {S.K ** S.length:,}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Exact arg max: Viterbi versus brute force
#
# $F$ is a sum of terms that each involve at most two neighbouring labels, so the best labelling
# can be found by dynamic programming {cite:p}`viterbi1967error`: keep, for each position $t$ and state $k$,
# the best score of a prefix ending in $k$. That costs $O(T K^2)$ instead of the $K^T$ of trying
# every labelling. We check that both give the same answer and time them.

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(0)
w_rand = torch.randn(st.n_features(S.K, S.V), generator=g, dtype=torch.float64).numpy()
t_bf, t_vit = [], []
for T in S.bf_lengths:
    x_short, _ = st.sample_hmm(hmm, 3, T, g)
    t0 = time.perf_counter()
    y_bf = [st.brute_force_argmax(w_rand, x, S.K, S.V) for x in x_short.numpy()]
    t_bf.append((time.perf_counter() - t0) / 3)
    t0 = time.perf_counter()
    y_vit = st.viterbi(w_rand, x_short.numpy(), S.K, S.V)
    t_vit.append((time.perf_counter() - t0) / 3)
    assert all(np.array_equal(a, b) for a, b in zip(y_bf, y_vit)), f"Viterbi differs from brute force at T={T}"
print("Viterbi agrees with brute-force enumeration for lengths", list(S.bf_lengths))

fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.semilogy(S.bf_lengths, t_bf, "o-", label=r"brute force: all $K^T$ labellings")
ax.semilogy(S.bf_lengths, t_vit, "s-", label=r"Viterbi: $O(T K^2)$")
ax.set_xlabel("sequence length T"), ax.set_ylabel("seconds per sequence")
ax.set_title(f"Finding the arg max, K = {S.K} states"), ax.legend()
plt.show()
T_a, T_b = S.bf_lengths[-2], S.bf_lengths[-1]
bf_factor = (t_bf[-1] / t_bf[-2]) ** (1 / (T_b - T_a))    # measured growth per extra position
print(f"brute force: x{bf_factor:.1f} per extra position from T = {T_a} to {T_b} (K = {S.K}); "
      f"at T = {T_b}: brute force {t_bf[-1] * 1e3:.1f} ms, Viterbi {t_vit[-1] * 1e3:.2f} ms per sequence")
if not is_test():
    assert bf_factor > 0.5 * S.K and t_bf[-1] > 10 * t_vit[-1], (bf_factor, t_bf, t_vit)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Brute force's time multiplies by about $K$ with every extra position (the measured factor between
# the two longest lengths is printed above); Viterbi's grows only linearly in $T$ and stays far
# below. Exact search is possible here only because $F$ decomposes over neighbouring labels.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1.1 (implement): Viterbi decoding
#
# Write `viterbi(emit, trans)`: `emit` is a (T, K) tensor of scores `emit[t, k]` for label k at position t, `trans`
# a (K, K) tensor of scores `trans[j, k]` for label j followed by label k. Return the (T,) tensor of labels with the
# highest total score $\sum_t \text{emit}[t, y_t] + \sum_{t>0} \text{trans}[y_{t-1}, y_t]$, in $O(TK^2)$ time:
# keep $\delta_t(k)$, the best score of a sequence ending in label k at t, and a back-pointer for each.
# The check compares your answer with brute force over all $K^T$ sequences.

# %% slideshow={"slide_type": "subslide"}
def viterbi(emit, trans):
    ### BEGIN SOLUTION
    T, K = emit.shape
    delta, back = emit[0].clone(), torch.zeros(T, K, dtype=torch.long)
    for t in range(1, T):
        scores = delta[:, None] + trans          # (K, K): from label j to label k
        delta, back[t] = scores.max(0).values + emit[t], scores.argmax(0)
    path = [int(delta.argmax())]
    for t in range(T - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return torch.tensor(path[::-1])
    ### END SOLUTION


check("1.1", viterbi)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Separable data: mistakes per epoch fall to zero
#
# The perceptron's guarantee (theorem 1 of {cite:t}`collins2002discriminative`, after
# {cite:t}`rosenblatt1958perceptron`): if some $w^*$ with $\|w^*\| = 1$ scores every correct $\hat y$
# above every other $y$ by a margin $\delta$, the number of updates is at most $R^2/\delta^2$, with
# $R$ bounding $\|\phi(x, \hat y) - \phi(x, y)\|$. To build such data we label sampled symbol
# sequences with the HMM's own most probable state sequence (then $w^*$ = the log-probabilities
# separates them) and keep only sequences where that labelling wins by at least `min_margin` nats over
# the runner-up (`st.margin`, computed by max-marginals).

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(1)
X_sep, Y_sep = st.separable_hmm_data(hmm, S.n_train, S.length, g, min_margin=S.min_margin)
X_sep_ho, Y_sep_ho = st.separable_hmm_data(hmm, S.n_heldout, S.length, g, min_margin=S.min_margin)
sep = st.structured_perceptron(X_sep, Y_sep, S.K, S.V, epochs=S.epochs, negatives="viterbi", seed=0,
                               X_heldout=X_sep_ho, Y_heldout=Y_sep_ho)
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(range(1, len(sep.mistakes) + 1), sep.mistakes, "o-", label="training sequences whose arg max is wrong")
ax.set_xlabel("epoch"), ax.set_ylabel("mistakes (of %d sequences)" % S.n_train)
ax.set_title("Structured perceptron on separable data"), ax.legend()
plt.show()
print(f"mistakes per epoch: {sep.mistakes}")
print(f"converged after epoch {sep.converged_epoch}; held-out token accuracy "
      f"(averaged w, {S.n_heldout} fresh sequences): {sep.heldout_accuracy[-1]:.3f}")
assert sep.converged_epoch is not None and sep.mistakes[-1] == 0
rises = sum(b > a for a, b in zip(sep.mistakes, sep.mistakes[1:]))   # epochs where the mistakes went up
display(Markdown(
    (f"The mistakes do not fall smoothly (they went up in {rises} of the {len(sep.mistakes) - 1} epoch-to-epoch steps: "
     "an update that fixes one sequence can break another)" if rises else "Here the mistakes fell at every epoch")
    + f", but they reach zero after epoch {sep.converged_epoch}: the perceptron has found a $w$ that ranks every "
    "training labelling first."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1.2 (implement): the perceptron's update
#
# Write `update(w, phi_gold, phi_pred, lr)`: one structured-perceptron step from the weights `w` given the
# feature vectors of the gold labelling and of the current prediction (all tensors of the same shape).

# %% slideshow={"slide_type": "subslide"}
def update(w, phi_gold, phi_pred, lr):
    ### BEGIN SOLUTION
    return w + lr * (phi_gold - phi_pred)
    ### END SOLUTION


check("1.2", update)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The real task: recover the hidden states
#
# Now label with the **true** hidden states. These data are not separable: the same symbols can come
# from different state sequences, so no $w$ is right every time and the training mistakes cannot
# reach zero (the cell prints how many remain). The fair yardstick is the HMM itself: Viterbi with
# the true log-probabilities, i.e. the most probable state sequence under the model that generated
# the data. The perceptron knows nothing about that model but sees labelled sequences. We report the
# averaged weights (section 2.5 of {cite:t}`collins2002discriminative`): on non-separable data the
# last $w$ depends most on the last few updates, the average of all the $w$ along the way much less
# (the cell prints both accuracies). And we ask how many labelled sequences it needs.

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(2)
X_tr, Y_tr = st.sample_hmm(hmm, S.n_train, S.length, g)
X_ho, Y_ho = st.sample_hmm(hmm, S.n_heldout, S.length, g)
acc_hmm = st.token_accuracy(st.viterbi(hmm.log_weights(), X_ho.numpy(), S.K, S.V), Y_ho)
curve = {}
for n in S.sizes:
    r = st.structured_perceptron(X_tr[:n], Y_tr[:n], S.K, S.V, epochs=S.hidden_epochs, negatives="viterbi", seed=0)
    curve[n] = st.token_accuracy(st.viterbi(r.w_avg, X_ho.numpy(), S.K, S.V), Y_ho)
acc_per = curve[S.sizes[-1]]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.semilogx(list(curve), list(curve.values()), "o-", label=f"perceptron (averaged w, {S.hidden_epochs} epochs)")
ax.axhline(acc_hmm, color="k", ls="--", label="Viterbi with the true HMM parameters")
ax.axhline(1 / S.K, color="gray", ls=":", label="chance")
ax.set_xlabel("labelled training sequences"), ax.set_ylabel(f"held-out token accuracy ({S.n_heldout} sequences)")
ax.set_title("Recovering hidden states from labelled examples"), ax.legend()
plt.show()
acc_last = st.token_accuracy(st.viterbi(r.w, X_ho.numpy(), S.K, S.V), Y_ho)
print("held-out token accuracy by training-set size:", {n: round(a, 3) for n, a in curve.items()})
print(f"with {S.sizes[-1]} sequences: perceptron {acc_per:.3f} (last w instead of the average: {acc_last:.3f}), "
      f"true-HMM Viterbi {acc_hmm:.3f}, chance {1 / S.K:.3f}")
print(f"training sequences with a wrong label after the last epoch: {r.mistakes[-1]} of {S.sizes[-1]} (not separable)")
assert acc_per > 1 / S.K + 0.2
if not is_test():
    assert acc_per > acc_hmm - 0.03, (acc_per, acc_hmm)   # close to the decoder that knows the model
    assert r.mistakes[-1] > 0
display(Markdown(
    f"From {S.sizes[-1]} labelled sequences alone, the perceptron decodes "
    + (f"within {100 * (acc_hmm - acc_per):.1f} points of the decoder that knows the true model"
       if acc_per <= acc_hmm else f"{100 * (acc_per - acc_hmm):.1f} points *above* the true model on these held-out sequences")
    + f", although {r.mistakes[-1]} of its {S.sizes[-1]} training sequences are still decoded wrongly."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The hard part is finding the negative example
#
# The update needs $\tilde y$, the labelling the current $F$ likes best. What if we cannot compute
# the arg max and use a cheaper way to find negatives? Same separable data, three searches:
#
# * **Viterbi**: the exact arg max;
# * **greedy**: label left to right, each position the best given the previous label (fast, often
#   not the arg max);
# * **random**: a uniformly random labelling as the negative.
#
# Mistakes are always counted with the exact arg max, i.e. by what the model would actually output.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1.3 (predict, then run): which negatives leave the most mistakes
#
# Before you run the next cell: after the last epoch, which kind of negative will leave the most training
# sequences whose arg max is wrong? Write `"viterbi"`, `"greedy"` or `"random"`.

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_1_3 = ...
prediction_1_3 = 'random'
### END SOLUTION

# %% slideshow={"slide_type": "subslide"}
runs = {neg: st.structured_perceptron(X_sep, Y_sep, S.K, S.V, epochs=S.epochs, negatives=neg, seed=0,
                                      X_heldout=X_sep_ho, Y_heldout=Y_sep_ho)
        for neg in st.NEGATIVES}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for neg, r in runs.items():
    ep = range(1, len(r.mistakes) + 1)
    axes[0].plot(ep, r.mistakes, label=f"negatives: {neg}")
    axes[1].plot(ep, r.heldout_accuracy, label=f"negatives: {neg}")
axes[0].set_xlabel("epoch"), axes[0].set_ylabel("training sequences whose arg max is wrong"), axes[0].legend()
axes[1].set_xlabel("epoch"), axes[1].set_ylabel("held-out token accuracy"), axes[1].legend()
axes[0].set_title("Mistakes (counted with the exact arg max)"), axes[1].set_title("Held-out accuracy")
plt.show()
for neg, r in runs.items():
    print(f"{neg:8s}: updates during the last epoch {r.updates[-1]:3d}, wrong arg max after it {r.mistakes[-1]:3d}, "
          f"held-out accuracy {r.heldout_accuracy[-1]:.3f}")
assert runs["viterbi"].mistakes[-1] == 0
assert runs["random"].updates[-1] == 0 and runs["random"].mistakes[-1] > 0
if not is_test():
    assert runs["greedy"].updates[-1] == 0
    assert 0 < runs["greedy"].mistakes[-1] < runs["random"].mistakes[-1]
    assert runs["random"].mistakes[-1] > S.n_train // 4           # "many" wrong sequences left
    assert runs["viterbi"].heldout_accuracy[-1] > runs["greedy"].heldout_accuracy[-1] > runs["random"].heldout_accuracy[-1]

# %% slideshow={"slide_type": "subslide"}
check("1.3", prediction_1_3, actual=max(runs, key=lambda neg: runs[neg].mistakes[-1]))

# %% [markdown] slideshow={"slide_type": "subslide"}
# With random negatives the perceptron stops updating (**no updates at all** in its last epoch): a
# random labelling almost always scores below the correct one already, so the update condition fails
# and $w$ looks perfect by its own test, yet its true arg max is still wrong on many training
# sequences (printed above). Random wrong answers are easy to beat and teach little; what teaches is
# the wrong answer that the model itself finds most convincing. Greedy search sits in between: it
# finds some of those, then stalls (no updates in its last epoch either) with fewer wrong sequences
# than random negatives leave, and more than the exact arg max.
#
# This is the lecture's point about evaluation functions: we cannot push $F$ down on *all*
# objects that are not real data, only on a few, and which few matters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Bridge: from $\arg\max_y$ to a generator
#
# For images there is no Viterbi. The space of $x$ is continuous and huge, and $F(x)$ is a neural
# network, so $\arg\max_x F(x)$ cannot be computed. A GAN {cite:p}`goodfellow2014generative` trains
# a **generator** $G(z)$ to output the $x$ that the current evaluation function scores highest: a
# learned, amortised search for negative examples. The discriminator then plays the perceptron's
# part: raise the score of real data, lower it on what the generator found. Energy-based GANs
# {cite:p}`zhao2017energy` say it in these words: the discriminator is an energy $E(x) = -F(x)$, low
# on data and high on the generator's samples. Notebooks 2 and 3 first recap the likelihood-based
# alternatives (factor analysis, the VAE); notebook 4 starts the GANs.

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    f"**Measured** in this run (`{'test' if is_test() else 'real'}` profile, "
    f"{time.perf_counter() - t_notebook:.0f} s for the whole notebook): on separable data the mistakes reached zero "
    f"after epoch {sep.converged_epoch}, with held-out token accuracy {sep.heldout_accuracy[-1]:.3f}; on the "
    f"hidden-state task the perceptron reached {acc_per:.3f} held-out token accuracy from {S.sizes[-1]} labelled "
    f"sequences, against {acc_hmm:.3f} for Viterbi with the true HMM parameters (chance {1 / S.K:.3f}); with greedy "
    f"or random negatives, training stopped updating with {runs['greedy'].mistakes[-1]} and "
    f"{runs['random'].mistakes[-1]} of {S.n_train} training sequences still decoded wrongly."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
display(Markdown("\n".join([
    f"* Viterbi found the same arg max as trying all $K^T$ labellings, at every length checked "
    f"({', '.join(str(T) for T in S.bf_lengths)}). Each extra position multiplies the number of labellings by "
    f"K = {S.K}; brute force's time grew by a factor of {bf_factor:.1f} per extra position between T = {T_a} and "
    f"T = {T_b}" + ("" if S.K / 1.5 < bf_factor < 1.5 * S.K else " (timings of a few milliseconds are noisy)")
    + f". At T = {T_b} brute force took {t_bf[-1] * 1e3:.1f} ms per sequence, Viterbi {t_vit[-1] * 1e3:.2f} ms.",
    f"* On separable data the training mistakes reached zero after epoch {sep.converged_epoch}, as Collins's "
    f"convergence theorem promises, and the averaged weights labelled {100 * sep.heldout_accuracy[-1]:.1f}% of the "
    "held-out tokens correctly.",
    f"* On the real task, recovering the hidden states, the perceptron learned from {S.sizes[-1]} labelled sequences "
    f"alone to label {100 * acc_per:.1f}% of the held-out tokens correctly (from {S.sizes[0]} sequences: "
    f"{100 * curve[S.sizes[0]]:.1f}%), against {100 * acc_hmm:.1f}% for Viterbi with the true HMM parameters and "
    f"{100 / S.K:.1f}% for guessing. The last weights, instead of the average of all the weights along the way, "
    f"scored {100 * acc_last:.1f}%" + (": averaging helped." if acc_last < acc_per else ": here averaging did not help."),
    f"* Learning needs the negative example that the model itself likes best. With the exact arg max as the negative, "
    f"the training mistakes fell to {runs['viterbi'].mistakes[-1]}. With random labellings as negatives the updates "
    f"stopped ({runs['random'].updates[-1]} in the last epoch) while {runs['random'].mistakes[-1]} of {S.n_train} "
    "training sequences were still decoded wrongly: a random labelling almost always scores below the correct one "
    f"already, so the update condition fails and nothing more is learned. Greedy search left "
    f"{runs['greedy'].mistakes[-1]} wrong, "
    + ("with no update in its last epoch either." if runs['greedy'].updates[-1] == 0
       else f"and was still updating ({runs['greedy'].updates[-1]} updates in its last epoch)."),
    f"* On held-out sequences the perceptron trained with exact arg-max negatives labelled "
    f"{100 * runs['viterbi'].heldout_accuracy[-1]:.1f}% of the tokens correctly, with greedy negatives "
    f"{100 * runs['greedy'].heldout_accuracy[-1]:.1f}%, with random negatives {100 * runs['random'].heldout_accuracy[-1]:.1f}%"
    + (": the better the search for negatives, the better the model."
       if runs['viterbi'].heldout_accuracy[-1] > runs['greedy'].heldout_accuracy[-1] > runs['random'].heldout_accuracy[-1]
       else "."),
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** M. Collins (2002), *Discriminative Training Methods for Hidden Markov Models: Theory and Experiments
# with Perceptron Algorithms*, Conference on Empirical Methods in Natural Language Processing (EMNLP). I. Goodfellow, J.
# Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville, Y. Bengio (2014), *Generative Adversarial
# Nets*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1406.2661. F. Rosenblatt (1958), *The
# Perceptron: A Probabilistic Model for Information Storage and Organization in the Brain*, Psychological Review. A. J.
# Viterbi (1967), *Error Bounds for Convolutional Codes and an Asymptotically Optimum Decoding Algorithm*, IEEE
# Transactions on Information Theory. J. Zhao, M. Mathieu, Y. LeCun (2017), *Energy-based Generative Adversarial
# Network*, International Conference on Learning Representations (ICLR), arXiv:1609.03126.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Next: [chapter 02, factor analysis and EM](02_factor_analysis_em.ipynb): what maximum likelihood with hidden
# variables looks like when every quantity has a closed form, and why EM raises the likelihood at every step.

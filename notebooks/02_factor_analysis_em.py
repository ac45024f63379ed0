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
# # 02 · Factor analysis and EM: a latent-variable model we can solve exactly
#
# **Question.** What does maximum likelihood with hidden variables look like when every quantity
# has a closed form, and why does EM raise the likelihood at every step?
#
# Before we train networks that turn noise into data, we look at the simplest model of that kind,
# where every quantity has a closed form. **Factor analysis** explains $D$ observed variables
# with $K < D$ hidden factors:
#
# $$z \sim \mathcal N(0, I_K), \qquad x = W z + \mu + \varepsilon, \qquad \varepsilon \sim \mathcal N(0, \Psi),\ \Psi \text{ diagonal}.$$
#
# Integrating $z$ out gives a Gaussian, $p(x) = \mathcal N(\mu,\ W W^\top + \Psi)$. The covariance
# splits in two: $W W^\top$ (rank $K$) is the variance the variables **share** because they hang on
# the same factors; $\Psi$ is each variable's **private** noise. (Section 12.2.4 of
# {cite:t}`bishop2006pattern`.)
#
# We fit it with **EM** {cite:p}`dempster1977maximum`, in the form given for factor analysis by
# {cite:t}`rubin1982em` and {cite:t}`ghahramani1996em`, and use it to check, with numbers, the
# identity every later chapter leans on:
#
# $$\log p(x) = \underbrace{\mathbb E_{q}[\log p(x, z)] - \mathbb E_q[\log q(z)]}_{\text{ELBO}(q)} + \mathrm{KL}\big(q(z)\,\|\,p(z\mid x)\big).$$
#
# Plan: (1) sample data from a known model; (2) verify the identity for a $q$ that is *not* the
# posterior; (3) run EM from several random starts and assert that the log-likelihood never
# drops; (4) compare $\hat W \hat W^\top + \hat\Psi$ with the truth and $\hat W$ with $W$ up to an
# orthogonal transformation (a rotation, possibly with a reflection); (5) compare with scikit-learn's
# `FactorAnalysis`.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** Factor analysis is the one model of the course where every step has a closed form; use it to
# make the E-step and the M-step concrete before networks hide them. The monotone likelihood curve is the slide to
# pause on: ask why EM cannot go down (the bound touches the likelihood after each E-step). Runs in seconds; run it
# live.

# %% slideshow={"slide_type": "subslide"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from sklearn.decomposition import FactorAnalysis

from course_lib import factor_analysis as fa
from course_lib import is_test, setup_notebook
from course_lib.exercises import check

t_notebook = time.perf_counter()
S, device = setup_notebook(
    seed=0,
    threads=1,  # small models: one thread is as fast, and avoids contention on shared cores
    test=dict(n_points=600, em_iters=60, n_starts=3, sk_max_iter=200),
    real=dict(n_points=5000, em_iters=400, n_starts=5, sk_max_iter=5000),
)
print(f"(everything here is small float64 linear algebra on the CPU; the device {device} is not used)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A known model and its data
#
# Ten observed variables, two factors. Variables 0-4 load mostly on factor 1, variables 5-9 on
# factor 2, with some cross-loadings; the private variances differ from variable to variable.

# %% slideshow={"slide_type": "subslide"}
D, K = 10, 2
g = torch.Generator().manual_seed(0)
W_true = torch.zeros(D, K, dtype=torch.float64)
W_true[:5, 0] = torch.linspace(1.5, 0.7, 5, dtype=torch.float64)
W_true[5:, 1] = torch.linspace(0.6, 1.4, 5, dtype=torch.float64)
W_true += 0.3 * torch.randn(D, K, generator=g, dtype=torch.float64)
truth = fa.FAParams(W_true, torch.linspace(-1, 1, D, dtype=torch.float64), torch.linspace(0.2, 1.0, D, dtype=torch.float64))
x, z = fa.sample_fa(truth, S.n_points, g)               # x: (n, D), z: (n, K)
print(f"data: {tuple(x.shape)}")
assert (W_true[:5, 0].abs() > W_true[:5, 1].abs()).all() and (W_true[5:, 1].abs() > W_true[5:, 0].abs()).all()

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
C_sample = torch.cov(x.T)
vmax = float(C_sample.abs().max())
for ax, M, title in zip(axes, [W_true @ W_true.T, torch.diag(truth.psi), C_sample],
                        [r"shared: $W W^\top$", r"private: $\Psi$", "sample covariance of x"]):
    im = ax.imshow(M.numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(title), ax.set_xlabel("variable j"), ax.set_ylabel("variable i")
fig.colorbar(im, ax=axes, shrink=0.8, label="covariance")
plt.show()
sample_err = float((C_sample - truth.covariance()).abs().max() / truth.covariance().abs().max())
print(f"max |sample covariance - (W W^T + Psi)| / max |W W^T + Psi| = {sample_err:.3f}")
if not is_test():
    assert sample_err < 0.06

# %% [markdown] slideshow={"slide_type": "fragment"}
# The sample covariance is the sum of the two left panels up to sampling noise (the printed relative
# difference): the blocks come from the shared factors, the extra diagonal from the private noise.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2.2 (implement): the log-likelihood
#
# Write `log_likelihood(x, W, mu, psi)`: $\log N(x_i;\ \mu,\ WW^\top + \Psi)$ for every row of `x` (an (N,) tensor),
# with `W` (D, K), `mu` (D,) and `psi` (D,) the diagonal of $\Psi$. `torch.distributions.MultivariateNormal` may help.

# %% slideshow={"slide_type": "subslide"}
def log_likelihood(x, W, mu, psi):
    ### BEGIN SOLUTION
    return torch.distributions.MultivariateNormal(mu, W @ W.T + torch.diag(psi)).log_prob(x)
    ### END SOLUTION


check("2.2", log_likelihood)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The ELBO identity, checked with numbers
#
# For any distribution $q(z)$, writing $p(x,z) = p(z\mid x)\,p(x)$ inside
# $\mathbb E_q[\log p(x,z) - \log q(z)]$ gives $\log p(x) - \mathrm{KL}(q\,\|\,p(z\mid x))$. So the
# ELBO is a lower bound, and the gap is exactly how far $q$ is from the posterior. In factor
# analysis the posterior is Gaussian and known:
#
# $$p(z\mid x) = \mathcal N(m, \Sigma),\quad \Sigma = (I + W^\top\Psi^{-1}W)^{-1},\quad m = \Sigma W^\top \Psi^{-1}(x-\mu),$$
#
# and for a Gaussian $q = \mathcal N(a, B)$ the ELBO has a closed form (`fa.elbo`). Take one data
# point and a $q$ that is deliberately wrong: shifted mean, inflated covariance.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
x0 = x[:1]                                               # (1, D)
m, Sigma = fa.posterior(x0, truth)                       # (1, K), (K, K)
q_mean, q_cov = m[0] + torch.tensor([0.8, -0.5], dtype=torch.float64), 3.0 * Sigma
log_p = float(fa.log_likelihood(x0, truth)[0])
bound = float(fa.elbo(x0, truth, q_mean, q_cov)[0])
gap = float(fa.gaussian_kl(q_mean, q_cov, m[0], Sigma))
print(f"log p(x)              = {log_p:.6f}")
print(f"ELBO(q)               = {bound:.6f}")
print(f"KL(q || p(z|x))       = {gap:.6f}")
print(f"ELBO + KL - log p(x)  = {bound + gap - log_p:.1e}")
print(f"ELBO at the posterior = {float(fa.elbo(x0, truth, m[0], Sigma)[0]):.6f}")
assert gap > 0.5 and abs(bound + gap - log_p) < 1e-9

# %% [markdown] slideshow={"slide_type": "fragment"}
# Slide $q$'s mean along a line through the posterior mean: $\log p(x)$ does not move, the ELBO
# rises to touch it exactly at the posterior, and the vertical distance is the KL divergence.

# %% slideshow={"slide_type": "subslide"}
shifts = torch.linspace(-3, 3, 121, dtype=torch.float64)
direction = torch.tensor([1.0, 0.0], dtype=torch.float64)
elbos = torch.stack([fa.elbo(x0, truth, m[0] + s * direction, Sigma)[0] for s in shifts])
kls = torch.stack([fa.gaussian_kl(m[0] + s * direction, Sigma, m[0], Sigma) for s in shifts])
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.axhline(log_p, color="k", label=r"$\log p(x)$")
ax.plot(shifts, elbos, label=r"ELBO$(q)$, $q = N(m + s\,e_1, \Sigma)$")
ax.plot(shifts, log_p - kls, "--", label=r"$\log p(x) - \mathrm{KL}(q\,\|\,p(z|x))$")
ax.set_xlabel("shift s of q's mean away from the posterior mean"), ax.set_ylabel("nats")
ax.legend(), ax.set_title("The ELBO touches log p(x) only at the posterior")
plt.show()
assert torch.allclose(elbos, log_p - kls, atol=1e-9)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2.1 (implement): the E-step
#
# Write `posterior(x, W, mu, psi)`: the mean $m_i$ of $p(z\mid x_i)$ for every row (an (N, K) tensor) and the
# covariance $S$ (K, K) they share: $S = (I + W^\top\Psi^{-1}W)^{-1}$, $m_i = S\,W^\top\Psi^{-1}(x_i - \mu)$. Return `(m, S)`.

# %% slideshow={"slide_type": "subslide"}
def posterior(x, W, mu, psi):
    ### BEGIN SOLUTION
    Wt_Pinv = W.T / psi
    S = torch.linalg.inv(torch.eye(W.shape[1], dtype=W.dtype) + Wt_Pinv @ W)
    return (x - mu) @ (S @ Wt_Pinv).T, S
    ### END SOLUTION


check("2.1", posterior)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. EM: two steps that each raise the bound
#
# * **E step**: with the parameters fixed, set $q_i(z)$ to the posterior $p(z\mid x_i)$, which
#   closes the gap: the ELBO equals $\log p(x_i)$.
# * **M step**: with $q$ fixed, maximise $\sum_i \mathbb E_{q_i}[\log p(x_i, z)]$ over $W, \Psi$.
#
# Written out, the M-step objective is
# $-\tfrac N2 \log\det\Psi - \sum_i \big(\tfrac12 (x_i-\mu)^\top\Psi^{-1}(x_i-\mu) - (x_i-\mu)^\top \Psi^{-1} W\,\mathbb E[z_i] + \tfrac12\operatorname{tr}(W^\top \Psi^{-1} W\,\mathbb E[z_i z_i^\top])\big)$:
# the data enter only through the two **sufficient statistics** $\mathbb E[z_i]$ and
# $\mathbb E[z_i z_i^\top] = \Sigma + m_i m_i^\top$. That is all the E step has to compute.
# Setting the derivatives to zero,
#
# $$W_{new} = \Big(\sum_i (x_i-\mu)\,\mathbb E[z_i]^\top\Big)\Big(\sum_i \mathbb E[z_i z_i^\top]\Big)^{-1},\qquad
# \Psi_{new} = \operatorname{diag}\Big(\tfrac1N\sum_i \big[(x_i-\mu)(x_i-\mu)^\top - W_{new}\,\mathbb E[z_i]\,(x_i-\mu)^\top\big]\Big),$$
#
# both sums over all $N$ points, with the *new* $W$ inside $\Psi$'s update (eqs. 12.69-12.70 of
# {cite:t}`bishop2006pattern`, written there as
# $\Psi_{new} = \operatorname{diag}\{S - W_{new}\tfrac1N\sum_i \mathbb E[z_i](x_i-\mu)^\top\}$ with $S$ the sample
# covariance). This is what `fa.m_step` computes.
#
# Since the E step makes the bound tight and the M step can only raise it, the log-likelihood
# cannot go down ({cite:t}`neal1998view` view EM as coordinate ascent on the ELBO). We check that
# from several random starts.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2.3 (predict, then run): how often EM lowers the likelihood
#
# The next cell runs EM from several random starts and records the log-likelihood after every iteration.
# Before you run it: in how many iterations, over all starts, will the log-likelihood go *down* by more than
# rounding error ($10^{-10}$)? Write a number.

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_2_3 = ...
prediction_2_3 = 0
### END SOLUTION

# %% slideshow={"slide_type": "subslide"}
runs = [fa.fit_em(x, n_factors=K, iters=S.em_iters, seed=s) for s in range(S.n_starts)]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for s, (_, hist) in enumerate(runs):
    ax.plot(hist, label=f"random start {s}")
    steps = np.diff(hist)
    assert (steps >= -1e-10).all(), f"start {s}: the log-likelihood fell by {steps.min():.2e}"
ax.set_xscale("symlog", linthresh=10)
ax.set_xlabel("EM iteration"), ax.set_ylabel("mean log-likelihood per point (nats)")
ax.set_title("EM never decreases the likelihood"), ax.legend()
plt.show()
best, hist = max(runs, key=lambda r: r[1][-1])
finals = [r[1][-1] for r in runs]
min_step = min(np.diff(h).min() for _, h in runs)
print("final mean log-likelihood per start:", [round(f, 4) for f in finals])
print(f"spread of the final values over the starts: {max(finals) - min(finals):.1e} nats")
print(f"smallest single-step change over all starts: {min_step:.2e}")
if not is_test():
    assert max(finals) - min(finals) < 1e-6

# %% slideshow={"slide_type": "subslide"}
check("2.3", prediction_2_3, actual=sum(int((np.diff(h) < -1e-10).sum()) for _, h in runs))

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    ("Every curve climbs and flattens at the same value (largest difference between the starts' final values: "
     f"{max(finals) - min(finals):.1e} nats): here the likelihood has one peak up to the symmetries of the model, "
     "and all starts find it. " if max(finals) - min(finals) < 1e-6 else
     "The starts do not all end at the same value (see the printout): more iterations, or another peak. ")
    + (f"The smallest step printed above, {min_step:.1e} nats, is zero up to floating-point rounding: "
       "no step goes down by more than rounding error." if min_step > -1e-10 else "")))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What EM recovered
#
# The likelihood only sees the covariance $W W^\top + \Psi$, so that is what we can hope to
# recover exactly (up to sampling noise).

# %% slideshow={"slide_type": "subslide"}
C_true, C_hat = truth.covariance(), best.covariance()
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
vmax = float(C_true.abs().max())
for ax, M, title in zip(axes, [C_true, C_hat, C_hat - C_true],
                        [r"truth $W W^\top + \Psi$", r"EM: $\hat W \hat W^\top + \hat\Psi$", "difference"]):
    im = ax.imshow(M.numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(title), ax.set_xlabel("variable j"), ax.set_ylabel("variable i")
fig.colorbar(im, ax=axes, shrink=0.8, label="covariance")
plt.show()
cov_err = float((C_hat - C_true).abs().max() / C_true.abs().max())
print(f"max |C_hat - C_true| / max |C_true| = {cov_err:.3f}")
assert cov_err < (0.3 if is_test() else 0.1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loadings themselves are another matter. For any orthogonal $R$ ($R R^\top = I$: a rotation, possibly
# combined with a reflection), $(WR)(WR)^\top = W W^\top$: the factors can be rotated, or have their signs
# flipped, without changing $p(x)$, so EM returns *some* such transform of $W$. We find the best $R$ by
# orthogonal Procrustes {cite:p}`schonemann1966generalized` ($R = U V^\top$ from the SVD of $\hat W^\top W$)
# and compare after aligning. With two factors $R$ is easy to read: if $\det R = +1$ it is a rotation by some
# angle; if $\det R = -1$ it is a reflection, which `fa.decompose_orthogonal_2d` writes as a sign flip of one
# factor followed by a rotation.

# %% slideshow={"slide_type": "subslide"}
W_aligned, R = fa.align_rotation(best.W, W_true)
fig, axes = plt.subplots(1, K, figsize=(11, 3.6), sharey=True)
for k, ax in enumerate(axes):
    ax.plot(W_true[:, k], "ko-", label="true W")
    ax.plot(best.W[:, k], "s:", alpha=0.7, label="EM W (as returned)")
    ax.plot(W_aligned[:, k], "x--", ms=9, label="EM W, rotated by R")
    ax.set_xlabel("variable"), ax.set_title(f"loadings on factor {k + 1}")
axes[0].set_ylabel("loading"), axes[0].legend()
plt.show()
flipped, theta = fa.decompose_orthogonal_2d(R)
w_err = float((W_aligned - W_true).norm() / W_true.norm())
w_err_raw = float((best.W - W_true).norm() / W_true.norm())
what_R = (f"a rotation by {abs(theta):.1f} degrees" if flipped is None else
          f"a reflection: the sign of EM's factor {flipped + 1} flipped, then a rotation by {abs(theta):.1f} degrees")
print(f"det R = {float(torch.det(R)):+.0f}; Procrustes found {what_R}")
print(f"||W_hat - W|| / ||W||   = {w_err_raw:.3f}   (as returned)")
print(f"||W_hat R - W|| / ||W|| = {w_err:.3f}   (aligned)")
assert w_err < (0.3 if is_test() else 0.1)

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    (f"As returned, the learned loadings are far from the truth (relative error {w_err_raw:.2f}); after aligning with "
     f"$R$ ({what_R}) they sit on top of it (error {w_err:.3f}). " if w_err_raw > 3 * w_err else
     f"In this run EM happened to return loadings close to the truth's orientation (relative error {w_err_raw:.2f} "
     f"before, {w_err:.3f} after aligning), but another start could return any other orientation. ")
    + "Statements about \"which variable loads on which factor\" therefore depend on a choice of rotation (and signs) "
      "that the data cannot make."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. An outside reference: scikit-learn
#
# scikit-learn's `FactorAnalysis` maximises the same likelihood with a different algorithm (an
# SVD-based iteration, algorithm 21.1 of {cite:t}`barber2012bayesian`).
# Its `score` is the mean log-likelihood per point, the number our EM reports.

# %% slideshow={"slide_type": "subslide"}
sk = FactorAnalysis(n_components=K, max_iter=S.sk_max_iter, tol=1e-10, random_state=0).fit(x.numpy())
ll_ours, ll_sk = hist[-1], float(sk.score(x.numpy()))
sk_params = fa.FAParams(torch.from_numpy(sk.components_.T), torch.from_numpy(sk.mean_), torch.from_numpy(sk.noise_variance_))
ll_sk_ours = float(fa.log_likelihood(x, sk_params).mean())
print(f"EM (ours), final mean log-likelihood : {ll_ours:.6f}")
print(f"scikit-learn FactorAnalysis.score    : {ll_sk:.6f}")
print(f"sklearn's parameters, our formula     : {ll_sk_ours:.6f}")
print(f"difference (ours - sklearn)          : {ll_ours - ll_sk:.1e} nats per point")
print(f"max |C_ours - C_sklearn|              : {float((best.covariance() - sk_params.covariance()).abs().max()):.1e}")
cov_diff_sk = float((best.covariance() - sk_params.covariance()).abs().max())
assert abs(ll_sk - ll_sk_ours) < 1e-6          # same likelihood formula
assert abs(ll_ours - ll_sk) < (0.05 if is_test() else 1e-3)
if not is_test():
    assert cov_diff_sk < 1e-3                   # the same fitted covariance, not just the same score

# %% [markdown] slideshow={"slide_type": "fragment"}
# Both reach the same maximum of the likelihood, and scikit-learn's parameters evaluated with our
# formula give its own score: the two implementations agree on the model and on the optimum.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What carries over
#
# * A latent-variable model is fitted by raising the ELBO; the gap to $\log p(x)$ is
#   $\mathrm{KL}(q\,\|\,p(z\mid x))$, and EM closes it exactly because the posterior is known.
# * When the decoder $x = f(z)$ is a neural network, the posterior has no closed form. The
#   **variational autoencoder** (next notebook) keeps the ELBO as its objective but lets a second
#   network propose $q(z\mid x)$, so the gap no longer closes; that has visible consequences.
# * GANs (notebook 4 on) keep the generator $z \mapsto x$ but drop the likelihood altogether.

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    f"**Measured** in this run (`{'test' if is_test() else 'real'}` profile: {S.n_points:,} points, {S.em_iters} EM "
    f"iterations from {S.n_starts} random starts; {time.perf_counter() - t_notebook:.0f} s for the whole notebook): "
    + (f"every start ends at a mean log-likelihood of {max(finals):.6f} nats per point" if f"{min(finals):.6f}" == f"{max(finals):.6f}"
       else f"the starts end at mean log-likelihoods from {min(finals):.6f} to {max(finals):.6f} nats per point")
    + ", and "
    f"scikit-learn's `FactorAnalysis` scores {ll_sk:.6f} (difference {abs(ll_ours - ll_sk):.0e}); "
    f"$\\hat W\\hat W^\\top + \\hat\\Psi$ is within {100 * cov_err:.1f} % of the true covariance (largest entry "
    f"error over largest entry) and the aligned $\\hat W$ within {100 * w_err:.1f} % of the true loadings (Frobenius norm)."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
spread = max(finals) - min(finals)
display(Markdown("\n".join([
    f"* For one data point and a deliberately wrong $q$, the ELBO ({bound:.3f} nats) plus "
    f"$\\mathrm{{KL}}(q\\,\\|\\,p(z\\mid x))$ ({gap:.3f}) equals $\\log p(x)$ ({log_p:.3f}) up to "
    f"{abs(bound + gap - log_p):.0e} nats. Moving $q$'s mean showed that the ELBO touches $\\log p(x)$ only at the "
    "posterior, where the KL divergence is zero.",
    f"* EM from {S.n_starts} random starts: the log-likelihood never went down "
    + (f"(smallest step {min_step:.1e} nats)" if min_step >= 0
       else f"by more than rounding error (smallest step {min_step:.1e} nats)")
    + ", because the E step makes the bound tight and the M step can only raise it. "
    + (f"All starts ended at the same value (largest difference {spread:.1e} nats)."
       if spread < 1e-6 else f"After {S.em_iters} iterations the starts' final values still differed by {spread:.1e} nats."),
    f"* The fitted covariance $\\hat W \\hat W^\\top + \\hat\\Psi$ was within {100 * cov_err:.1f}% of the true one "
    f"(largest entry error over largest entry), on {S.n_points:,} points. The loadings are recovered only up to an "
    f"orthogonal transformation: "
    + (f"as returned they were far from the truth (relative error {w_err_raw:.2f}); multiplied by the best "
       f"orthogonal $R$ ({what_R}) they came within {w_err:.3f} of it." if w_err_raw > 3 * w_err else
       f"here the returned loadings happened to be close to the truth's orientation (relative error {w_err_raw:.2f} "
       f"before aligning, {w_err:.3f} after), but nothing in the likelihood prefers that orientation."),
    f"* scikit-learn's `FactorAnalysis`, a different algorithm for the same likelihood, scored {ll_sk:.6f} nats per "
    f"point against {ll_ours:.6f} for our EM, and its fitted covariance differed from ours by at most "
    f"{cov_diff_sk:.1e}" + (": the same maximum." if abs(ll_ours - ll_sk) < 1e-3 and cov_diff_sk < 1e-3 else "."),
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** D. Barber (2012), *Bayesian Reasoning and Machine Learning*, Cambridge University Press. C. M. Bishop
# (2006), *Pattern Recognition and Machine Learning*, Springer. A. P. Dempster, N. M. Laird, D. B. Rubin (1977),
# *Maximum Likelihood from Incomplete Data via the EM Algorithm*, Journal of the Royal Statistical Society: Series B
# (Methodological). Z. Ghahramani, G. E. Hinton (1996), *The EM Algorithm for Mixtures of Factor Analyzers*, Technical
# report CRG-TR-96-1, University of Toronto. R. M. Neal, G. E. Hinton (1998), *A View of the EM Algorithm that Justifies
# Incremental, Sparse, and Other Variants*, Learning in Graphical Models. D. B. Rubin, D. T. Thayer (1982), *EM
# Algorithms for ML Factor Analysis*, Psychometrika. P. H. Schönemann (1966), *A Generalized Solution of the Orthogonal
# Procrustes Problem*, Psychometrika.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Next: [chapter 03, the variational autoencoder](03_variational_autoencoder.ipynb): how to fit a latent-variable
# model by maximum likelihood when its decoder is a neural network and its posterior has no closed form, and why
# its samples are blurry.

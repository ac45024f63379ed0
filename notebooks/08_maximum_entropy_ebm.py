# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Maximum-entropy generators for energy-based models
#
# **Question.** An energy function $E_\theta(x)$ defines a density
# $p_\theta(x) = e^{-E_\theta(x)} / Z_\theta$ with $Z_\theta = \int e^{-E_\theta(x)}\,dx$. Training it by
# maximum likelihood needs samples *from the model itself* (the "negative phase"), and drawing them by
# MCMC at every step is slow. Can a generator $G(z)$ supply those samples instead, and what must it be
# trained for so that the energy really becomes a density?
#
# Kumar, Ozair, Goyal, Courville and Bengio (2019, *Maximum Entropy Generators for Energy-Based Models*,
# arXiv:1901.08508) answer: the generator must minimise energy **and maximise its own entropy**. This
# notebook builds their algorithm from `course_lib` pieces, checks it on 2-D targets where every number
# can be computed exactly, refines samples by Langevin MCMC in latent space, and then uses the energy to
# detect an unseen MNIST digit.

# %%
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import compare, is_test, setup_notebook
from course_lib.data import load_images
from course_lib.energy import (EnergyMLP, ImageMLPGenerator, MaxEntObjective, StatisticsNetwork, energies,
                               evaluate_2d, fit_mi_estimator, log_partition_2d, toy_pairs)
from course_lib.ensemble import member
from course_lib.evaluation import pr_auc, pr_curve, roc_auc, roc_curve
from course_lib.metrics import mode_stats
from course_lib.plots import plot_history, plot_samples, plot_surface_2d, show_images
from course_lib.runtime import num_threads
from course_lib.sampling import latent_energy, mala, ula
from course_lib.toys import grid25, make_target, ring8
from course_lib.train import TrainConfig, train

S, device = setup_notebook(
    seed=0,
    threads=1,  # these networks are tiny: one thread is faster than two fighting over shared cores
    test=dict(mi_steps=40, toy_steps=30, toy_batch=128, hidden=32, grid=80, n_eval=300,
              mala_chains=200, mala_steps=15, mala_step_sizes=(0.01, 0.1, 1.0), mala_step=0.1,
              mnist_steps=20, mnist_batch=32, mnist_hidden=64, n_heldout=1000, ens_threads=1),
    real=dict(mi_steps=300, toy_steps=2000, toy_batch=256, hidden=64, grid=400, n_eval=1000,
              mala_chains=1000, mala_steps=200, mala_step_sizes=(0.003, 0.01, 0.03, 0.1, 0.3, 1.0), mala_step=0.03,
              mnist_steps=3000, mnist_batch=64, mnist_hidden=256, n_heldout=2000, ens_threads=2),
)

# %% [markdown]
# ## 1. The energy's loss
#
# The gradient of the log-likelihood of $p_\theta$ has two parts: push the energy *down* on data and
# *up* on samples of the model,
# $\nabla_\theta\, \mathbb{E}_{data}[-\log p_\theta(x)] = \mathbb{E}_{data}[\nabla_\theta E_\theta(x)] - \mathbb{E}_{p_\theta}[\nabla_\theta E_\theta(x)]$.
# Kumar et al. replace the samples of $p_\theta$ by samples of a generator $p_G$ and add a penalty on
# the energy's slope at the data:
#
# $$\mathcal{L}_E = \mathbb{E}_{x\sim p_{data}}[E_\theta(x)] - \mathbb{E}_{x\sim p_G}[E_\theta(x)]
#   + \lambda\, \mathbb{E}_{x \sim p_{data}}\big[\|\nabla_x E_\theta(x)\|^2\big].$$
#
# The penalty is taken per sample (each data point's own gradient norm, then the mean), which makes
# data points flat minima of the energy. The generator is the model's sampler only if
# $p_G \approx p_\theta$, i.e. if $G$ minimises $\mathrm{KL}(p_G \,\|\, p_\theta) = \mathbb{E}_{p_G}[E_\theta(x)] - H[p_G] + \log Z_\theta$:
#
# $$\mathcal{L}_G = \mathbb{E}_{z}[E_\theta(G(z))] - H[p_G].$$
#
# Without $-H[p_G]$ the best generator puts all its mass on the single lowest-energy point: it
# collapses, and the energy never sees the rest of its own density.
#
# ## 2. The entropy of a generator, through mutual information
#
# $H[p_G]$ has no closed form. For $x = G(z)$ plus a tiny fixed noise, $H[X] = I(X; Z) + H[X \mid Z]$
# and $H[X\mid Z]$ is the (constant) entropy of the noise, so maximising the mutual information
# $I(X;Z)$ maximises the entropy. Kumar et al. estimate $I$ with the Jensen-Shannon estimator of Deep
# InfoMax (Hjelm et al. 2019, arXiv:1808.06670): a critic $T_\phi(x, z)$ tells *matched* pairs
# $(G(z), z)$ from *mismatched* pairs $(G(z), \tilde z)$, where $\tilde z$ is the batch's $z$ with every
# coordinate shuffled on its own across the batch (a draw from the product of the marginals, without
# new random numbers):
#
# $$\hat I_{JSD} = \mathbb{E}_{z}\big[-\mathrm{sp}(-T_\phi(G(z), z))\big] - \mathbb{E}_{z, \tilde z}\big[\mathrm{sp}(T_\phi(G(z), \tilde z))\big] + 2\log 2,\qquad \mathrm{sp}(a) = \log(1 + e^a).$$
#
# (We add the constant $2\log 2$, which changes no gradient, so that the estimate is $0$ for independent
# variables; its largest value is $2\log 2 \approx 1.386$ nats.) $T_\phi$ is trained to *maximise*
# $\hat I$, and so is $G$: in `MaxEntObjective` the critic is listed in `modules()`, so the one trainer
# updates it together with the generator on $\mathcal{L}_G = \mathbb{E}[E(G(z))] - \hat I$.
#
# First, a sanity check of the estimator on pairs whose dependence we know.

# %%
torch.manual_seed(0)
mi_indep = fit_mi_estimator(StatisticsNetwork(hidden=64), toy_pairs(False), steps=S.mi_steps, seed=0)
torch.manual_seed(0)
mi_dep = fit_mi_estimator(StatisticsNetwork(hidden=64), toy_pairs(True), steps=S.mi_steps, seed=0)
print(f"I_JSD estimate, x independent of z: {mi_indep:.3f} nats;  x = tanh(Az): {mi_dep:.3f} nats (max {2 * math.log(2):.3f})")
assert abs(mi_indep) < 0.1 and mi_dep > mi_indep
if not is_test():
    assert mi_dep > 0.9

# %% [markdown]
# The estimate is near zero for independent pairs and close to its ceiling when $x$ is a function of
# $z$: a generator can raise it only by keeping distinct codes apart, i.e. by spreading out.
#
# ## 3. Training on 2-D targets, with and without the entropy term
#
# Three targets: eight Gaussians on a ring (Metz et al. 2017, arXiv:1611.02163), a 5 x 5 grid of
# Gaussians (Srivastava et al. 2017, arXiv:1705.07761) and a swiss roll. We widen the Gaussians a little
# (standard deviation 0.1 on a ring of radius 2; 0.05 on a grid of spacing 1) so that a CPU run of a
# few thousand steps can resolve them. Same networks and steps for every run; the only switch is
# `mi_weight` (1 = the paper's loss, 0 = no entropy term).

# %%
targets = {"ring8": ring8(std=0.1), "grid25": grid25(spacing=1.0, std=0.05), "swissroll": make_target("swissroll")}
cfg = TrainConfig(steps=S.toy_steps, batch_size=S.toy_batch, lr_d=1e-3, lr_g=1e-3, betas=(0.5, 0.9))

keys = [(name, w) for name in targets for w in (1.0, 0.0)]
# the six runs train at once as one ensemble: member i is the single run on its target with its mi_weight
with num_threads(S.ens_threads):  # one batched ensemble keeps both cores busy, unlike one tiny run
    G6, E6, _, hists = compare.train_toy_ensemble(
        "maxent", [targets[name].sample for name, _ in keys], seeds=[0] * len(keys), train_cfg=cfg, device=device,
        cfgs=[compare.MethodConfig(hidden=S.hidden, depth=2, maxent_lam=0.1, mi_weight=w) for _, w in keys])
runs = {key: (member(G6, i).eval(), member(E6, i).eval(), hists[i]) for i, key in enumerate(keys)}

# %%
results = {}
for key, (G, E, h) in runs.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results[key] = evaluate_2d(targets[key[0]], G, E, n=S.n_eval, grid=S.grid)
    for w in caught:
        print(f"warning for {key[0]} {'with' if key[1] else 'without'} entropy term: {str(w.message)[:60]}")

print(f"{'target':10s} {'entropy':8s} {'modes':>7s} {'HQ %':>6s} {'W1':>6s} {'NLL model':>10s} {'NLL true':>9s} {'I_JSD':>6s}")
for (name, w), r in results.items():
    modes = f"{r['modes']}/{r['n_modes']}" if "modes" in r else "-"
    hq = f"{100 * r['hq']:.1f}" if "hq" in r else "-"
    mi = runs[(name, w)][2].last("mi", 50) if w else 0.0
    print(f"{name:10s} {'with' if w else 'without':8s} {modes:>7s} {hq:>6s} {r['w1']:6.3f} {r['nll']:10.3f} {r['true_nll']:9.3f} {mi:6.3f}")

# %% [markdown]
# How to read the table (and the warnings above it: where the learned density still has mass on the
# edge of the integration box, its $\log Z$ and hence its NLL are too optimistic). **Modes** counts mixture components that hold at least a fifth of their fair
# share of generated samples within three standard deviations of the centre, and **HQ** is the share of
# such "high-quality" samples (Srivastava et al. 2017). **W1** is the exact earth-mover distance between
# 1,000 generated and 1,000 fresh data points (smaller is better, and it also sees spread, which the mode
# count does not). **NLL model** is the exact negative log-likelihood of held-out data under
# $p_\theta = e^{-E_\theta}/Z_\theta$, with $\log Z_\theta$ integrated on a fine grid (section 4);
# **NLL true** is that of the true mixture, the floor any model can reach.

# %%
if not is_test():
    r8_with, r8_without = results[("ring8", 1.0)], results[("ring8", 0.0)]
    assert r8_with["modes"] > r8_without["modes"], "the entropy term should cover more modes of ring8"
    for name in targets:
        assert results[(name, 1.0)]["w1"] < results[(name, 0.0)]["w1"], f"entropy term should bring {name} samples closer to the data"
        assert results[(name, 1.0)]["nll"] < results[(name, 0.0)]["nll"], f"entropy term should give {name} a better density"

# %%
fig, axes = plt.subplots(3, 3, figsize=(15, 14))
for row, (name, target) in enumerate(targets.items()):
    G1, E1, _ = runs[(name, 1.0)]
    G0, E0, _ = runs[(name, 0.0)]
    plot_surface_2d(axes[row, 0], E1, target, results[(name, 1.0)]["x_fake"][:600], label="energy $E_\\theta(x)$",
                    squash=False, cmap="magma", n_real=400)
    axes[row, 0].set_title(f"{name}: with entropy term — energy and samples")
    plot_surface_2d(axes[row, 1], E0, target, results[(name, 0.0)]["x_fake"][:600], label="energy $E_\\theta(x)$",
                    squash=False, cmap="magma", n_real=400)
    axes[row, 1].set_title(f"{name}: without — energy and samples")
    d = results[(name, 1.0)]["density"]
    im = axes[row, 2].pcolormesh(d.xs.numpy(), d.ys.numpy(), d.density().numpy(), shading="auto", cmap="viridis")
    plt.colorbar(im, ax=axes[row, 2], label="learned density $p_\\theta(x)$", fraction=0.046)
    if target.has_density:
        (x0, x1), (y0, y1) = target.bounds
        xs, ys = torch.linspace(x0, x1, 200), torch.linspace(y0, y1, 200)
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        true = target.log_prob(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)).exp().reshape(200, 200)
        cs = axes[row, 2].contour(xs, ys, true, levels=3, colors="white", linewidths=0.8)
        axes[row, 2].plot([], [], c="white", label="true density (contours)")
        axes[row, 2].legend(loc="upper right", fontsize=7, facecolor="gray")
    axes[row, 2].set(xlim=target.bounds[0], ylim=target.bounds[1], xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
                     title=f"{name}: learned $p_\\theta$ (with entropy term)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Left: with the entropy term the generator (orange) spreads over the data (blue); on the ring and the
# swiss roll the energy's low valleys (dark) follow the data, on the grid the energy is still almost
# flat over the square — it has found the support, not yet the 25 wells. Middle: without it the generator gathers on a small set and
# chases the energy's current minimum, so the energy keeps being pushed up there and down elsewhere —
# the two never settle on a density. Right: the normalised density $e^{-E_\theta}/Z_\theta$ of the
# entropy-regularised model, with the true density's contours.
#
# ## 4. Exact likelihood in two dimensions
#
# In 2-D the partition function is a plain integral, so the likelihood that is intractable in high
# dimensions can be computed here: on an $n\times n$ grid with cell area $\Delta A$,
# $\log Z_\theta \approx \log \sum_{grid} e^{-E_\theta(x)} + \log \Delta A$ (a log-sum-exp, so nothing
# overflows), and $\mathrm{NLL} = \mathbb{E}_{data}[E_\theta(x)] + \log Z_\theta$. Two checks keep the
# number honest: `log_partition_2d` warns when the data fall outside the grid, and when the density still
# has mass on the grid's edge (then $Z$ continues beyond the box and the NLL is too optimistic). That is
# why the table integrates over a box 1.5 times wider than the data's. A check against a closed form:

# %%
# NBVAL_CHECK_OUTPUT
class GaussianEnergy(torch.nn.Module):
    """E(x) = ||x||^2 / (2 s^2): log Z = log(2 pi s^2)."""
    def __init__(self, s):
        super().__init__()
        self.s = s
    def forward(self, x):
        return x.pow(2).sum(1) / (2 * self.s**2)

g = GaussianEnergy(0.5)
print(f"grid log Z = {log_partition_2d(g, ((-4, 4), (-4, 4)), n=200).log_z:.4f}, closed form = {math.log(2 * math.pi * 0.25):.4f}")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    log_partition_2d(g, ((-0.5, 0.5), (-0.5, 0.5)), n=50)
print("too small a grid:", str(caught[0].message)[:80], "...")

# %% [markdown]
# The learned densities' NLLs in the table sit well above the truth: a few thousand CPU steps give a
# smooth energy whose valleys are wider than the data's narrow Gaussians, and the energy is trained
# only through the generator's samples, never by likelihood. Kumar et al. train for far longer (and
# report their density estimates as approximate); the exact 2-D numbers let us see how far off it is.
#
# ## 5. Better samples by MCMC in latent space
#
# The generator's samples only approximate $p_\theta$. Kumar et al. refine them with the
# Metropolis-adjusted Langevin algorithm (MALA; Roberts and Tweedie 1996) in the generator's *latent*
# space, where the landscape is smoother than in $x$. A Langevin proposal with step $\alpha$,
# $z' = z - \alpha\nabla U(z) + \sqrt{2\alpha}\,\epsilon$, is a Gaussian
# $q(z'\mid z) = \mathcal N(z - \alpha\nabla U(z), 2\alpha I)$; it is not symmetric, so the
# Metropolis-Hastings test must include its density both ways:
#
# $$\text{accept with prob.}\ \min\Big\{1,\ \frac{e^{-U(z')}\,q(z\mid z')}{e^{-U(z)}\,q(z'\mid z)}\Big\},\qquad
# \log q(z'\mid z) = -\frac{\|z' - z + \alpha \nabla U(z)\|^2}{4\alpha} + \text{const}.$$
#
# With the correction $e^{-U}$ is exactly invariant; without it (the *unadjusted* Langevin algorithm,
# ULA) every proposal is accepted and the chain's law is off by $O(\alpha)$.
#
# **Which latent energy?** We use $U(z) = E_\theta(G(z)) + \tfrac12\|z\|^2$, i.e. the target
# $p(z) \propto \mathcal N(z; 0, I)\, e^{-E_\theta(G(z))}$: the prior's energy keeps the chains where
# the generator was trained (far from it $G$ extrapolates arbitrarily), and without it
# $e^{-E_\theta(G(z))}$ need not even be normalisable in $z$. We start 1,000 chains at prior draws on
# the ring8 model and sweep the step size.

# %%
G8, E8, _ = runs[("ring8", 1.0)]
t8 = targets["ring8"]
U = latent_energy(E8, G8, prior=True)
z0 = G8.sample_z(S.mala_chains, torch.Generator().manual_seed(1))
with torch.no_grad():
    before = mode_stats(G8(z0).cpu(), t8.centers, t8.std)
print(f"before MCMC:            {before}")
chains = {}
for step in S.mala_step_sizes:
    chains[step] = mala(U, z0, step=step, n_steps=S.mala_steps, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        st = mode_stats(G8(chains[step].z).cpu(), t8.centers, t8.std)
    print(f"MALA step {step:<6g} acceptance {chains[step].acceptance_rate:.3f}   {st}")
best = S.mala_step
no_prior = mala(latent_energy(E8, G8, prior=False), z0, step=best, n_steps=S.mala_steps, generator=torch.Generator().manual_seed(2))
res_ula = ula(U, z0, step=best, n_steps=S.mala_steps, generator=torch.Generator().manual_seed(2))
with torch.no_grad():
    after = mode_stats(G8(chains[best].z).cpu(), t8.centers, t8.std)
    after_no_prior = mode_stats(G8(no_prior.z).cpu(), t8.centers, t8.std)
    after_ula = mode_stats(G8(res_ula.z).cpu(), t8.centers, t8.std)
print(f"MALA step {best:<6g} without the prior term, acceptance {no_prior.acceptance_rate:.3f}: {after_no_prior}"
      f"  (mean |z| {float(z0.norm(dim=1).mean()):.2f} -> {float(no_prior.z.norm(dim=1).mean()):.2f})")
print(f"ULA  step {best:<6g} (no correction):       {after_ula}")
rates = [chains[s].acceptance_rate for s in S.mala_step_sizes]
assert all(a >= b for a, b in zip(rates, rates[1:])), "acceptance should fall as the step grows"
if not is_test():
    assert after.high_quality_fraction > before.high_quality_fraction
    assert after_no_prior.high_quality_fraction < after.high_quality_fraction

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
with torch.no_grad():
    x_before, x_after = G8(z0).cpu(), G8(chains[best].z).cpu()
plot_surface_2d(axes[0], E8, t8, x_before, label="energy", squash=False, cmap="magma", n_real=400)
axes[0].set_title(f"G(z), z from the prior: HQ {100 * before.high_quality_fraction:.0f}%")
plot_surface_2d(axes[1], E8, t8, x_after, label="energy", squash=False, cmap="magma", n_real=400)
axes[1].set_title(f"after {S.mala_steps} MALA steps (alpha={best:g}): HQ {100 * after.high_quality_fraction:.0f}%")
axes[2].semilogx(S.mala_step_sizes, rates, "o-", label="MALA acceptance rate")
axes[2].set(xlabel="step size $\\alpha$", ylabel="acceptance rate", ylim=(0, 1.02), title="acceptance falls as the step grows")
axes[2].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Left to middle: the chains pull samples off the bridges between modes into the energy's valleys, so
# more of them are high-quality. Dropping the prior's energy $\tfrac12\|z\|^2$ lets the chains wander
# to large $\|z\|$, where the generator was never trained, and the samples get *worse* — the reason for
# our choice of latent energy. Right: large steps move far but are rejected more often (the
# correction catches proposals that overshoot); small steps are almost always accepted but move
# little in a fixed number of steps. A rate between roughly 0.5 and 0.9 is the usual target for MALA.
#
# ## 6. MNIST: samples, and the energy as an anomaly detector
#
# Now the same algorithm on images, with small MLP networks so that it trains on a CPU. We hold one
# digit class out of training; a good energy should give that class *higher* energy than the digits
# it has seen, so the energy itself is an anomaly score (Kumar et al. 2019, section 5.3, do this per
# digit). Offline, only the 10,000-image MNIST test split exists; we keep a random part of it aside for
# evaluation and train on the rest, without the held-out digit.

# %%
data = load_images("mnist")
print(data.note)
ANOMALY = 1  # the digit class held out of training
perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
eval_idx, train_idx = perm[:S.n_heldout], perm[S.n_heldout:]
x_train = data.images[train_idx][data.labels[train_idx] != ANOMALY]
x_eval, y_eval = data.images[eval_idx], (data.labels[eval_idx] == ANOMALY).long()  # label 1 = anomaly
print(f"training on {len(x_train)} images of the other nine digits; evaluating on {len(x_eval)} "
      f"({int(y_eval.sum())} of them the held-out digit {ANOMALY})")

def sample_mnist(n, g):
    return x_train[torch.randint(len(x_train), (n,), generator=g)]

torch.manual_seed(0)
Gm = ImageMLPGenerator(z_dim=16, hidden=S.mnist_hidden).to(device)
Em = EnergyMLP((1, 28, 28), hidden=S.mnist_hidden, depth=2).to(device)
Tm = StatisticsNetwork((1, 28, 28), z_dim=16, hidden=S.mnist_hidden, depth=2).to(device)
hist_m = train(Gm, Em, sample_mnist, MaxEntObjective(Tm, lam=1.0),
               TrainConfig(steps=S.mnist_steps, batch_size=S.mnist_batch, lr_d=5e-4, lr_g=5e-4, betas=(0.5, 0.9)))

# %%
e_eval = energies(Em, x_eval)
auc_roc, auc_pr = roc_auc(e_eval, y_eval), pr_auc(e_eval, y_eval)
prevalence = float(y_eval.float().mean())
ink = x_eval.flatten(1).mean(1)
ink_score = (ink - x_train.flatten(1).mean(1).median()).abs()  # a naive baseline: unusual amount of ink
print(f"held-out digit {ANOMALY}: energy score    ROC-AUC {auc_roc:.3f} (chance 0.5), PR-AUC {auc_pr:.3f} (chance {prevalence:.3f})")
print(f"                  |ink - median| score ROC-AUC {roc_auc(ink_score, y_eval):.3f},              PR-AUC {pr_auc(ink_score, y_eval):.3f}")
if not is_test():
    assert auc_roc > 0.6 and auc_pr > prevalence

fig, axes = plt.subplots(1, 4, figsize=(19, 4.5))
show_images(axes[0], Gm.sample(64, torch.Generator().manual_seed(0)), title="generator samples (MaxEnt)")
bins = np.linspace(float(e_eval.min()), float(e_eval.max()), 40)
axes[1].hist(e_eval[y_eval == 0].numpy(), bins=bins, density=True, alpha=0.6, label="digits seen in training")
axes[1].hist(e_eval[y_eval == 1].numpy(), bins=bins, density=True, alpha=0.6, label=f"held-out digit {ANOMALY}")
axes[1].set(xlabel="energy $E_\\theta(x)$", ylabel="density", title="energy of held-out images")
axes[1].legend(fontsize=8)
fpr, tpr = roc_curve(e_eval, y_eval)
axes[2].plot(fpr, tpr, label=f"energy score (AUC {auc_roc:.3f})")
axes[2].plot([0, 1], [0, 1], "k--", label="chance")
axes[2].set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC")
axes[2].legend(fontsize=8)
rec, prec = pr_curve(e_eval, y_eval)
axes[3].plot(rec, prec, label=f"energy score (AUC {auc_pr:.3f})")
axes[3].axhline(prevalence, c="k", ls="--", label="chance")
axes[3].set(xlabel="recall", ylabel="precision", title="precision-recall", ylim=(0, 1.02))
axes[3].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The generator's samples are recognisable but rough after a few thousand CPU steps. The histogram
# shows that the held-out digit tends to get higher energy than the digits the model has seen; the
# ROC and PR curves summarise how well a threshold on the energy separates them. Two honest caveats.
# The naive ink baseline shows how much of the separation a trivial image statistic already gives: in
# our real run it did about as well as the energy (slightly better), so at this training budget the
# energy has learned little beyond "a 1 has unusually little ink".
# And the digit matters: in trial runs with the same settings, holding out 9 (close to 4 and 7)
# gave a ROC-AUC near 0.5, and holding out 0 (with lambda = 0.1) gave 0.34 — lower energy than the seen
# digits, a reminder that density-like scores can rank an unseen class as *more* typical (Nalisnick et
# al. 2019, arXiv:1810.09136, saw the same with flows). Kumar et al. report the score for every digit
# with far longer training and convolutional networks. The PR curve is the stricter view
# when anomalies are rare (here about 10%): its chance level is the anomaly rate, not 0.5.
# Notebook 09 explains how these areas are computed, and why the PR area needs a non-linear
# interpolation.
#
# ## What we saw
# * The energy's loss compares data and generated samples; the generator must also keep its entropy
#   high, measured through $I(X;Z)$ with a Deep-InfoMax critic and shuffled codes.
# * In 2-D, where $Z$ is an integral, the entropy term gives the better generator and the better density.
# * MALA in latent space, with the proposal-density correction, refines samples; its acceptance rate
#   falls as the step grows.
# * The energy of an EBM is a ready-made anomaly score.
#
# **References.** R. Kumar, S. Ozair, A. Goyal, A. Courville, Y. Bengio (2019), *Maximum Entropy
# Generators for Energy-Based Models*, arXiv:1901.08508. R. D. Hjelm et al. (2019), *Learning deep
# representations by mutual information estimation and maximization*, arXiv:1808.06670. S. Nowozin,
# B. Cseke, R. Tomioka (2016), *f-GAN*, arXiv:1606.00709. G. O. Roberts, R. L. Tweedie (1996),
# *Exponential convergence of Langevin distributions and their discrete approximations*, Bernoulli 2(4).
# L. Metz et al. (2017), *Unrolled GANs*, arXiv:1611.02163. E. Nalisnick et al. (2019), *Do deep generative
# models know what they don't know?*, arXiv:1810.09136. A. Srivastava et al. (2017), *VEEGAN*,
# arXiv:1705.07761.

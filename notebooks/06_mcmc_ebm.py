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
# # 06 · Where negative examples come from: energy-based models trained with MCMC
#
# **Question.** An energy $E_\theta(x)$ scores answers: low on data, high elsewhere. Learning it needs
# *negative examples*, points where the energy must go up, and finding them is the hard part. Chapter 01
# found them by exact search (Viterbi); chapters 07-10 will train a generator to find them. The classical
# answer, which those generators were invented to replace, is to sample the model itself by Markov chain
# Monte Carlo. How well does learning an energy from negative examples drawn by Markov chain Monte Carlo
# work, what does it cost, and where does it fail?
#
# 1. **The loss functionals** of {cite:t}`lecun2006tutorial`: energy, perceptron, hinge, log and
#    negative log-likelihood losses. Which of them carve the energy and which let it collapse?
# 2. **Maximum likelihood with Langevin negatives**: short-run chains from noise
#    {cite:p}`nijkamp2019learning`, contrastive divergence from the data {cite:p}`hinton2002training` and
#    persistent chains with a replay buffer {cite:p}`du2019implicit`, judged by the exact likelihood that
#    2-D allows.
# 3. **The chains over time**, and where they fail to mix.
# 4. **Chain length and the buffer** on three targets.
# 5. **MNIST**: an energy network whose Langevin samples a digit classifier judges.
# 6. **A control panel** that retrains a 2-D energy in seconds.
#
# Code: `course_lib.functionals` (the losses) and `course_lib.ebm` (chains, buffer, trainer).


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** Energy-based models before GANs: the negative phase needs samples from the model, and MCMC is
# the classical way. Show a Langevin chain moving between wells, then the table of chain length against likelihood:
# short chains give a model that is good only where the chains reach. Chapters 07-10 replace the chains by a
# generator; say so here.

# %% slideshow={"slide_type": "subslide"}
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from course_lib import ebm, evaluation, functionals, is_test, setup_notebook, toys, widgets
from course_lib.exercises import check
from course_lib.data import load_images
from course_lib.energy import EnergyMLP, evaluate_2d
from course_lib.plots import plot_surface_2d, show_images

S, device = setup_notebook(
    seed=0,
    threads=1,  # tiny networks: one thread is faster than two fighting over shared cores
    test=dict(f_steps=40, f_grid=24, hidden=32, ml_steps=30, chain_steps=5, n_eval=300, grid=80,
              mnist_steps=4, mnist_batch=16, mnist_k=3, clf_steps=30, panel_steps=20),
    real=dict(f_steps=1500, f_grid=48, hidden=64, ml_steps=800, chain_steps=20, n_eval=1000, grid=200,
              mnist_steps=1500, mnist_batch=64, mnist_k=20, clf_steps=800, panel_steps=300),
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The loss functionals
#
# For a training example with correct answer $y_i$ and the most offending incorrect answer
# $\bar y_i = \arg\min_{y \neq y_i} E(y)$:
#
# | loss | $L(E, y_i)$ | where the course meets it |
# |---|---|---|
# | energy | $E(y_i)$ | (alone: collapses) |
# | perceptron | $E(y_i) - \min_y E(y)$ | chapter 01, with Viterbi as the min |
# | hinge | $\max(0,\ m + E(y_i) - E(\bar y_i))$ | EBGAN's discriminator (chapter 07), with the generator's samples as $\bar y$ |
# | log | $\log(1 + e^{E(y_i) - E(\bar y_i)})$ | a hinge that never stops pushing |
# | NLL | $E(y_i) + \log \int e^{-E(y)}\,dy$ | maximum likelihood: this chapter's MCMC and MEG (chapter 10) follow its gradient |
#
# A worked example: four answers with energies 0.5, 2, 1.2, 3, the first one correct, so the most
# offending incorrect answer is the third (energy 1.2, which sits only 0.7 above the correct one).

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
e_all = torch.tensor([[0.5, 2.0, 1.2, 3.0]])
e_pos, e_neg = e_all[:, 0], functionals.most_offending(e_all, torch.tensor([[False, True, True, True]]))
for name in functionals.NAMES:
    print(f"{name:10s} loss {functionals.loss(name, e_pos, e_all=e_all, e_neg=e_neg, margin=1.0).item():.4f}")
# hinge: max(0, 1 + 0.5 - 1.2) = 0.3 > 0, so it still pushes; the perceptron loss is 0 (the correct answer already wins)

# %% [markdown] slideshow={"slide_type": "subslide"}
# In 2-D the answers can be a grid over the plane, so every loss can be computed exactly. We train one
# energy network per loss on a ring of eight Gaussians (standard deviation 0.1, wider than the 0.02 of
# chapters 04-05, so that a CPU run of minutes resolves it; `toys.widened`) and measure the **contrast**:
# the mean energy over the box minus the mean energy at the data (0 for a flat, useless energy).
# An answer counts as incorrect when no example of the batch lies within 0.5 of it; the hinge and
# log losses pick the most offending of 64 random incorrect answers per example.

# %% slideshow={"slide_type": "subslide"}
targets = toys.widened()
target = targets["ring8"]
box = ebm.Uniform(target.bounds)
hists, nets = {}, {}
for name in functionals.NAMES:
    torch.manual_seed(0)
    nets[name] = EnergyMLP((2,), hidden=S.hidden, depth=2, confine=4.0).to(device)
    lr = 1e-2 if name in ("hinge", "log") else 1e-3
    hists[name] = ebm.train_with_functional(nets[name], name, target.sample, target.bounds,
                                            ebm.FunctionalConfig(steps=S.f_steps, grid=S.f_grid, lr=lr))
for name, h in hists.items():
    print(f"{name:10s} contrast {h['contrast'][-1]:10.2f} nats   mean energy at the data {h['e_data'][-1]:10.2f}")

# %% slideshow={"slide_type": "subslide"}
def plot_energy(ax, E, target, x_chain=None, **kw):
    """The energy over the plane with the chains' samples on top (there is no generator here, only Markov chains)."""
    plot_surface_2d(ax, E, target, x_chain, label="energy", squash=False, cmap="magma", fake_label="MCMC chain samples", **kw)


fig, axes = plt.subplots(1, 5, figsize=(22, 4.2))
for ax, name in zip(axes, functionals.NAMES):
    plot_energy(ax, nets[name], target, None, n_real=300)
    ax.set_title(f"{name} loss: contrast {hists[name]['contrast'][-1]:.1f}")
plt.tight_layout()
plt.show()
c = {n: h["contrast"][-1] for n, h in hists.items()}
flat = [n for n in functionals.NAMES if c[n] < 0.5]
carved = [n for n in functionals.NAMES if c[n] > 3]
with torch.no_grad():   # where the data sit on the energy loss's surface: the share of the box below their mean energy
    grid_pts = torch.cartesian_prod(*(torch.linspace(lo, hi, 150) for lo, hi in target.bounds)).to(device)
    e_grid = nets["energy"](grid_pts).ravel()
    e_data_mean = nets["energy"](target.sample(1000, torch.Generator().manual_seed(1)).to(device)).mean()
    below = float((e_grid < e_data_mean).float().mean())
    e_centre = float(nets["energy"](torch.zeros(1, 2, device=device)))
display(Markdown(
    f"The energy loss alone leaves contrast {c['energy']:.2f}: it pushes every energy down "
    f"(the mean energy at the data is {hists['energy']['e_data'][-1]:.0f}) and nothing pushes anything up. The "
    f"negative contrast says worse than \"no lower than the rest of the plane\": the data sit *high* on the learned "
    f"energy, on the flank of a hill that peaks inside the ring (energy {e_centre:.0f} at the centre), and "
    f"{100 * below:.0f}% of the box lies below their mean energy. A sampler of this energy would run from the data "
    f"to the corners of the box. The perceptron loss stops at contrast {c['perceptron']:.2f}: its "
    "minimum includes the correct answer, so a flat energy already has zero loss (no margin, as LeCun et al. warn). "
    f"The hinge, log and NLL losses, which push the offending answers up, put the data below the rest of the plane "
    f"(the hinge in eight wells, log and NLL in a ring-shaped valley): contrast "
    f"{c['hinge']:.1f}, {c['log']:.1f} and {c['nll']:.1f} nats."))
if not is_test():
    assert set(flat) == {"energy", "perceptron"}, f"energy and perceptron losses should leave no well, got {c}"
    assert set(carved) == {"hinge", "log", "nll"}, f"the contrastive losses should carve the energy, got {c}"
    # measured: 67% of the box below the data, the centre about 23,000 nats above them
    assert below > 0.55 and e_centre > e_data_mean + 0.1 * abs(float(e_data_mean)), (below, e_centre, float(e_data_mean))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 6.1 (implement): the NLL loss over a set of answers
#
# Write `nll(e_pos, e_all, beta)`: $L = E(y_i) + \frac1\beta \log\sum_y e^{-\beta E(y)}$ for every example, from
# the correct answers' energies `e_pos` (B,) and the energies of all answers `e_all` (B, K); a (B,) tensor.

# %% slideshow={"slide_type": "subslide"}
def nll(e_pos, e_all, beta):
    ### BEGIN SOLUTION
    return e_pos + torch.logsumexp(-beta * e_all, dim=-1) / beta
    ### END SOLUTION


check("6.1", nll)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Where the course meets this family: chapter 01's structured perceptron is the perceptron loss with
# Viterbi as the $\min$ (exact, because the answers form a chain); EBGAN (chapter 07) trains its
# discriminator with the hinge, and its generator *is* the search for $\bar y$; the maximum-entropy
# generator of chapter 10 follows the NLL's gradient, with the generator's samples standing in for
# samples of $p_\theta$. The rest of this chapter follows the NLL's gradient with MCMC instead.
#
# ## 2. Maximum likelihood with Langevin negatives
#
# $\nabla_\theta \mathrm{NLL} = \mathbb{E}_{data}[\nabla_\theta E_\theta] - \mathbb{E}_{p_\theta}[\nabla_\theta E_\theta]$:
# the negative phase needs samples of the model. Langevin dynamics {cite:p}`welling2011bayesian`
# $x \leftarrow x - a\nabla_x E(x) + \sigma\sqrt{2a}\,\varepsilon$ (with $\sigma = 1$ it samples
# $p_\theta$ as $a \to 0$ and the chain grows long) provides them in $k$ steps per update, started
#
# * from uniform noise: **short-run** chains {cite:p}`nijkamp2019learning`;
# * from the batch's data: **contrastive divergence**, CD-$k$ {cite:p}`hinton2002training`;
# * from a **replay buffer** of earlier chains' ends, 5% restarted from noise
#   {cite:p}`du2019implicit`: persistent chains {cite:p}`tieleman2008training` that carry their progress from update
#   to update.
#
# The loss is $\overline{E(x_{data})} - \overline{E(x_{chain})} + \alpha\,\overline{E^2}$, with the
# small penalty $\alpha = 0.1$ of {cite:t}`du2019implicit` on the energies' size. Each model is then
# sampled the way it was trained (its buffer's states, or fresh chains of the same length) and
# scored on the same held-out points with the **exact** NLL ($\log Z$ on a grid) and the mode
# statistics of chapter 04.

# %% slideshow={"slide_type": "subslide"}
def score(tgt, run, tbox):
    """evaluate_2d on the run's own sampler; the chain sampler draws once from the seed, so every run meets the same held-out data."""
    return evaluate_2d(tgt, ebm.sampler(run, tbox), run.E, n=S.n_eval, grid=S.grid)


runs, evals = {}, {}
for init in ebm.INITS:
    torch.manual_seed(0)
    E = EnergyMLP((2,), hidden=S.hidden, depth=2, confine=4.0).to(device)
    runs[init] = ebm.train_ebm(E, target.sample, box, ebm.EBMConfig(
        steps=S.ml_steps, batch_size=128, chain_steps=S.chain_steps, step_size=0.01, lr=2e-3, init=init,
        desc=f"ML, {init} chains"))
    evals[init] = score(target, runs[init], box)
(bx0, bx1), (by0, by1) = target.bounds
uniform_nll = math.log((bx1 - bx0) * (by1 - by0))
print(f"true mixture: NLL {evals['noise']['true_nll']:.2f};  uniform over the box: NLL {uniform_nll:.2f}")
for init, r in evals.items():
    print(f"{init:7s} exact NLL {r['nll']:.2f}  modes {r['modes']}/8  HQ {100 * r['hq']:.0f}%  "
          f"{1000 * runs[init].seconds_per_update:.1f} ms per update")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
for ax, (init, r) in zip(axes, evals.items()):
    plot_energy(ax, runs[init].E, target, r["x_fake"][:500], n_real=300)
    ax.set_title(f"{init} chains: NLL {r['nll']:.2f}, {r['modes']}/8 modes", fontsize=10)
plt.tight_layout()
plt.show()
if not is_test():
    for init, r in evals.items():
        assert r["modes"] >= 6 and r["nll"] < uniform_nll - 1, f"{init} chains should learn the ring: {r['nll']:.2f}, {r['modes']}/8"

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 6.2 (implement): one Langevin step
#
# Write `langevin_step(z, grad, step, noise)`: the unadjusted Langevin update from chains `z` (B, d), the energy's
# gradient `grad` at `z`, the step size $\alpha$ and standard normal `noise` (B, d), so that the chains sample
# $p(z) \propto e^{-U(z)}$.

# %% slideshow={"slide_type": "subslide"}
def langevin_step(z, grad, step, noise):
    ### BEGIN SOLUTION
    return z - step * grad + math.sqrt(2 * step) * noise
    ### END SOLUTION


check("6.2", langevin_step)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 6.3 (implement): MALA's proposal density
#
# MALA accepts a Langevin proposal with the Metropolis-Hastings ratio, which needs the proposal density.
# Write `log_q(z_to, z_from, grad_from, step)`: $\log q(z'\mid z)$ up to a constant, for the proposal
# $z' \sim N(z - \alpha\nabla U(z),\ 2\alpha I)$; one value per chain, a (B,) tensor.

# %% slideshow={"slide_type": "subslide"}
def log_q(z_to, z_from, grad_from, step):
    ### BEGIN SOLUTION
    return -(z_to - z_from + step * grad_from).pow(2).sum(1) / (4 * step)
    ### END SOLUTION


check("6.3", log_q)

# %% [markdown] slideshow={"slide_type": "subslide"}
# All three learn the ring to a similar likelihood at this chain length. The cost of an update is
# dominated by the $k$ Langevin steps, each a forward and backward pass of the energy through the whole
# batch, so the three cost about the same; the differences show up when the chains get short (section 4).
#
# ## 3. The chains over time, and where they fail to mix
#
# Fresh chains from uniform noise on the buffer-trained energy, drawn every few steps; then chains
# started all at one mode of the ring: how many leave it, and how soon?

# %% slideshow={"slide_type": "subslide"}
E_buf = runs["buffer"].E
fresh = ebm.ChainSampler(E_buf, box, steps=S.chain_steps * 20, step_size=0.01).sample(
    500, torch.Generator().manual_seed(3), keep_every=S.chain_steps)
show = [0, 1, 4, len(fresh.trace) - 1]
fig, axes = plt.subplots(1, len(show), figsize=(5 * len(show), 4.2))
for ax, k in zip(axes, show):
    plot_energy(ax, E_buf, target, fresh.trace[k], n_real=200)
    ax.set_title(f"fresh chains after {k * S.chain_steps} Langevin steps")
plt.tight_layout()
plt.show()

start = target.centers[0].repeat(500, 1)
stuck = ebm.langevin_chains(E_buf, start, 0.01, S.chain_steps * 20, generator=torch.Generator().manual_seed(4),
                            keep_every=S.chain_steps)
home = [(torch.cdist(x, target.centers).argmin(1) == 0).float().mean().item() for x in stuck.trace]
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot([S.chain_steps * i for i in range(len(home))], [100 * h for h in home], marker="o", label="chains nearest their start mode")
ax.axhline(100 / 8, color="k", ls="--", label="a well-mixed chain (1 in 8)")
ax.set(xlabel="Langevin steps", ylabel="% still nearest to the start mode", ylim=(0, 105),
       title="500 chains started at one mode of the ring")
ax.legend()
plt.show()
k_home, end_home = home[1], home[-1]
t_half = next((S.chain_steps * i for i, h in enumerate(home) if h < 0.5), None)   # first trace point with half gone
radius = float(target.centers.norm(dim=1).mean())
angle = torch.linspace(0, 2 * math.pi, 721)[:-1]
with torch.no_grad():   # the learned energy round the circle through the modes, and at the ring's centre
    e_circle = E_buf(radius * torch.stack([angle.cos(), angle.sin()], 1).to(device)).ravel()
    e_mid = float(E_buf(torch.zeros(1, 2, device=device)))
ring_range, rim = float(e_circle.max() - e_circle.min()), e_mid - float(e_circle.mean())
half = (f"after {t_half} steps fewer than half are ({100 * home[t_half // S.chain_steps]:.0f}%)" if t_half is not None
        else f"at no point of these {S.chain_steps * (len(home) - 1)} steps have half of them left")
display(Markdown(
    f"After one training chain's length (k = {S.chain_steps} steps) {100 * k_home:.0f}% of the chains are still nearest to "
    f"their start mode; {half}; after {S.chain_steps * 20} steps, twenty chain lengths, {100 * end_home:.0f}% are, where a "
    f"well-mixed chain would keep {100 / 8:.1f}%. There are no wells to cross: round the circle through the eight modes "
    f"the learned energy varies by only {ring_range:.1f} nats, against {rim:.0f} nats from that circle up to the ring's "
    "centre. The energy is an annulus, a ring-shaped valley (the figures of section 2 show it too), and the chains leave "
    "their start by drifting along it. What is slow is the rest: spreading evenly round the whole ring by diffusion "
    "takes longer than twenty chain lengths, and one update's k steps move most chains only a little way. So the "
    "*proportions* of the modes reach the model mainly through where the chains start: noise, the data (CD) or the "
    "buffer's long history."))
if not is_test():
    assert k_home > 0.5, "most short chains should stay near the mode they start at for one chain's length"
    assert end_home > 1 / 8 + 0.05, "even twenty chain lengths should not mix the ring"
    # measured: half gone after 80 steps; the circle varies by 1.0 nats, the centre is 28 nats above it
    assert t_half is not None and t_half <= 10 * S.chain_steps, home
    assert ring_range < 0.2 * rim, (ring_range, rim)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Chain length and the buffer, on three targets
#
# Short chains from noise must reach the data within $k$ steps; persistent chains carry their
# progress over from update to update. The same budget, with $k = 5$ and $k = 20$ Langevin steps per
# update, on the ring, the 5 x 5 grid (spacing 1) and the swiss roll. The $k = 20$ runs on the ring are
# those of section 2.

# %% slideshow={"slide_type": "subslide"}
k_short = max(1, S.chain_steps // 4)
table = {}
for tname, tgt in targets.items():
    tbox = ebm.Uniform(tgt.bounds)
    for init in ebm.INITS:
        for k in (k_short, S.chain_steps):
            if tname == "ring8" and k == S.chain_steps:
                table[(tname, init, k)] = evals[init]
                continue
            torch.manual_seed(0)
            E = EnergyMLP((2,), hidden=S.hidden, depth=2, confine=4.0).to(device)
            run = ebm.train_ebm(E, tgt.sample, tbox, ebm.EBMConfig(
                steps=S.ml_steps, batch_size=128, chain_steps=k, step_size=0.01, lr=2e-3, init=init,
                desc=f"{tname}, {init}, k={k}"))
            table[(tname, init, k)] = score(tgt, run, tbox)
print(f"{'target':10s} {'chains':7s} {'k':>3s} {'NLL':>7s} {'true':>6s} {'modes':>6s} {'HQ %':>5s}")
for (tname, init, k), r in table.items():
    modes = f"{r['modes']}/{r['n_modes']}" if "modes" in r else "-"
    hq = f"{100 * r['hq']:.0f}" if "hq" in r else "-"
    print(f"{tname:10s} {init:7s} {k:3d} {r['nll']:7.2f} {r['true_nll']:6.2f} {modes:>6s} {hq:>5s}")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
for ax, tname in zip(axes, targets):
    for init, mk in zip(ebm.INITS, "os^"):
        ax.plot([k_short, S.chain_steps], [table[(tname, init, k)]["nll"] for k in (k_short, S.chain_steps)],
                marker=mk, label=f"{init} chains")
    if targets[tname].has_density:
        ax.axhline(table[(tname, "noise", k_short)]["true_nll"], color="k", ls="--", label="the true density")
    ax.set(xlabel="chain length k (Langevin steps per update)", ylabel="exact NLL on held-out data (nats)", title=tname)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

T = lambda tname, init, k: table[(tname, init, k)]  # noqa: E731
ring_short, ring_long = T("ring8", "noise", k_short), T("ring8", "noise", S.chain_steps)
buf_short = T("ring8", "buffer", k_short)
grid_best = max(T("grid25", i, k)["modes"] for i in ebm.INITS for k in (k_short, S.chain_steps))
swiss = {i: T("swissroll", i, S.chain_steps)["nll"] for i in ebm.INITS}
display(Markdown("\n".join([
    f"* **Short chains from noise need length.** On the ring, short-run chains of k = {k_short} cover "
    f"{ring_short['modes']}/8 modes; with k = {S.chain_steps}, {ring_long['modes']}/8.",
    f"* **The buffer makes short chains enough.** With k = {k_short} the persistent chains cover "
    f"{buf_short['modes']}/8: each chain continues where an earlier one stopped.",
    f"* **The grid defeats every variant at this budget:** at most {grid_best}/25 wells are covered; the energy finds "
    "the square but not the wells in it (compare the MEG of chapter 10 on the same target).",
    f"* **On the swiss roll** (no wells, a thin curved sheet) CD-k has the best likelihood ({swiss['data']:.2f} nats, "
    f"against {swiss['buffer']:.2f} for the buffer and {swiss['noise']:.2f} for short runs from noise): its chains "
    "start on the data and only explore nearby, which is what a thin manifold needs."
    if swiss["data"] < min(swiss["noise"], swiss["buffer"]) else
    f"* **On the swiss roll** the exact NLLs are {swiss['data']:.2f} (CD), {swiss['buffer']:.2f} (buffer) and "
    f"{swiss['noise']:.2f} (noise).",
])))
if not is_test():
    assert ring_short["modes"] + 3 <= ring_long["modes"], "short chains from noise should cover fewer ring modes"
    assert buf_short["modes"] >= 7, "the buffer should make short chains cover the ring"
    assert grid_best <= 12, "no chain variant should resolve the grid at this budget"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. MNIST: an energy over images
#
# The same trainer on digits: an MLP energy on the 784 pixels (two hidden layers of 256 smooth SiLU
# units, so that $\nabla_x E$ varies smoothly), Langevin chains kept inside $[0, 1]$ (a clamp after every
# step) and a replay buffer, as {cite:t}`du2019implicit` do on images. On images the step and the noise are
# decoupled: a step $a = 1$ on the gradient with noise $\sigma\sqrt{2a} = 0.007$, far below the model's
# temperature. The chains are then a search for low energy with a little noise, the usual practice in
# image EBMs ({cite:t}`nijkamp2019learning` call it non-convergent MCMC). (A small convolutional energy gave
# digits of about the same quality at three times the cost per update on this CPU.)
# The digits are judged by the course's digit judge (`evaluation.course_judge`, chapter 11): a CNN trained
# on the 60,000 training digits with a class for "not a digit" and a reject option for images unlike any digit,
# so noise is not counted as a digit.

# %% slideshow={"slide_type": "subslide"}
mnist = load_images("mnist")
print(mnist.note)
img_box = ebm.Uniform(shape=(1, 28, 28), lo=0.0, hi=1.0)
torch.manual_seed(0)
E_img = EnergyMLP((1, 28, 28), hidden=256, depth=2).to(device)
img_run = ebm.train_ebm(E_img, mnist.sample, img_box, ebm.EBMConfig(
    steps=S.mnist_steps, batch_size=S.mnist_batch, lr=1e-4, chain_steps=S.mnist_k, step_size=1.0,
    noise=0.005, clamp=(0.0, 1.0), buffer_size=5000, init="buffer", desc="MNIST energy"))
judge = evaluation.course_judge("mnist", device=device)
print(judge.summary)
buf_digits = img_run.buffer[-1000:]
noise_digits = ebm.sampler(img_run, img_box, from_buffer=False).sample(500, torch.Generator().manual_seed(1))
verdict = {"replay buffer": judge(buf_digits), f"fresh chains from noise (k = {S.mnist_k})": judge(noise_digits),
           "uniform noise": judge(img_box(500, torch.Generator().manual_seed(2)))}
for what, v in verdict.items():
    print(f"{what:32s} {v['text']}")
print(f"{1000 * img_run.seconds_per_update:.0f} ms per update ({S.mnist_k} Langevin steps on {S.mnist_batch} images)")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
show_images(axes[0], mnist.images[:64], title="real digits")
show_images(axes[1], buf_digits[:64], title="the replay buffer's chains")
show_images(axes[2], noise_digits[:64], title=f"fresh chains from noise, k = {S.mnist_k}")
plt.show()
vb, vn = verdict["replay buffer"], verdict[f"fresh chains from noise (k = {S.mnist_k})"]
display(Markdown(
    f"The persistent chains, which have had many updates' worth of Langevin steps, are {100 * vb['recognisable']:.0f}% "
    f"recognisable digits over {vb['classes']} classes ({vb['entropy_bits']:.2f} bits); fresh chains of only "
    f"{S.mnist_k} steps from noise are {100 * vn['recognisable']:.0f}% recognisable, over {vn['classes']} classes "
    f"({vn['entropy_bits']:.2f} bits): the energy alone is not a fast sampler, and its samples are only as good as the "
    "chains that produce them."))
if not is_test():
    assert vb["recognisable"] > 0.25 and vb["classes"] >= 8, vb["text"]
    assert vb["recognisable"] > vn["recognisable"] + 0.1, "the buffer's long chains should beat fresh short ones"
    assert vn["recognisable"] < 0.02 and verdict["uniform noise"]["recognisable"] < 0.02, \
        f"the judge must not count noise as digits: {vn['text']}"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Try it: a 2-D energy trained by Langevin chains
#
# Choose the target, where the chains start (the buffer on or off, or CD), their length $k$, the step $a$
# and the noise $\sigma$; the button retrains (a few seconds) and draws the energy with the chains' end
# points on top. Try $\sigma = 0$ (gradient descent: every chain falls into the nearest well, and the
# energy learns from a collapsed sample), a tiny $k$ without the buffer, or a large step.

# %% slideshow={"slide_type": "subslide"}
widgets.ebm_playground(steps=S.panel_steps)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
display(Markdown("\n".join([
    f"* Of LeCun et al.'s losses, the energy loss collapses (contrast {c['energy']:.2f}: the data sit high on a hill of "
    f"the learned energy, {100 * below:.0f}% of the box below them) and the perceptron loss "
    f"has no margin ({c['perceptron']:.2f}); hinge, log and NLL put the data low (contrast {c['hinge']:.1f}, {c['log']:.1f}, "
    f"{c['nll']:.1f} nats).",
    f"* Maximum likelihood with {S.chain_steps}-step Langevin chains learns the widened ring with every start "
    f"(exact NLL {min(r['nll'] for r in evals.values()):.2f}-{max(r['nll'] for r in evals.values()):.2f} against "
    f"{evals['noise']['true_nll']:.2f} for the truth); an update costs {S.chain_steps} forward and backward passes.",
    f"* The energies learned by maximum likelihood are annuli, not eight wells (round the ring the buffer-trained one "
    f"varies by {ring_range:.1f} nats). "
    f"Chains started at one mode stay near it for one chain's length ({100 * k_home:.0f}%), "
    + (f"half of them have left after {t_half} steps, " if t_half is not None else "")
    + f"but {100 * end_home:.0f}% are still nearest to it after twenty chain lengths ({100 / 8:.1f}% if mixed).",
    f"* Short chains from noise need length ({ring_short['modes']}/8 → {ring_long['modes']}/8 modes); the buffer "
    f"makes them enough ({buf_short['modes']}/8); nothing resolves the grid ({grid_best}/25 at best).",
    f"* On MNIST the buffer's chains give {100 * vb['recognisable']:.0f}% recognisable digits over {vb['classes']} classes; "
    f"fresh short chains {100 * vn['recognisable']:.0f}% over {vn['classes']}.",
    "* Chapter 07 replaces the chains by a generator trained against a hinge loss; chapter 10 (MEG) compares "
    "a generator with these chains on the same targets and the same wall clock.",
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** Y. Du, I. Mordatch (2019), *Implicit Generation and Modeling with Energy-Based Models*, Advances in
# Neural Information Processing Systems (NeurIPS), arXiv:1903.08689. G. E. Hinton (2002), *Training Products of Experts
# by Minimizing Contrastive Divergence*, Neural Computation. Y. LeCun, S. Chopra, R. Hadsell, M. Ranzato, F. J. Huang
# (2006), *A Tutorial on Energy-Based Learning*, Predicting Structured Data. E. Nijkamp, M. Hill, S.-C. Zhu, Y. N. Wu
# (2019), *Learning Non-Convergent Non-Persistent Short-Run MCMC Toward Energy-Based Model*, Advances in Neural
# Information Processing Systems (NeurIPS), arXiv:1903.12370. T. Tieleman (2008), *Training Restricted Boltzmann
# Machines using Approximations to the Likelihood Gradient*, International Conference on Machine Learning (ICML). M.
# Welling, Y. W. Teh (2011), *Bayesian Learning via Stochastic Gradient Langevin Dynamics*, International Conference on
# Machine Learning (ICML).

# %% [markdown] slideshow={"slide_type": "fragment"}
# Next: [chapter 07, EBGAN and MAGAN](07_ebgan_and_magan.ipynb): a generator, trained against a hinge-loss
# energy, takes the place of the chains.

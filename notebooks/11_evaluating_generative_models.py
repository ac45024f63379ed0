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
# # 11 · Evaluating generative models
#
# **Question.** We have trained GANs, energy-based GANs and maximum-entropy EBMs. How do we tell which generative model
# is *better*, and by what number? This chapter goes through the usual answers — likelihood, mode coverage,
# classifier-based scores, detection curves — and for each shows what it measures, how to compute it correctly, and how
# it can mislead. Main sources: {cite:t}`theis2016note`; {cite:t}`davis2006relationship`; {cite:t}`salimans2016improved`
# and {cite:t}`heusel2017gans` for the classifier-based scores.
#
# Three of these tools were already met briefly where earlier chapters first needed them: mode
# statistics in chapter 04, the classifier judge of MNIST samples in chapter 07 and PR-AUC in
# chapter 10. This chapter goes deeper: what each one measures, how to compute it, and where it misleads.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** Evaluation is where students are most easily misled: each section shows a score, how to compute
# it right, and how it can be fooled (the dequantisation cheat, a judge fooled by noise). Pause on the judge's noise
# rejection table: it is why every MNIST chapter's 'recognisable' share can be trusted.

# %% slideshow={"slide_type": "subslide"}
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from sklearn.mixture import GaussianMixture

from course_lib import is_test, setup_notebook
from course_lib.exercises import check
from course_lib.data import load_images, official_splits
from course_lib.energy import EnergyMLP, ImageMLPGenerator, MaxEntObjective, StatisticsNetwork
from course_lib.evaluation import (NON_DIGITS, bits_per_dim, classifier_score, course_judge, dequantization_bound,
                                   fit_mnist_classifier, frechet_distance, judge_digits, nll_rescaled, pr_auc, pr_curve,
                                   predict, roc_auc, roc_curve)
from course_lib.losses import GANObjective
from course_lib.metrics import mode_stats
from course_lib.models import ConvGenerator, Discriminator, Generator
from course_lib.plots import plot_samples, show_images
from course_lib.toys import ring8
from course_lib.train import TrainConfig, train

t_notebook = time.perf_counter()
S, device = setup_notebook(
    seed=0,
    threads=1,  # these networks are tiny: one thread is faster than two fighting over shared cores
    test=dict(n_toy=2000, toy_steps=40, toy_batch=128, n_pixels=20000, clf_steps=30, clf_batch=64,
              gan_steps=20, conv_steps=10, maxent_steps=20, img_batch=32, img_hidden=64, n_heldout=1000, n_score=500),
    real=dict(n_toy=5000, toy_steps=2000, toy_batch=256, n_pixels=200000, clf_steps=800, clf_batch=128,
              gan_steps=3000, conv_steps=1500, maxent_steps=3000, img_batch=64, img_hidden=256, n_heldout=2000, n_score=1000),
    full=dict(gan_steps=10000, conv_steps=5000, maxent_steps=10000, clf_steps=3000),
)
Z_DIM = 16  # latent size of every image generator below
print(f"image generators in this chapter: z of {Z_DIM} dimensions -> x of 28 x 28 = 784 pixels")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Why likelihood is hard for GANs — and not the whole story
#
# A GAN's generator defines $p_G$ only implicitly: we can sample $x = G(z)$ but not evaluate $p_G(x)$.
# Worse, when $z$ has fewer dimensions than $x$ (here `Z_DIM`, printed above, against 784 pixels for
# MNIST), $p_G$ lives on a lower-dimensional surface and has no density at all: almost every real
# image has likelihood zero, NLL $=+\infty$. Energy-based models have a density, but only up to the
# intractable $Z_\theta$ (notebook 10 computed it on a 2-D grid; in 784 dimensions no grid exists).
#
# Even where likelihood is available it can disagree with sample quality {cite:p}`theis2016note`. Two
# exactly computable models of the ring of eight Gaussians make the point: a "memoriser" (a narrow
# Gaussian on each of 200 training points — its samples are copies of data) and one broad Gaussian
# (its samples are a blurry cloud).

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
target = ring8(std=0.1)
g = torch.Generator().manual_seed(0)
x_train, x_test = target.sample(200, g), target.sample(S.n_toy, g)

def nll_memoriser(x, width):
    """-log (1/n) sum_i N(x; x_i, width^2 I) in 2-D."""
    d2 = torch.cdist(x, x_train) ** 2
    log_n = -0.5 * d2 / width**2 - 2 * math.log(width) - math.log(2 * math.pi)
    return float(-(torch.logsumexp(log_n, 1) - math.log(len(x_train))).mean())

mu, var = x_train.mean(0), x_train.var(0)
nll_broad = float(-torch.distributions.Normal(mu, var.sqrt()).log_prob(x_test).sum(1).mean())
nll_mem = {width: nll_memoriser(x_test, width) for width in (0.001, 0.01, 0.1)}
for width, nll in nll_mem.items():
    print(f"memoriser, width {width:<5}: test NLL {nll:8.3f} nats   (samples: copies of training points)")
print(f"one broad Gaussian      : test NLL {nll_broad:8.3f} nats   (samples: a blurry disc)")
print(f"true mixture            : test NLL {float(-target.log_prob(x_test).mean()):8.3f} nats")
assert nll_mem[0.001] > 10 * nll_broad                          # the sharpest memoriser loses badly
assert nll_mem[0.001] > nll_mem[0.01] > nll_mem[0.1]             # widening helps

# %% [markdown] slideshow={"slide_type": "fragment"}
# The narrowest memoriser produces perfect-looking samples yet has a far *worse* test NLL than the
# blurry broad Gaussian; widening it helps the NLL while its samples stay copies of the training set.
# Likelihood measures how much mass a model puts on unseen data, not whether its samples look right.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. NLL of rescaled data
#
# Models are often trained on rescaled inputs $\tilde x = x/\sigma$ (pixels divided by 255, say). A
# density transforms with the Jacobian: $p(x) = \sigma^{-k}\,\tilde p(x/\sigma)$ for $k$-dimensional
# $x$, so
#
# $$\mathrm{NLL}(x) = \mathrm{NLL}(\tilde x) + k\log\sigma .$$
#
# Reporting $\mathrm{NLL}(\tilde x)$ as if it were the NLL of the data is off by $k\log\sigma$ — for
# MNIST rescaled by $1/255$ that is $784\cdot\log 255 \approx 4{,}344$ nats. Below, a Gaussian mixture is
# fitted to the ring data scaled by $1/\sigma$ for several $\sigma$; the raw numbers change with
# $\sigma$, the corrected ones do not.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
x_np, xt_np = x_test[: S.n_toy // 2].double().numpy(), x_test[S.n_toy // 2:].double().numpy()
rows = []
for sigma in (0.1, 1.0, 10.0, 255.0):
    gm = GaussianMixture(8, covariance_type="spherical", random_state=0, reg_covar=1e-12).fit(x_np / sigma)
    scaled = float(-gm.score_samples(xt_np / sigma).mean())
    rows.append((sigma, scaled, nll_rescaled(scaled, sigma, k=2)))
    print(f"sigma = {sigma:6.1f}:  NLL of x/sigma = {scaled:8.3f}   corrected NLL of x = {rows[-1][2]:.3f} nats")
corrected = [r[2] for r in rows]
assert max(corrected) - min(corrected) < 1e-3

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Discrete data and the dequantisation bound
#
# Pixels are integers $0,\dots,255$. A continuous density can put arbitrarily tall spikes on the
# integers and drive the NLL of integer data to $-\infty$ — a meaningless "improvement". The fix
# (section 3.1 of {cite:t}`theis2016note`) is to add uniform noise, $\tilde x = x + u$, $u\sim U[0,1)^k$, and to
# evaluate (and train) the continuous density on $\tilde x$. By Jensen's inequality,
#
# $$-\mathbb{E}_{x,u}\big[\log p(x+u)\big] \;\ge\; -\mathbb{E}_x\big[\log P(x)\big],\qquad P(x) = \int_{[0,1)^k} p(x+u)\,du,$$
#
# so the continuous NLL of dequantised data is an upper bound on the NLL of a proper discrete model
# $P$, and no spike can push it below the data's discrete entropy. We check this on MNIST pixel values
# (pooled into one 1-D sample) with the cheating family itself: at each integer $j$ a Gaussian spike
# of width $s$ centred *on* $j$, weighted by the frequency of $j$.

# %% slideshow={"slide_type": "subslide"}
data = load_images("mnist")
print(data.note)
pix = (data.images.flatten()[torch.randperm(data.images.numel(), generator=torch.Generator().manual_seed(0))[: S.n_pixels]] * 255).round()
freq = torch.bincount(pix.long(), minlength=256).double() / len(pix)
support = torch.nonzero(freq).squeeze(1)
entropy = float(-(freq[support] * freq[support].log()).sum())

def spike_model(s):
    normal = torch.distributions.Normal(support.double(), torch.tensor(s, dtype=torch.float64))
    def log_p(x):  # (N,) -> (N,)
        return torch.logsumexp(normal.log_prob(x.double()[:, None]) + freq[support].log(), dim=1)
    def discrete_nll(x_int):  # P(j) = integral of p over [j, j+1)
        mass = (normal.cdf(x_int.double()[:, None] + 1) - normal.cdf(x_int.double()[:, None])) @ freq[support]
        return float(-mass.clamp_min(1e-300).log().mean())
    return log_p, discrete_nll

print(f"entropy of the pixel values (the best possible discrete NLL): {entropy:.3f} nats = {bits_per_dim(entropy, 1):.3f} bits")
raw, deq = [], []
for s in (0.3, 0.1, 0.01, 0.001):
    log_p, discrete_nll = spike_model(s)
    on_integers = float(-log_p(pix).mean())
    bound = dequantization_bound(log_p, pix, n_draws=2, generator=torch.Generator().manual_seed(1))
    raw.append(on_integers), deq.append(bound)
    print(f"width {s:<6}: NLL on raw integers {on_integers:9.3f}   dequantised (bound) {bound:7.3f}   "
          f"discrete NLL {discrete_nll(pix):6.3f}")
    assert bound >= discrete_nll(pix) >= entropy - 1e-6
    assert s > 0.1 or on_integers < entropy  # the cheat beats the best honest discrete model
assert all(a > b for a, b in zip(raw, raw[1:])) and raw[-1] < 0   # narrower spikes: lower raw NLL, even negative
assert all(a < b for a, b in zip(deq, deq[1:]))                   # ... and a worse honest bound

# %% [markdown] slideshow={"slide_type": "fragment"}
# On the raw integers the NLL falls with every narrowing of the spikes, without limit (it goes negative:
# a density can exceed 1) — a continuous model "wins" by cheating. On dequantised data the same models are
# judged honestly: the bound always stays above the discrete NLL, which stays above the entropy, and
# narrow spikes now *hurt*, because most of each unit interval gets almost no density. (Divide nats by $k \log 2$ for the "bits per dimension" papers report.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Mode coverage and the high-quality fraction
#
# When the target is a known mixture, two counts say a lot: how many modes receive samples (modes
# covered) and what share of samples lies near some mode (high-quality fraction)
# {cite:p}`srivastava2017veegan`. They separate a generator that drops modes from one that spreads
# between them. We train a GAN and a maximum-entropy EBM generator {cite:p}`kumar2019maximum`
# (notebook 10) on the ring for the same number of steps. (This ring is wider, std 0.1, than the std-0.02
# rings of chapters 04-09, so its counts do not compare with theirs.)

# %% slideshow={"slide_type": "subslide"}
cfg_toy = TrainConfig(steps=S.toy_steps, batch_size=S.toy_batch, lr_d=1e-3, lr_g=1e-3, betas=(0.5, 0.9))
torch.manual_seed(0)
G_gan, D_gan = Generator(2, 2, hidden=64, depth=2).to(device), Discriminator(2, hidden=64, depth=2).to(device)
train(G_gan, D_gan, target.sample, GANObjective("non_saturating"), cfg_toy)
torch.manual_seed(0)
G_me, E_me = Generator(2, 2, hidden=64, depth=2).to(device), EnergyMLP((2,), hidden=64, depth=2).to(device)
train(G_me, E_me, target.sample, MaxEntObjective(StatisticsNetwork((2,), 2, hidden=64, depth=2).to(device), lam=0.1), cfg_toy)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
toy_stats = {}
for ax, (name, G) in zip(axes, {"GAN (non-saturating)": G_gan, "MaxEnt EBM generator": G_me}.items()):
    x = G.sample(2500, torch.Generator().manual_seed(3))
    toy_stats[name] = st = mode_stats(x, target.centers, target.std)
    print(f"{name:22s}: {st}")
    plot_samples(ax, target, x[:1000], title=f"{name}\n{st.modes_covered}/8 modes, HQ {100 * st.high_quality_fraction:.0f}%")
plt.tight_layout()
plt.show()

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
# two hand-made samplers at the extremes: one mode drawn exactly, and every mode blurred
g_demo = torch.Generator().manual_seed(4)
demo = {"one mode, exactly": target.centers[:1] + target.std * torch.randn(2500, 2, generator=g_demo),
        "all modes, blurred": target.sample(2500, g_demo) + 3 * target.std * torch.randn(2500, 2, generator=g_demo)}
demo_stats = {name: mode_stats(x, target.centers, target.std) for name, x in demo.items()}
for name, st in demo_stats.items():
    print(f"{name:22s}: {st}")
one, blur = demo_stats.values()
assert one.modes_covered < blur.modes_covered and one.high_quality_fraction > blur.high_quality_fraction

# %% slideshow={"slide_type": "subslide"}
gan, me = toy_stats["GAN (non-saturating)"], toy_stats["MaxEnt EBM generator"]
text = (f"The GAN covers {gan.modes_covered}/8 modes with {100 * gan.high_quality_fraction:.0f}% high-quality samples, "
        f"the maximum-entropy generator {me.modes_covered}/8 with {100 * me.high_quality_fraction:.0f}%. ")
d_modes, d_hq = gan.modes_covered - me.modes_covered, gan.high_quality_fraction - me.high_quality_fraction
if d_modes * d_hq < 0:
    text += "The two numbers disagree on which model is better: one counts the modes found, the other how tightly the samples sit on them. "
else:
    text += "Here the two numbers do not contradict each other. "
text += (f"They can: the sampler that draws one mode exactly covers {one.modes_covered}/8 modes with "
         f"{100 * one.high_quality_fraction:.0f}% high-quality samples, the one that blurs every mode {blur.modes_covered}/8 "
         f"with {100 * blur.high_quality_fraction:.0f}%. Each number alone would call a different one the better generator.")
display(Markdown(text))

# %% [markdown] slideshow={"slide_type": "fragment"}
# Both numbers need the true modes, so they exist only for synthetic targets. For images, the next
# best thing is a classifier that knows the classes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Classifier-based scores on MNIST
#
# We train a small CNN classifier on the MNIST training split (less a validation part that checks it
# during development) and keep the official test split, which neither the classifier nor any
# generator below ever sees, to measure its accuracy and to serve as the "real" reference images.
#
# * **Inception-Score analogue** {cite:p}`salimans2016improved`, with our classifier instead of Inception:
#   $\mathrm{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big)$, $p(y) = \mathbb{E}_x\, p(y\mid x)$.
#   It is high when each sample is classified confidently *and* the classes are balanced; it lies in
#   $[1, 10]$.
# * **Fréchet distance** on the classifier's 64 penultimate features (the "FID" of {cite:t}`heusel2017gans`
#   uses Inception): fit Gaussians $(\mu_r, \Sigma_r)$ to real and $(\mu_g, \Sigma_g)$ to generated features;
#   $\mathrm{FD} = \|\mu_r - \mu_g\|^2 + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)$.
#   Lower is better; it compares whole distributions, so it sees missing classes and lack of variety.

# %% slideshow={"slide_type": "subslide"}
trn, test = official_splits("mnist", n_fallback=S.n_heldout)  # train on the training split, score on the test split
if trn.split != "train":
    print(trn.note)  # an old offline copy with the test split alone: it is cut in two instead
judge = fit_mnist_classifier(trn.images, trn.labels, n_heldout=S.n_heldout, steps=S.clf_steps, batch_size=S.clf_batch,
                             seed=0, device=device)  # its n_heldout held-out digits: a validation part of the training split
clf, x_trn = judge.model, trn.images[judge.train]
x_held, y_held = test.images[: S.n_heldout], test.labels[: S.n_heldout]  # the official test split's first digits
p_held, f_held = predict(clf, x_held)  # class probabilities and features of the held-out digits
test_accuracy = float((p_held.argmax(1) == y_held).float().mean())
print(f"classifier accuracy on {len(x_held):,} digits of the official test split: {100 * test_accuracy:.1f}% "
      f"(on {len(judge.held):,} validation digits of the training split: {100 * judge.accuracy:.1f}%)")
if not is_test():
    assert test_accuracy > 0.95

# %% [markdown] slideshow={"slide_type": "fragment"}
# Now the course's models, trained on the same training part: a GAN with MLP networks, a GAN with the
# DCGAN-style convolutional generator of notebook 07 {cite:p}`radford2016unsupervised`, and the
# maximum-entropy EBM generator of notebook 10 — all with the one trainer.

# %% slideshow={"slide_type": "subslide"}
def sample_trn(n, gen):
    return x_trn[torch.randint(len(x_trn), (n,), generator=gen)]

img_cfg = lambda steps: TrainConfig(steps=steps, batch_size=S.img_batch, lr_d=5e-4, lr_g=5e-4, betas=(0.5, 0.9))
models = {}
torch.manual_seed(0)
G = ImageMLPGenerator(z_dim=Z_DIM, hidden=S.img_hidden).to(device)
D = EnergyMLP((1, 28, 28), hidden=S.img_hidden, depth=2).to(device)  # an MLP critic: one logit per image
train(G, D, sample_trn, GANObjective("non_saturating"), img_cfg(S.gan_steps))
models["GAN (MLP)"] = G
torch.manual_seed(0)
G = ConvGenerator(z_dim=Z_DIM).to(device)
D = EnergyMLP((1, 28, 28), hidden=S.img_hidden, depth=2).to(device)
train(G, D, sample_trn, GANObjective("non_saturating"), img_cfg(S.conv_steps))
models["GAN (conv generator)"] = G
torch.manual_seed(0)
G = ImageMLPGenerator(z_dim=Z_DIM, hidden=S.img_hidden).to(device)
E = EnergyMLP((1, 28, 28), hidden=S.img_hidden, depth=2).to(device)
T = StatisticsNetwork((1, 28, 28), z_dim=Z_DIM, hidden=S.img_hidden, depth=2).to(device)
train(G, E, sample_trn, MaxEntObjective(T, lam=1.0), img_cfg(S.maxent_steps))
models["MaxEnt EBM generator"] = G

# %% slideshow={"slide_type": "subslide"}
assert 2 * S.n_score <= len(x_held), "n_score must be at most half of n_heldout"
f_ref = f_held[S.n_score:]  # the reference: real held-out digits not used as a sample below
gen = torch.Generator().manual_seed(5)
samples = {"held-out real digits": x_held[: S.n_score],
           "training images (a memoriser)": x_trn[: S.n_score],
           "uniform noise": torch.rand(S.n_score, 1, 28, 28, generator=gen)}
samples.update({name: G.sample(S.n_score, gen) for name, G in models.items()})
scores, spread = {}, {}
print(f"{'samples':32s} {'IS-analogue':>11s} {'FD':>9s} {'pixel spread':>13s}")
for name, x in samples.items():
    p, f = predict(clf, x)
    scores[name] = (classifier_score(p), frechet_distance(f_ref, f))
    spread[name] = float(x.cpu().flatten(1).std(0).mean())  # per-pixel std over the samples: ~0 when all look alike
    print(f"{name:32s} {scores[name][0]:11.3f} {scores[name][1]:9.3f} {spread[name]:13.3f}")
if not is_test():
    # no model beats real data; at least two of the three beat noise (one run each: the MLP GAN collapsed on one
    # processor and not on another, and the text below names a failed model as failed)
    assert all(scores[name][1] > scores["held-out real digits"][1] for name in models)
    assert sum(scores[name][1] < scores["uniform noise"][1] for name in models) >= 2, scores

fig, axes = plt.subplots(1, len(models) + 1, figsize=(4.2 * (len(models) + 1), 4.4))
show_images(axes[0], x_held[:36], nrow=6, title="held-out real digits")
for ax, (name, G) in zip(axes[1:], models.items()):
    show_images(ax, samples[name][:36], nrow=6, title=f"{name}\nIS {scores[name][0]:.2f}, FD {scores[name][1]:.1f}")
plt.tight_layout()
plt.show()

# %% slideshow={"slide_type": "subslide"}
real, mem, noise = scores["held-out real digits"], scores["training images (a memoriser)"], scores["uniform noise"]
failed = [n for n in models if scores[n][1] > (noise[1] + real[1]) / 2]  # FD closer to noise's than to real digits'
working = [n for n in models if n not in failed]
if not is_test():
    assert mem[0] > 0.9 * real[0] and mem[1] < 0.5 * min(scores[n][1] for n in models)
text = (f"The real held-out digits set the scale (IS {real[0]:.2f}; their FD, {real[1]:.1f}, is not zero because two "
        f"disjoint sets of real digits differ by sampling noise), uniform noise the other end (IS {noise[0]:.2f}, "
        f"FD {noise[1]:.0f}). ")
for n in failed:
    alike = spread[n] < 0.5 * spread["held-out real digits"]
    text += (f"The {n} failed: its FD ({scores[n][1]:.0f}) is closer to that of noise than to real digits, and its IS is "
             f"{scores[n][0]:.2f}" + (f"; its samples look alike (pixel spread, the standard deviation of each pixel over "
                                      f"the samples averaged over pixels, {spread[n]:.3f} against "
                                      f"{spread['held-out real digits']:.3f} for real digits): a collapsed generator. " if alike else ". "))
if len(working) >= 2:
    by_is, by_fd = max(working, key=lambda n: scores[n][0]), min(working, key=lambda n: scores[n][1])
    text += f"Of the other models ({', '.join(working)}), "
    if by_is != by_fd:
        text += (f"the two scores *rank them differently*: IS prefers the {by_is} ({scores[by_is][0]:.2f} against "
                 f"{scores[by_fd][0]:.2f}), FD the {by_fd} ({scores[by_fd][1]:.0f} against {scores[by_is][1]:.0f}). One "
                 "number hides a trade-off between confident samples and matching the whole distribution. ")
    else:
        text += (f"both scores prefer the {by_is} here; they need not agree, since IS rewards confident, balanced "
                 "classes and FD the match of the whole feature distribution. ")
far_below = mem[1] < 0.5 * min(scores[n][1] for n in models)
text += (f"Two warnings: copies of the training images (the memoriser) score like real data (IS {mem[0]:.2f}, FD "
         f"{mem[1]:.1f}" + (", far below any model's)" if far_below else ")") + (f"; their FD is higher than held-out digits' ({real[1]:.1f}), plausibly because the "
         "classifier was trained on those very images" if mem[1] > real[1] else "") + ": these scores cannot detect "
         "memorisation, exactly like the likelihood example above; and both depend on the classifier, so numbers from "
         "different classifiers (or from Inception on MNIST) are not comparable.")
display(Markdown(text))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 11.1 (implement): the Inception-Score analogue
#
# Write `inception_score(probs)`: $\exp\big(\mathbb{E}_x \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big)$ with $p(y) = \mathbb{E}_x p(y\mid x)$,
# from an (N, C) tensor of class probabilities; a number.

# %% slideshow={"slide_type": "subslide"}
def inception_score(probs):
    ### BEGIN SOLUTION
    p_y = probs.mean(0, keepdim=True)
    return float(torch.exp((probs * (probs.log() - p_y.log())).sum(1).mean()))
    ### END SOLUTION


check("11.1", inception_score)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 11.3 (implement): the Fréchet distance
#
# Write `frechet(a, b)`: the Fréchet distance between Gaussians fitted to two feature sets (N, F) and (M, F),
# $\|\mu_a - \mu_b\|^2 + \mathrm{Tr}\big(\Sigma_a + \Sigma_b - 2(\Sigma_a\Sigma_b)^{1/2}\big)$ (covariances with $N - 1$;
# `scipy.linalg.sqrtm` takes the matrix square root; keep its real part).

# %% slideshow={"slide_type": "subslide"}
def frechet(a, b):
    ### BEGIN SOLUTION
    import scipy.linalg
    sa, sb = torch.cov(a.T).numpy(), torch.cov(b.T).numpy()
    root = scipy.linalg.sqrtm(sa @ sb).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + float((sa + sb - 2 * root).trace()))
    ### END SOLUTION


check("11.3", frechet)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5b. A judge that noise cannot fool
#
# The classifier above answers "which digit?", never "is this a digit at all?". Its softmax must
# share all its mass among the ten classes, and a network trained only on digits is confidently
# wrong far from them {cite:p}`nguyen2015deep,hendrycks2017baseline`. So the naive rule
# "recognisable = $\max_y p(y\mid x) > 0.9$", and the IS built on the same probabilities, can be
# fooled by images that are no digit at all. We feed it the kinds of non-digits of
# `evaluation.NON_DIGITS`: uniform noise, smooth blobs of ink, pixel-shuffled digits, two or three
# digits overlaid, smooth low-frequency noise, and noise pushed by ten gradient steps towards the
# classifier's own confidence (what a sampler that climbs the classifier makes).

# %% slideshow={"slide_type": "subslide"}
gen = torch.Generator().manual_seed(7)
naive = {}
print(f"{'non-digits':28s} {'naive: recognisable':>20s} {'IS':>6s}")
for kind, nd in NON_DIGITS.items():
    x = nd.make(S.n_score, gen, x_held, clf)  # "pushed to confidence": towards the naive classifier's confidence
    naive[kind] = (judge_digits(clf, x)["recognisable"], classifier_score(predict(clf, x)[0]))
    print(f"{kind:28s} {100 * naive[kind][0]:19.1f}% {naive[kind][1]:6.2f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What the course does instead** (`evaluation.course_judge`, the one judge every chapter uses):
#
# 1. an eleventh class, "not a digit", trained on uniform noise, blobs, pixel-shuffled digits, smooth
#    low-frequency noise and two digits overlaid, drawn afresh at every step (the outlier exposure of
#    {cite:t}`hendrycks2019deep`);
# 2. a reject option from the density of its penultimate features $\phi(x)$: class Gaussians
#    $\mathcal N(\mu_c, \Sigma)$ with one shared covariance, the Mahalanobis distance
#    $d(x) = \min_c (\phi(x) - \mu_c)^\top \Sigma^{-1} (\phi(x) - \mu_c)$ {cite:p}`lee2018simple`,
#    rejected above the 99.5% quantile of $d$ on the validation digits.
#
# Recognisable = confident ($> 0.9$) on a digit class *and* not rejected. It is trained on the
# training split minus the validation digits; the cut is chosen on the validation digits; accuracy
# is measured on the official test split. The kinds marked "never seen in training" below test
# whether the rejection generalises. Beside the share it reports the Fréchet distance to the test split in its
# own feature space, with the distance between validation and test digits (same sample size) as the
# real-vs-real scale.

# %% slideshow={"slide_type": "subslide"}
judge = course_judge("mnist", device=device)
print(judge.summary)
print(f"{'non-digits':28s} {'naive':>7s} {'course judge':>13s}  (share counted recognisable)")
for kind in NON_DIGITS:
    print(f"{kind:28s} {100 * naive[kind][0]:6.1f}% {100 * judge.non_digits[kind]:12.1f}%"
          + ("" if NON_DIGITS[kind].trained else "  (never seen in training)"))
verdicts = {name: judge(x) for name, x in samples.items()}
for name, v in verdicts.items():
    print(f"{name:32s} {v['text']}")
if not is_test():
    assert judge.accuracy >= 0.99, judge.accuracy
    assert all(share < 0.02 for share in judge.non_digits.values()), judge.non_digits

# %% slideshow={"slide_type": "subslide"}
fooled = max(naive, key=lambda k: naive[k][0])
worst = max(judge.non_digits, key=judge.non_digits.get)
real_v, noise_v = verdicts["held-out real digits"], verdicts["uniform noise"]
display(Markdown(
    f"The naive rule counts up to {100 * naive[fooled][0]:.0f}% of the {fooled} as digits. The course judge is "
    f"{100 * judge.accuracy:.2f}% accurate on the official test split and counts at most "
    f"{100 * judge.non_digits[worst]:.1f}% of any kind of non-digit as recognisable ({worst}), including the kinds it "
    f"never saw in training. Its FD makes sense only beside its scale: held-out real digits are at FD "
    f"{real_v['fd']:.2f} from the test split where two real samples of that size are at {real_v['fd_real']:.2f}, and "
    f"uniform noise at {noise_v['fd']:.0f}. A report therefore reads e.g. \"FD {noise_v['fd']:.0f} (real vs real: "
    f"{noise_v['fd_real']:.2f})\": the scale says how much of an FD is sampling noise."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. ROC and precision-recall curves, and how to interpolate them
#
# A detector gives each example a score and flags those above a threshold. Each threshold is an
# *operating point* (TP, FP). The ROC curve plots TPR = TP/P against FPR = FP/N; the PR curve plots
# precision TP/(TP+FP) against recall TP/P. Both have the same operating points
# {cite:p}`davis2006relationship`, but they differ *between* them:
#
# * in ROC space, mixing two detectors at random traces the straight line between their points, so
#   linear interpolation (the trapezoid rule) is correct;
# * in PR space it is not. Going from point A to point B, each extra true positive brings
#   $(FP_B - FP_A)/(TP_B - TP_A)$ false positives, so the curve passes through
#   $\Big(\frac{TP_A + x}{P},\ \frac{TP_A + x}{TP_A + x + FP_A + x\,\frac{FP_B - FP_A}{TP_B - TP_A}}\Big)$,
#   $x = 1, 2, \dots, TP_B - TP_A$ — a curve that bends *below* the straight line wherever precision
#   falls from A to B. A straight line there overstates the area.
#
# The difference vanishes when every threshold is kept (consecutive points differ by one example),
# and appears when only a few operating points are known — a detector run at a handful of settings, or
# curves read off a paper. Our example: detect the digit 0 among held-out digits by a deliberately
# crude score, the amount of ink in the image.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
ink = x_held.flatten(1).mean(1)
is_zero = (y_held == 0).long()
print(f"ROC-AUC {roc_auc(ink, is_zero):.4f}; prevalence of zeros {float(is_zero.float().mean()):.4f}")
print(f"{'operating points':>16s} {'PR-AUC Davis-Goadrich':>22s} {'PR-AUC linear':>14s} {'overstated by':>14s}")
overstated, auc_dg, auc_lin = {}, {}, {}
for k in (3, 5, 10, 20, None):
    auc_dg[k], auc_lin[k] = pr_auc(ink, is_zero, "davis_goadrich", k), pr_auc(ink, is_zero, "linear", k)
    overstated[k] = auc_lin[k] - auc_dg[k]
    print(f"{'all' if k is None else k:>16} {auc_dg[k]:22.4f} {auc_lin[k]:14.4f} {overstated[k]:14.4f}")
assert all(v >= -1e-12 for v in overstated.values())
assert abs(overstated[None]) < 1e-3   # with every threshold kept the two areas agree

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
fpr, tpr = roc_curve(ink, is_zero)
axes[0].plot(fpr, tpr, label=f"ink score (AUC {roc_auc(ink, is_zero):.3f})")
axes[0].plot([0, 1], [0, 1], "k--", label="chance")
axes[0].set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC: straight lines are right")
axes[0].legend()
r_all, p_all = pr_curve(ink, is_zero, "davis_goadrich")
r_dg, p_dg = pr_curve(ink, is_zero, "davis_goadrich", max_points=5)
r_lin, p_lin = pr_curve(ink, is_zero, "linear", max_points=5)
axes[1].plot(r_all, p_all, c="0.6", lw=1, label="all thresholds")
axes[1].plot(r_lin, p_lin, "o--", c="tab:red", label=f"5 points, linear (area {pr_auc(ink, is_zero, 'linear', 5):.3f})")
axes[1].plot(r_dg, p_dg, c="tab:green", label=f"5 points, Davis-Goadrich (area {pr_auc(ink, is_zero, 'davis_goadrich', 5):.3f})")
axes[1].axhline(float(is_zero.float().mean()), c="k", ls=":", label="chance (prevalence)")
axes[1].set(xlabel="recall", ylabel="precision", ylim=(0, 1.02), title="PR: straight lines overstate")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% slideshow={"slide_type": "subslide"}
ks = [3, 5, 10, 20, None]
monotone = all(overstated[a] > overstated[b] for a, b in zip(ks, ks[1:]))
closer = abs(auc_dg[5] - auc_dg[None]) < abs(auc_lin[5] - auc_dg[None])
assert overstated[5] > 0  # the sentence below: with five points the straight lines lie above the correct curve
display(Markdown(
    f"With five operating points the straight lines (red) lie above the correct curves (green): the linear area is "
    f"{auc_lin[5]:.3f} against {auc_dg[5]:.3f}. The green curve is what the five points actually support (the precision "
    "expected when one interpolates between two thresholds by randomising); "
    + (f"its area is closer to the full curve's ({auc_dg[None]:.3f}, grey) than the linear one. " if closer else
       f"here, though, it is not closer to the full curve's area ({auc_dg[None]:.3f}) than the linear one. ")
    + ("The table shows the linear area overstated more the fewer points there are "
       f"(by {overstated[3]:.3f} with 3 points, {overstated[20]:.3f} with 20). " if monotone else
       "The table shows how much the linear area is overstated for each number of points. ")
    + "One caveat, which our tests check: between two points where precision *rises* (it can, at low recall), the "
    "correct curve bends above the chord; the overstatement is a property of the usual, falling part of the curve."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 11.2 (implement): precision between two operating points
#
# Write `dg_precision(tp_a, fp_a, tp_b, fp_b, x)`: the precision after x of the $TP_B - TP_A$ true positives
# between operating points A and B have been added, each bringing $(FP_B - FP_A)/(TP_B - TP_A)$ false positives
# {cite:p}`davis2006relationship`.

# %% slideshow={"slide_type": "subslide"}
def dg_precision(tp_a, fp_a, tp_b, fp_b, x):
    ### BEGIN SOLUTION
    fp = fp_a + x * (fp_b - fp_a) / (tp_b - tp_a)
    return (tp_a + x) / (tp_a + x + fp)
    ### END SOLUTION


check("11.2", dg_precision)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw
# * GANs have no usable likelihood; where likelihood exists it can disagree with sample quality.
# * NLLs are only comparable on the same data scale: $\mathrm{NLL} = \mathrm{NLL}_{scaled} + k\log\sigma$.
# * On discrete data, evaluate continuous densities on dequantised data: an honest upper bound.
# * Mode coverage and high-quality fraction need known modes; classifier-based scores need a
#   classifier and cannot see memorisation.
# * ROC areas use straight lines, PR areas the Davis-Goadrich curve.

# %% slideshow={"slide_type": "subslide"}
print(f"profile {'test' if is_test() else 'real'}: {time.perf_counter() - t_notebook:.0f} s for the whole notebook")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** J. Davis, M. Goadrich (2006), *The Relationship Between Precision-Recall and ROC Curves*,
# International Conference on Machine Learning (ICML). D. Hendrycks, K. Gimpel (2017), *A Baseline for Detecting
# Misclassified and Out-of-Distribution Examples in Neural Networks*, International Conference on Learning
# Representations (ICLR), arXiv:1610.02136. D. Hendrycks, M. Mazeika, T. Dietterich (2019), *Deep Anomaly Detection with
# Outlier Exposure*, International Conference on Learning Representations (ICLR), arXiv:1812.04606. M. Heusel, H.
# Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter (2017), *GANs Trained by a Two Time-Scale Update Rule Converge to
# a Local Nash Equilibrium*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1706.08500. R. Kumar, S.
# Ozair, A. Goyal, A. Courville, Y. Bengio (2019), *Maximum Entropy Generators for Energy-Based Models*,
# arXiv:1901.08508. K. Lee, K. Lee, H. Lee, J. Shin (2018), *A Simple Unified Framework for Detecting
# Out-of-Distribution Samples and Adversarial Attacks*, Advances in Neural Information Processing Systems (NeurIPS),
# arXiv:1807.03888. A. Nguyen, J. Yosinski, J. Clune (2015), *Deep Neural Networks are Easily Fooled: High Confidence
# Predictions for Unrecognizable Images*, IEEE Conference on Computer Vision and Pattern Recognition (CVPR),
# arXiv:1412.1897. A. Radford, L. Metz, S. Chintala (2016), *Unsupervised Representation Learning with Deep
# Convolutional Generative Adversarial Networks*, International Conference on Learning Representations (ICLR),
# arXiv:1511.06434. T. Salimans, I. Goodfellow, W. Zaremba, V. Cheung, A. Radford, X. Chen (2016), *Improved Techniques
# for Training GANs*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1606.03498. A. Srivastava, L.
# Valkov, C. Russell, M. U. Gutmann, C. Sutton (2017), *VEEGAN: Reducing Mode Collapse in GANs using Implicit
# Variational Learning*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1705.07761. L. Theis, A. van
# den Oord, M. Bethge (2016), *A Note on the Evaluation of Generative Models*, International Conference on Learning
# Representations (ICLR), arXiv:1511.01844.
#
# Next: [chapter 12, robustness to hyper-parameters](12_hyperparameter_robustness.ipynb): are the
# energy-based GANs easier to set up than the GAN, measured over a whole grid of settings?

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
# # 03 · The variational autoencoder: maximum likelihood with a network, and blurry digits
#
# **Question.** How can a latent-variable model with a neural network be fitted by maximum
# likelihood when its posterior has no closed form, and why are its samples blurry?
#
# Factor analysis (notebook 2) maps a Gaussian $z$ linearly to $x$, and EM works because the
# posterior $p(z\mid x)$ is Gaussian and known. Replace the linear map by a neural network and the
# posterior has no closed form any more. The **variational autoencoder**
# {cite:p}`kingma2013auto,rezende2014stochastic` keeps the plan of EM, to raise the ELBO, with two
# changes:
#
# * $q$ is no longer the exact posterior but a Gaussian whose mean and variance a second network,
#   the **encoder**, computes from $x$: $q_\phi(z\mid x) = \mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$;
# * the ELBO is raised by stochastic gradient steps on the encoder's and decoder's weights together
#   instead of alternating exact E and M steps.
#
# $$\log p_\theta(x) \;\ge\; \mathrm{ELBO}(x) = \mathbb E_{q_\phi(z\mid x)}\big[\log p_\theta(x\mid z)\big] - \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big).$$
#
# The first term asks the decoder to reconstruct $x$ from a $z$ drawn by the encoder; the second
# keeps the encoder's $q$ close to the prior $p(z) = \mathcal N(0, I)$, so that decoding a
# *prior* sample later gives something digit-like. The model needs two things to be easy: sampling
# from $p(z)$, and evaluating $p_\theta(x\mid z)$. Here $p(z)$ is a standard Gaussian and
# $p_\theta(x\mid z)$ a product of independent Bernoullis, one per pixel.
#
# We train one on MNIST, look at reconstructions, samples and a latent interpolation, measure the
# held-out ELBO in nats per image, and then ask why the samples are blurry.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** Bridge from factor analysis: same picture (Gaussian z, a map to x), but the posterior has no
# closed form, so we fit an encoder instead. Show the ELBO's two terms separately before the samples, then ask why
# the samples are blurry (a Gaussian decoder averages the plausible images). From the run store it loads at once.

# %% slideshow={"slide_type": "subslide"}
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from course_lib import is_test, plots, setup_notebook
from course_lib.exercises import check
from course_lib import vae as V
from course_lib.data import official_splits

t_notebook = time.perf_counter()
S, device = setup_notebook(
    seed=0,
    threads=1,  # small models: one thread is as fast, and avoids contention on shared cores
    test=dict(n_heldout=500, n_train=2000, epochs=2, latent_dim=16, hidden=200, batch_size=100, iw_k=20, iw_n=100),
    real=dict(n_heldout=1000, n_train=9000, epochs=30, latent_dim=16, hidden=400, batch_size=100, iw_k=500, iw_n=1000),
    full=dict(epochs=100),
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data
#
# MNIST {cite:p}`lecun1998gradient` through `course_lib.data`: the model trains on digits of the
# official 60,000-digit training split and is scored on held-out digits of the official 10,000-digit
# test split, which it never sees (an old offline copy with only the test split is cut in two, and the
# first printed line says so).
#
# The pixels are grey levels in $[0, 1]$, but a Bernoulli likelihood is only a probability for
# **binary** images. We therefore binarize once, with a fixed seed, by drawing each pixel as black
# or white with its grey level as probability (as in {cite:t}`salakhutdinov2008quantitative`). Then
# $-\mathrm{ELBO}$ is a true upper bound on $-\log p(x)$, in nats, comparable across models.

# %% slideshow={"slide_type": "subslide"}
trn, test = official_splits("mnist", n_fallback=S.n_heldout)
print(trn.note if trn.split != "train" else f"{trn.note} {test.note}")
pick = torch.randperm(len(trn), generator=torch.Generator().manual_seed(0))[:S.n_train]
x_train_grey = trn.images[pick]                                                # (N, 1, 28, 28)
x_heldout_grey, heldout_labels = test.images[:S.n_heldout], test.labels[:S.n_heldout]
x_train, x_heldout = V.binarize(x_train_grey, seed=1), V.binarize(x_heldout_grey, seed=2)
print(f"training digits: {len(x_train)}, held-out digits: {len(x_heldout)}, pixels per image: {V.N_PIXELS}")

fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
plots.show_images(axes[0], x_heldout_grey[:16], nrow=8, title="held-out digits (grey levels)")
plots.show_images(axes[1], x_heldout[:16], nrow=8, title="the same digits, binarized")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The reparameterization trick
#
# The ELBO's first term is an expectation over $z \sim q_\phi(z\mid x)$, and we need its gradient
# with respect to $\phi$, the parameters of the distribution we sample from. Writing the sample as
# a deterministic function of $\phi$ and parameter-free noise,
#
# $$z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I),$$
#
# moves $\phi$ out of the distribution and into the function, so
# $\nabla_\phi \mathbb E_q[f(z)] = \mathbb E_\varepsilon[\nabla_\phi f(\mu + \sigma\varepsilon)]$ and ordinary
# backpropagation applies. A one-dimensional check: for $f(z) = z^2$ and $q = \mathcal N(\mu, \sigma^2)$,
# $\mathbb E[z^2] = \mu^2 + \sigma^2$, so the gradients are $2\mu$ and $2\sigma$.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
mu = torch.tensor([0.7], requires_grad=True)
logvar = torch.tensor([math.log(0.5 ** 2)], requires_grad=True)
eps = torch.randn(200_000, 1, generator=torch.Generator().manual_seed(0))
z = V.reparameterize(mu, logvar, eps)                      # (200000, 1)
(z ** 2).mean().backward()
sigma = math.exp(0.5 * logvar.item())
print(f"d/dmu    E[z^2]: reparameterized estimate {mu.grad.item():.3f}, exact 2 mu = {2 * mu.item():.3f}")
print(f"d/dsigma E[z^2]: reparameterized estimate {logvar.grad.item() * 2 / sigma:.3f}, exact 2 sigma = {2 * sigma:.3f}")
assert abs(mu.grad.item() - 2 * mu.item()) < 0.02 and abs(logvar.grad.item() * 2 / sigma - 2 * sigma) < 0.02

# %% [markdown] slideshow={"slide_type": "fragment"}
# The KL term needs no sampling: between two Gaussians it has a closed form,
# $\mathrm{KL}(\mathcal N(\mu, \sigma^2)\,\|\,\mathcal N(0,1)) = \tfrac12(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$
# per coordinate (appendix B of {cite:t}`kingma2013auto`; `V.gaussian_kl`, tested against a Monte-Carlo
# estimate in `tests/test_vae.py`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 3.1 (implement): the reparameterisation
#
# Write `reparameterize(mu, logvar, eps)`: a sample of $q(z\mid x) = N(\mu, \mathrm{diag}\,\sigma^2)$ from standard
# normal noise `eps`, where the encoder outputs `logvar` $= \log \sigma^2$ (all (B, L) tensors).

# %% slideshow={"slide_type": "subslide"}
def reparameterize(mu, logvar, eps):
    ### BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


check("3.1", reparameterize)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 3.2 (implement): the KL term
#
# Write `gaussian_kl(mu, logvar)`: $\mathrm{KL}(N(\mu, \mathrm{diag}\,e^{\text{logvar}})\,\|\,N(0, I))$ for every row, a (B,)
# tensor (appendix B of {cite:t}`kingma2013auto`).

# %% slideshow={"slide_type": "subslide"}
def gaussian_kl(mu, logvar):
    ### BEGIN SOLUTION
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
    ### END SOLUTION


check("3.2", gaussian_kl)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Training
#
# Encoder and decoder are MLPs with one hidden layer each; one reparameterized $z$ per image and
# step, Adam. `V.train_vae` records the held-out ELBO after every epoch, averaged over the
# held-out digits, in nats per image.

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
model = V.VAE(latent_dim=S.latent_dim, hidden=S.hidden).to(device)
cfg = V.VAEConfig(latent_dim=S.latent_dim, hidden=S.hidden, epochs=S.epochs, batch_size=S.batch_size, seed=0)
hist = V.train_vae(model, x_train, x_heldout, cfg)

steps_per_epoch = math.ceil(len(x_train) / S.batch_size)
train_epoch = (np.arange(len(hist.train_elbo)) + 1) / steps_per_epoch
smooth = np.convolve(hist.train_elbo, np.ones(steps_per_epoch) / steps_per_epoch, mode="valid")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(train_epoch[steps_per_epoch - 1:], smooth, label="training digits (running mean over one epoch)")
ax.plot(hist.eval_epoch, hist.heldout_elbo, "o-", label="held-out digits")
ax.set_ylim(max(min(hist.heldout_elbo[1:] + [smooth.min()]) - 20, -400), None)
ax.set_xlabel("epoch"), ax.set_ylabel("ELBO (nats per image)")
ax.set_title("The ELBO rises on digits the model never trained on"), ax.legend()
plt.show()
final_elbo = hist.heldout_elbo[-1]
print(f"held-out ELBO: {hist.heldout_elbo[0]:.1f} before training -> {final_elbo:.1f} nats per image "
      f"after {S.epochs} epochs ({-final_elbo / (V.N_PIXELS * math.log(2)):.3f} bits per pixel)")
assert final_elbo > hist.heldout_elbo[0] + 200
if not is_test():
    assert final_elbo > -115, final_elbo

# how the curves move: the first epoch, and the last third of training
third = max(S.epochs // 3, 1)
train_per_epoch = np.array(hist.train_elbo[: S.epochs * steps_per_epoch]).reshape(S.epochs, steps_per_epoch).mean(1)
ho = dict(zip(hist.eval_epoch, hist.heldout_elbo))
ho_first, ho_late = ho[1] - ho[0], ho[S.epochs] - ho[S.epochs - third]
train_late = train_per_epoch[-1] - train_per_epoch[-1 - third]
train_gap = train_per_epoch[-1] - final_elbo           # > 0: the training digits are fitted better
print(f"held-out ELBO: +{ho_first:.1f} nats in epoch 1, {ho_late:+.1f} over the last {third} epochs; "
      f"training ELBO (epoch means): {train_late:+.1f} over the last {third} epochs")
print(f"last epoch: training ELBO {train_per_epoch[-1]:.1f}, held-out {final_elbo:.1f} nats per image")
if not is_test():
    assert ho_first > 20 * abs(ho_late) and train_late > 0 and train_gap > 2, (ho_first, ho_late, train_late, train_gap)

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    f"The held-out ELBO climbs quickly ({ho_first:+.0f} nats in the first epoch) and then flattens ({ho_late:+.1f} "
    f"nats over the last {third} epochs), while the training ELBO keeps creeping up ({train_late:+.1f}): with "
    f"{len(x_train):,} training digits the model fits them better than digits it has not seen (by {train_gap:.1f} "
    "nats per image in the last epoch; the training number is a running average while the weights still move). "
    "The held-out number is the honest one."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Reconstructions, samples and a walk through latent space

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(0)
rec = V.reconstruct(model, x_heldout[:16]).cpu()
samples = model.sample(32, g).cpu()
fig, axes = plt.subplots(1, 3, figsize=(15, 3.2), gridspec_kw=dict(width_ratios=[1, 1, 2]))
plots.show_images(axes[0], x_heldout[:16], nrow=4, title="held-out digits")
plots.show_images(axes[1], rec, nrow=4, title=r"reconstructions $E[x \mid z = \mu(x)]$")
plots.show_images(axes[2], samples, nrow=8, title=r"samples: $z \sim N(0, I)$, shown as $E[x \mid z]$")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Reconstructions keep identity and slant of the held-out digits, softened. Samples from the prior
# are soft-edged: some are clear digits, many are ambiguous blends of two classes or broken strokes.
#
# Because the KL term pulls every $q(z\mid x)$ towards the same prior, the codes of different
# digits live in one connected region, and the points between two codes also decode to digits.

# %% slideshow={"slide_type": "subslide"}
labels = heldout_labels
pairs = [(1, 7), (3, 8), (4, 9), (0, 6)]
rows = []
for a, b in pairs:
    ia, ib = int((labels == a).nonzero()[0]), int((labels == b).nonzero()[0])
    rows.append(V.interpolate(model, x_heldout[ia], x_heldout[ib], steps=10).cpu())
fig, ax = plt.subplots(figsize=(10, 4.4))
plots.show_images(ax, torch.cat(rows), nrow=10,
                  title="decoded means along straight lines between two held-out digits' codes (left -> right)")
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Each row morphs one digit into another through shapes that stay digit-like most of the way: the
# decoder has learned a smooth map from its latent space (`latent_dim` dimensions, in the settings
# printed at the top) onto the digits.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Why are the samples blurry?
#
# Compare a real digit with a sample. The model's sample is really two things: a code $z$, and
# then $x \sim p(x\mid z)$, drawn **independently pixel by pixel**. Above we showed the mean
# $E[x\mid z]$ instead; below we also show actual draws from $p(x\mid z)$.

# %% slideshow={"slide_type": "subslide"}
g = torch.Generator().manual_seed(1)
z = model.sample_z(8, g)
mean_img = model.decode(z).detach().cpu()
draws = torch.bernoulli(mean_img, generator=g)
fig, axes = plt.subplots(3, 1, figsize=(9, 4.2))
plots.show_images(axes[0], x_heldout_grey[16:24], nrow=8, title="real digits (grey levels)")
plots.show_images(axes[1], mean_img, nrow=8, title=r"VAE: $E[x \mid z]$ for 8 codes $z \sim N(0, I)$")
plots.show_images(axes[2], draws, nrow=8, title=r"VAE: one draw $x \sim p(x \mid z)$ per code (pixels independent)")
fig.tight_layout()
plt.show()


def grey_fraction(images, lo=0.2, hi=0.8):
    """Fraction of 'ink or near-ink' pixels (value > 0.05) whose value lies strictly between lo and hi."""
    ink = images > 0.05
    return float(((images > lo) & (images < hi) & ink).sum() / ink.sum())


# NBVAL_CHECK_OUTPUT
gf_real = grey_fraction(x_heldout_grey)
print(f"grey (0.2-0.8) among inked pixels: real digits {gf_real:.3f}")

# %% slideshow={"slide_type": "subslide"}
with torch.no_grad():
    gf_samples = grey_fraction(model.sample(1000, torch.Generator().manual_seed(2)).cpu())
    gf_rec = grey_fraction(V.reconstruct(model, x_heldout).cpu())
print(f"grey (0.2-0.8) among inked pixels: VAE reconstructions {gf_rec:.3f}, VAE samples {gf_samples:.3f}")
if not is_test():
    assert gf_samples > gf_real + 0.05 and gf_rec > gf_real, (gf_real, gf_rec, gf_samples)
display(Markdown(
    f"The mean images have more intermediate grey than real strokes: {100 * gf_samples:.0f} % of the inked pixels of "
    f"sample means and {100 * gf_rec:.0f} % of reconstructions lie between 0.2 and 0.8, against {100 * gf_real:.0f} % "
    "for real digits. The honest draws from $p(x\\mid z)$ are black and white but speckled, because each pixel is "
    "drawn independently."))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The lecture offers three explanations, and this notebook lets us look at each:
#
# 1. **Restricted family.** $p(x\mid z)$ is a product of independent pixels. When the code leaves
#    the stroke's exact position uncertain, the only way to give probability to all the plausible
#    positions is to make every one of those pixels half-likely: the mean averages shifted strokes
#    into a blur, and a draw turns that uncertainty into speckle. Nothing in the family can say
#    "either this stroke or that one, not both". The same holds for the Gaussian $q(z\mid x)$.
# 2. **The bound.** We maximise the ELBO, not $\log p(x)$. The gap is
#    $\mathrm{KL}(q(z\mid x)\,\|\,p(z\mid x))$, which for a diagonal Gaussian $q$ cannot close. We
#    can measure how large it is with the importance-weighted bound of
#    {cite:t}`burda2016importance`, $\log \frac1k\sum_{i} p(x, z_i)/q(z_i\mid x)$, which lies
#    between the ELBO and $\log p(x)$ and tightens as $k$ grows.
# 3. **Maximum likelihood itself.** Maximising likelihood minimises $\mathrm{KL}(p_{data}\,\|\,p_\theta)$,
#    which punishes missing any real digit heavily and putting mass on non-digits only mildly, so a model
#    short of capacity spreads out. {cite:t}`goodfellow2016nips`, in section 3.2.5 of his tutorial, argues
#    this is probably *not* the main reason: GANs trained with a maximum-likelihood-like cost still give
#    sharp samples. That points back at 1 and 2.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 3.4 (predict, then run): the importance-weighted bound against the ELBO
#
# The next cell computes the ELBO and the importance-weighted bound with many samples on the same held-out
# digits. Before you run it: will the bound be `"lower"` than the ELBO, `"less than 1 nat higher"`, or
# `"more than 1 nat higher"`?

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_3_4 = ...
prediction_3_4 = 'more than 1 nat higher'
### END SOLUTION

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
print(f"importance samples k = {S.iw_k}, on {S.iw_n} held-out digits")

# %% slideshow={"slide_type": "subslide"}
xs = x_heldout[:S.iw_n].to(device)
elbo_1 = V.mean_elbo(model, x_heldout[:S.iw_n], seed=3)
iw = float(V.importance_weighted_bound(model, xs, S.iw_k, torch.Generator().manual_seed(3)).mean())
print(f"ELBO (k = 1)             : {elbo_1:.1f} nats per image")
print(f"importance-weighted bound: {iw:.1f} nats per image  (k = {S.iw_k})")
print(f"=> log p(x) is at least {iw - elbo_1:.1f} nats above the ELBO we trained on")
assert iw > elbo_1
if not is_test():
    assert iw - elbo_1 < 0.1 * abs(elbo_1), (iw, elbo_1)

# a published figure for the same kind of model, and how it was obtained
BURDA_VAE = -86.76  # Burda et al. (2016), Table 1: VAE, one stochastic layer, trained with k = 1
print(f"Burda, Grosse & Salakhutdinov (2016), Table 1: {BURDA_VAE:.2f} nats, estimated with k = 5,000 on the "
      "10,000 test digits;\n  50 latent units, two hidden layers of 200 tanh units, 3,280 passes over the 60,000 "
      "training digits,\n  binarized afresh at every pass (a kind of data augmentation)")
print(f"ours: {iw:.2f} nats, k = {S.iw_k} on {len(xs):,} test digits; {S.latent_dim} latent units, one hidden layer of "
      f"{S.hidden} ReLU units,\n  {S.epochs} passes over {len(x_train):,} training digits binarized once; "
      f"{BURDA_VAE - iw:.1f} nats below the published model")

# %% slideshow={"slide_type": "subslide"}
check("3.4", prediction_3_4, actual=iw - elbo_1)

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    f"{iw - elbo_1:.1f} nats per image ({100 * (iw - elbo_1) / abs(elbo_1):.0f} % of the ELBO) are lost to the bound "
    "by this estimate (the true gap to $\\log p(x)$ is at least this): a real but modest amount beside the "
    f"bound itself ({iw:.0f} nats per image). The blur comes mainly from the factorised pixel model: a likelihood model must spread "
    "probability over every plausible image, and with independent pixels the only way to do that is grey and "
    "speckle."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 3.3 (implement): the importance-weighted bound
#
# Given `log_w`, a (k, B) tensor of log-weights $\log p(x, z_i) - \log q(z_i\mid x)$ for k samples $z_i$ of each
# of B images, return the (B,) bound $\log \frac1k \sum_i w_i$ {cite:p}`burda2016importance`. The weights of
# MNIST images are around $e^{-100}$ or smaller: compute it without leaving log space.

# %% slideshow={"slide_type": "subslide"}
def iw_bound(log_w):
    ### BEGIN SOLUTION
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])
    ### END SOLUTION


check("3.3", iw_bound)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Bridge to GANs
#
# A GAN keeps the decoder $z \mapsto x$ but drops both the pixel-wise likelihood and the bound:
# its generator outputs an image directly, and a learned discriminator (an evaluation function,
# notebook 1) decides what counts as a realistic image. The price is that we lose the number
# this notebook ends with, a held-out log-likelihood bound.

# %% slideshow={"slide_type": "subslide"}
display(Markdown(
    f"**Measured** in this run (`{'test' if is_test() else 'real'}` profile: {len(x_train):,} training digits, "
    f"{S.epochs} epochs; {time.perf_counter() - t_notebook:.0f} s for the whole notebook): the held-out ELBO rose from "
    f"{hist.heldout_elbo[0]:.1f} to {final_elbo:.1f} nats per image "
    f"({-final_elbo / (V.N_PIXELS * math.log(2)):.3f} bits per pixel); on {S.iw_n:,} held-out digits the "
    f"importance-weighted bound with k = {S.iw_k} is {iw:.1f} nats, {iw - elbo_1:.1f} nats above the ELBO "
    f"({elbo_1:.1f}) on the same digits. Grey pixels (0.2-0.8) make up {100 * gf_real:.0f} % of the inked pixels "
    f"of real digits, {100 * gf_rec:.0f} % of reconstructions and {100 * gf_samples:.0f} % of sample means."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
elbo_rise = final_elbo - hist.heldout_elbo[0]
display(Markdown("\n".join([
    f"* The reparameterization $z = \\mu + \\sigma\\varepsilon$ turns the gradient of an expectation into ordinary "
    f"backpropagation: for $\\mathbb E[z^2]$ it estimated {mu.grad.item():.3f} and {logvar.grad.item() * 2 / sigma:.3f} "
    f"for the derivatives in $\\mu$ and $\\sigma$, against the exact $2\\mu$ = {2 * mu.item():.3f} and "
    f"$2\\sigma$ = {2 * sigma:.3f}.",
    f"* In {S.epochs} epochs on {len(x_train):,} training digits the held-out ELBO rose from "
    f"{hist.heldout_elbo[0]:.1f} to {final_elbo:.1f} nats per image "
    f"({-final_elbo / (V.N_PIXELS * math.log(2)):.3f} bits per pixel); "
    + ("most of the rise, " if ho_first > 0.5 * elbo_rise else "") + f"{ho_first:+.0f} nats, came in the first epoch. "
    + (f"In the last epoch the training digits were fitted {train_gap:.1f} nats per image better than the held-out ones."
       if train_gap > 0 else
       f"In the last epoch the training ELBO, a running average taken while the weights still moved, was "
       f"{-train_gap:.1f} nats per image below the held-out one."),
    f"* The mean images are blurrier than real digits: {100 * gf_samples:.0f}% of the inked pixels of sample means and "
    f"{100 * gf_rec:.0f}% of those of reconstructions are grey (between 0.2 and 0.8), "
    f"against {100 * gf_real:.0f}% for real digits. Actual draws from $p(x\\mid z)$ are black and white but speckled, "
    "because every pixel is drawn independently."
    if gf_samples > gf_real and gf_rec > gf_real else
    f"* Grey pixels (between 0.2 and 0.8) make up {100 * gf_samples:.0f}% of the inked pixels of sample means, "
    f"{100 * gf_rec:.0f}% of reconstructions and {100 * gf_real:.0f}% of real digits. Actual draws from $p(x\\mid z)$ "
    "are black and white but speckled, because every pixel is drawn independently.",
    f"* The importance-weighted bound with k = {S.iw_k} lies {iw - elbo_1:.1f} nats per image above the ELBO "
    f"({iw:.1f} against {elbo_1:.1f} on {S.iw_n:,} held-out digits), so $\\log p(x)$ lies at least that far above "
    f"the bound we trained on. That is {100 * (iw - elbo_1) / abs(elbo_1):.0f}% of the ELBO, "
    + ("small beside the bound itself, so the blur comes mainly from the factorised pixel model." if iw - elbo_1 < 0.1 * abs(elbo_1) else
       "a sizeable part of it in this run, so the bound, and not only the factorised pixel model, may cost sharpness.")
    + f" Burda et al. report {BURDA_VAE:.2f} nats for a VAE trained far longer on all the training digits; ours is "
    f"{abs(BURDA_VAE - iw):.1f} nats " + ("below" if iw < BURDA_VAE else "above") + " it.",
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** Y. Burda, R. Grosse, R. Salakhutdinov (2016), *Importance Weighted Autoencoders*, International
# Conference on Learning Representations (ICLR), arXiv:1509.00519. I. Goodfellow (2016), *NIPS 2016 Tutorial: Generative
# Adversarial Networks*, arXiv:1701.00160. D. P. Kingma, M. Welling (2013), *Auto-Encoding Variational Bayes*,
# arXiv:1312.6114. Y. LeCun, L. Bottou, Y. Bengio, P. Haffner (1998), *Gradient-Based Learning Applied to Document
# Recognition*, Proceedings of the IEEE. D. J. Rezende, S. Mohamed, D. Wierstra (2014), *Stochastic Backpropagation and
# Approximate Inference in Deep Generative Models*, International Conference on Machine Learning (ICML),
# arXiv:1401.4082. R. Salakhutdinov, I. Murray (2008), *On the Quantitative Analysis of Deep Belief Networks*,
# International Conference on Machine Learning (ICML).

# %% [markdown] slideshow={"slide_type": "fragment"}
# Next: [chapter 04, the original GAN](04_original_gan.ipynb): does the original GAN's discriminator lead the
# generator to the data, and is it still a useful evaluation function when training ends?

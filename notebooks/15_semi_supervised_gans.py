# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 15 · Semi-supervised learning with GANs: 100 labels
#
# **Question.** With 100 labelled digits and thousands of unlabelled ones, can a GAN's discriminator become
# a better classifier than one trained on the 100 labels alone? Salimans et al. (2016, arXiv:1606.03498)
# give the discriminator $K + 1$ classes, the ten digits and "generated", and train the generator by
# **feature matching**; EBGAN (Zhao, Mathieu, LeCun 2017, arXiv:1609.03126, section 5.4) makes the
# classifier's reconstruction error an energy and found that the margin had to **decay** during training.
# Both use the generator's samples as contrastive examples: an extension of the data set that tells the
# classifier where the data are *not*.
#
# The task is the lecture's: **permutation-invariant MNIST** (MLPs only, no convolutions, so the pixels'
# order carries no information), 100 labels (10 per digit), error on held-out digits that no model saw.
# Code: `course_lib.practice` (the objectives and the classifier) and the course's one trainer `train.train`.

# %% slideshow={"slide_type": "subslide"}
import dataclasses

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from course_lib import evaluation, is_test, practice, setup_notebook
from course_lib.data import load_images
from course_lib.energy import ImageMLPGenerator
from course_lib.plots import show_images
from course_lib.runtime import num_threads
from course_lib.train import TrainConfig, train
from course_lib.verdicts import compare_scores

S, device = setup_notebook(
    seed=0,
    test=dict(steps=6, margin_steps=4, sup_steps=10, seeds=(0,), hidden=(32, 16), g_hidden=32, n_test=500, ema=0.5,
              threads=1),
    real=dict(steps=3000, margin_steps=1500, sup_steps=1000, seeds=(0, 1, 2), hidden=(500, 250), g_hidden=500,
              n_test=2000, ema=0.999, threads=2),
)
mnist = load_images("mnist")
print(mnist.note)
perm = torch.randperm(len(mnist.images), generator=torch.Generator().manual_seed(0))
test_idx, pool = perm[:S.n_test], perm[S.n_test:]
x_test, y_test = mnist.images[test_idx], mnist.labels[test_idx]
unlabelled = dataclasses.replace(mnist, images=mnist.images[pool], labels=mnist.labels[pool])
print(f"{len(pool):,} training images, of which 100 labelled (a new random 10 per digit for each seed); "
      f"{len(test_idx):,} held-out test digits")


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The (K+1)-class discriminator
#
# With logits $l_1..l_K$ for the digits and the "generated" logit fixed at 0, $p(y = k\mid x)$ is a softmax over
# the ten and $D(x) = Z(x) / (Z(x) + 1)$, $Z = \sum_k e^{l_k}$, is the probability of "real". The loss has a
# supervised part (cross-entropy on the 100 labels) and an unsupervised part, $-\log D$ on unlabelled data and
# $-\log(1 - D)$ on generated data (`practice.kplus1_d_loss`). The generator matches the mean of the
# discriminator's last hidden layer on real and generated batches (`practice.feature_matching_loss`). A
# worked example:

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
l_lab, y = torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])
l_unl, l_fake = torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[1.0, -1.0, 0.0]])
loss, parts = practice.kplus1_d_loss(l_lab, y, l_unl, l_fake)
print(f"supervised {float(parts['supervised']):.4f}  unsupervised {float(parts['unsupervised']):.4f}  total {float(loss):.4f}")
print(f"D(unlabelled) = Z/(Z+1) = {3 / 4:.4f}, so -log D = {-torch.log(torch.tensor(0.75)):.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Three classifiers, three seeds
#
# The same MLP classifier (784-500-250-10 with Gaussian noise of std 0.3 on every layer's input during
# training, as in Salimans et al.) is trained
#
# * on the 100 labels alone (**supervised only**, 1,000 Adam steps: it fits the 100 labels long before that);
# * as the $(K+1)$-class discriminator with **feature matching** (the generator: an MLP from 100 noise
#   dimensions through two layers of 500 units to the 784 pixels; Adam, lr 0.003, batches of 100);
# * **EBGAN-style**: the classifier also decodes its last hidden layer back to the image; the reconstruction
#   error is an energy $E(x)$, low on unlabelled data, pushed above a margin $m_t$ on generated data,
#   $L = \mathrm{CE} + E(x) + [m_t - E(G(z))]_+$, with $m_t$ decaying linearly to 0 over the run;
#   the generator lowers $E(G(z))$. Its steps cost more (the decoder runs on every batch), so it gets
#   half as many steps as feature matching (the settings printed above).
#
# A GAN's discriminator never settles: the game moves it from step to step, and its test error jitters by a
# few points. We therefore also keep an exponential moving average of each classifier's weights (decay 0.999,
# Polyak averaging with `torch.optim.swa_utils`; the GAN trainer keeps it when asked, `TrainConfig(average_d=0.999)`,
# and stores it with the run) and score both the last weights and the average, for all three models alike.

# %% slideshow={"slide_type": "subslide"}
def averaging(net):
    """An exponential moving average of ``net``'s weights and a callback that updates it after every step."""
    avg = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(S.ema))
    return avg, lambda step, *rest: avg.update_parameters(net)


def supervised(seed, x_lab, y_lab):
    torch.manual_seed(seed)
    net = practice.SSLNet(hidden=S.hidden).to(device)
    avg, update = averaging(net)
    evaluation.train_classifier(net, x_lab, y_lab, steps=S.sup_steps, batch_size=100, lr=1e-3, seed=seed,
                                progress=False, callback=update)
    return net, avg.module


def with_gan(objective, decoder, seed, steps, desc):
    torch.manual_seed(seed)
    D = practice.SSLNet(hidden=S.hidden, decoder=decoder).to(device)
    G = ImageMLPGenerator(z_dim=100, hidden=S.g_hidden).to(device)
    cfg = TrainConfig(steps=steps, batch_size=100, lr_d=3e-3, lr_g=3e-3, betas=(0.5, 0.999), seed=seed, desc=desc,
                      average_d=S.ema)
    with num_threads(S.threads):
        h = train(G, D, unlabelled.sample, objective, cfg)
    return D, h.averaged_discriminator(D), G, h


METHODS = ("supervised only", "feature matching", "EBGAN, decaying margin")
errors = {m: [] for m in METHODS}      # the averaged weights
last = {m: [] for m in METHODS}        # the last weights
wrong = {m: [] for m in METHODS}       # which test digits the averaged weights get wrong, per seed
gens, hists = {}, {}
for seed in S.seeds:
    lab = practice.balanced_subset(mnist.labels, pool, per_class=10, seed=seed)
    x_lab, y_lab = mnist.images[lab], mnist.labels[lab]
    nets = {"supervised only": supervised(seed, x_lab, y_lab)}
    D, D_avg, G, h = with_gan(practice.FeatureMatchingSSL(x_lab, y_lab, seed=seed), False, seed, S.steps,
                              f"feature matching, seed {seed}")
    nets["feature matching"], gens[("feature matching", seed)] = (D, D_avg), G
    D, D_avg, G, h = with_gan(practice.MarginSSL(x_lab, y_lab, margin=0.1, decay_steps=S.margin_steps, seed=seed), True,
                              seed, S.margin_steps, f"EBGAN margin, seed {seed}")
    nets["EBGAN, decaying margin"], hists[("EBGAN, decaying margin", seed)] = (D, D_avg), h
    for m, (net, net_avg) in nets.items():
        last[m].append(practice.error_rate(net, x_test, y_test))
        wrong[m].append(practice.misclassified(net_avg, x_test, y_test))
        errors[m].append(float(wrong[m][-1].float().mean()))
    print(f"seed {seed}: " + ", ".join(f"{m} {100 * errors[m][-1]:.2f}% (last weights {100 * last[m][-1]:.2f}%)"
                                       for m in METHODS))

err = {m: torch.tensor(v, dtype=torch.float64) for m, v in errors.items()}
err_last = {m: torch.tensor(v, dtype=torch.float64) for m, v in last.items()}
spread = lambda v: float(v.std()) if len(v) > 1 else 0.0  # noqa: E731
print(f"\ntest error on {len(y_test):,} held-out digits, mean ± standard deviation over {len(S.seeds)} seeds "
      f"({S.steps:,} GAN steps for feature matching, {S.margin_steps:,} for the EBGAN-style model)")
print(f"  {'':24s} {'averaged weights':>18s} {'last weights':>18s}")
for m in METHODS:
    print(f"  {m:24s} {100 * float(err[m].mean()):9.2f}% ± {100 * spread(err[m]):4.2f} "
          f"{100 * float(err_last[m].mean()):9.2f}% ± {100 * spread(err_last[m]):4.2f}")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
axes[0].bar(range(3), [100 * float(err[m].mean()) for m in METHODS], yerr=[100 * spread(err[m]) for m in METHODS],
            capsize=6, color=["gray", "tab:blue", "tab:orange"])
for i, m in enumerate(METHODS):
    axes[0].scatter([i] * len(err[m]), 100 * err[m].numpy(), color="k", zorder=3, s=12, label="one seed" if i == 0 else None)
axes[0].set_xticks(range(3), ["supervised\nonly", "feature\nmatching", "EBGAN,\ndecaying margin"])
axes[0].set(ylabel="test error (%)", title="100 labels, permutation-invariant MNIST")
axes[0].legend()
h = hists[("EBGAN, decaying margin", S.seeds[0])]
axes[1].plot(h["margin"], label="margin m_t")
axes[1].plot(h["e_real"], label="E(unlabelled data)", alpha=0.7)
axes[1].plot(h["e_fake"], label="E(generated)", alpha=0.7)
axes[1].set(xlabel="generator step", ylabel="energy (mean squared reconstruction error)", title="EBGAN: the margin decays")
axes[1].legend(fontsize=8)
show_images(axes[2], gens[("feature matching", S.seeds[0])].sample(49, torch.Generator().manual_seed(0)), nrow=7,
            title="feature matching's generator: samples")
plt.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Against the papers
#
# The papers train on the full 60,000-image MNIST training split (59,900 unlabelled images) for hundreds of
# epochs and report on the official 10,000-image test split; here the split the loader found (printed at the
# top) is cut into the training pool and the held-out digits above, and the models saw the pool for a few
# minutes.

# %% slideshow={"slide_type": "subslide"}
m_sup, m_fm, m_eb = (float(err[m].mean()) for m in METHODS)
papers = {"Ladder network (Rasmus et al. 2015)": 1.36, "EBGAN-LN (Zhao et al. 2017)": 1.04,
          "feature matching (Salimans et al. 2016)": 0.93}
for name, e in papers.items():
    print(f"{name:42s} {e:5.2f}% error with 100 labels, on 60,000 images")
more_data = 60000 / len(pool)  # the papers' unlabelled images against ours (about 1 with the full training split)
print(f"{'ours, feature matching':42s} {100 * m_fm:5.2f}% with 100 labels, on {len(pool):,} images"
      + (f" ({more_data:.1f} times fewer)" if more_data >= 1.5 else "") + f", {S.steps:,} steps")
l_sup, l_fm, l_eb = (float(err_last[m].mean()) for m in METHODS)
# the rule over the test digits: each digit's error averaged over the seeds, A and B paired on the same digits
wrong_rate = {m: torch.stack(wrong[m]).double().mean(0).numpy() for m in METHODS}
rule = lambda a, b, name_a, name_b: compare_scores(  # noqa: E731
    lambda e: e.mean(), wrong_rate[a], wrong_rate[b], None, name_a, name_b, "test error", higher_is_better=False,
    unit="test digit")
ssl_verdicts = [rule("feature matching", "supervised only", "feature matching", "the 100 labels alone"),
                rule("EBGAN, decaying margin", "supervised only", "the EBGAN-style model", "the 100 labels alone"),
                rule("EBGAN, decaying margin", "feature matching", "the EBGAN-style model", "feature matching")]
display(Markdown(
    f"Test errors (averaged weights, mean over {len(S.seeds)} seeds): {100 * m_sup:.1f}% with the 100 labels alone, "
    f"{100 * m_fm:.1f}% with feature matching, {100 * m_eb:.1f}% with the EBGAN-style model (last weights "
    f"{100 * l_sup:.1f}%, {100 * l_fm:.1f}% and {100 * l_eb:.1f}%). By the course's rule, with the interval over the "
    f"{len(y_test):,} test digits (it says how much the verdict depends on the digits drawn, not on the seeds): "
    + "; ".join(v.sentence() for v in ssl_verdicts) + ". "
    "The unlabelled digits and the generator's "
    "contrastive samples carry the difference: the same classifier, the same 100 labels. The papers' errors near 1% "
    "come from " + (f"{more_data:.1f} times more unlabelled data and " if more_data >= 1.5 else "")
    + "far longer training (and, for EBGAN, a ladder "
    "network as the classifier). Salimans et al. also report that feature matching gives the better classifier "
    "while minibatch discrimination gives the better-looking samples: a good classifier does not need a good "
    "generator (its samples are shown above)."
    + (" Why the EBGAN-style model lags: its energy is one decoder on the classifier's last hidden layer, a weak "
       "stand-in for the ladder network (a reconstruction at every layer) that EBGAN used."
       if ssl_verdicts[2].winner == "feature matching" else "")))
if not is_test():
    assert m_fm <= 0.5 * m_sup, f"the semi-supervised error should be at most half the supervised one: {m_fm:.3f} vs {m_sup:.3f}"
    assert all(f < s for f, s in zip(errors["feature matching"], errors["supervised only"])), \
        "feature matching should beat the supervised-only classifier on every seed"
    assert m_eb < m_sup, "the EBGAN-style model should beat the supervised-only classifier"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
display(Markdown("\n".join([
    f"* With 100 labels the classifier alone erred on {100 * m_sup:.1f}% ± {100 * spread(err[METHODS[0]]):.1f} of "
    f"held-out digits; as a $(K+1)$-class discriminator with feature matching on {100 * m_fm:.1f}% ± "
    f"{100 * spread(err[METHODS[1]]):.1f}; EBGAN-style with a decaying margin on {100 * m_eb:.1f}% ± "
    f"{100 * spread(err[METHODS[2]]):.1f} ({len(S.seeds)} seeds).",
    "* The generator's samples act as negative examples: they teach the classifier where the data are not, the "
    "role the lecture gives to contrastive samples from chapter 01 on.",
])))

# %% [markdown] slideshow={"slide_type": "fragment"}
# **References.** T. Salimans, I. Goodfellow, W. Zaremba, V. Cheung, A. Radford, X. Chen (2016), *Improved
# techniques for training GANs*, arXiv:1606.03498. J. Zhao, M. Mathieu, Y. LeCun (2017), *Energy-based generative
# adversarial network*, arXiv:1609.03126. A. Rasmus, H. Valpola, M. Honkala, M. Berglund, T. Raiko (2015),
# *Semi-supervised learning with ladder networks*, arXiv:1507.02672.

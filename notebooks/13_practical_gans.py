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
# # 13 · GANs in practice: DCGAN's rules, label smoothing, noise and virtual batch norm
#
# **Question.** The lecture closes its GAN part with practical advice: DCGAN's architecture rules, one-sided
# label smoothing, noise on the discriminator's inputs, virtual batch normalization, and "use labels if
# you have them". Which of the lecture's practical tips for training GANs can we *see* work on MNIST at a
# laptop's budget, and why do they work?
#
# 1. **DCGAN's rules** {cite:p}`radford2016unsupervised`, ablated: without batch norm, and with real
#    and generated images mixed in one batch.
# 2. **One-sided label smoothing** {cite:p}`salimans2016improved` and **instance noise**
#    {cite:p}`sonderby2017amortised`: what they do to the discriminator, and why the tutorial warns against
#    smoothing the *fake* label (section 4.2 of {cite:t}`goodfellow2016nips`).
# 3. **Virtual batch normalization**: batch norm makes a generated sample depend on its batch-mates.
#
# Using labels, the lecture's last tip, is chapter 14 (class-conditional GANs). Code: `course_lib.practice`
# (networks, objectives, VBN) and the course's one trainer `train.train`.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** The lecture's practical tips, each shown to work or not at a laptop's budget. The mixed-batch
# failure is the memorable one: every seed fails, and the text explains why batch norm makes it fail. Budget time
# for label smoothing's closed form (D* with smoothed targets), which students can check on the slide.

# %% slideshow={"slide_type": "subslide"}
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from course_lib import is_test, practice, setup_notebook
from course_lib.exercises import check
from course_lib.plots import plot_history, show_images
from course_lib.verdicts import compare_runs

S, device = setup_notebook(
    seed=0,
    test=dict(steps=6, batch=16, width=8, z=16, n_judge=100, seeds=(0,), ablation_seeds=(0,), threads=1),
    real=dict(steps=500, batch=64, width=32, z=32, n_judge=1000, seeds=(0, 1, 2, 3, 4), ablation_seeds=(0, 1, 2),
              threads=2),
)

# %% slideshow={"slide_type": "subslide"}
mnist, judge = practice.images_and_judge("mnist", device=device, threads=S.threads)  # the course's judge (chapter 11)


def fit(objective, G, D, seed=0, desc=""):
    """One GAN run with DCGAN's optimiser (Adam, lr 2e-4, beta1 0.5), the same budget for every variant."""
    return practice.fit_gan(G, D, mnist.sample, objective, S.steps, S.batch, lr=2e-4, seed=seed, device=device,
                            threads=S.threads, desc=desc)


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. DCGAN's rules, ablated
#
# DCGAN's generator and discriminator are all-convolutional (strided convolutions instead of pooling),
# use batch norm everywhere except the generator's output layer and the discriminator's input layer, and
# are trained with Adam (lr 0.0002, $\beta_1 = 0.5$). One more rule hides in their code: the
# discriminator sees a batch of real images and a batch of generated ones **separately**, so each batch
# norm statistic is taken over one kind of image. We train three variants for the same number of steps
# and let the course's digit judge (chapter 11) look at 1,000 samples: the recognisable share (not
# rejected as unlike any digit, and one digit above 90% probability), the classes present, and the
# entropy of the class histogram (3.32 bits when all ten digits are equally common).

# %% slideshow={"slide_type": "subslide"}
variants = {
    "DCGAN": dict(norm="batch", bn_d=True, mixed=False, seeds=S.seeds),
    "no batch norm": dict(norm="none", bn_d=False, mixed=False, seeds=S.ablation_seeds),  # fewer: CPU time
    "real and fake in one batch": dict(norm="batch", bn_d=True, mixed=True, seeds=S.seeds),
}
runs, verdicts = {}, {name: [] for name in variants}
for name, v in variants.items():
    for seed in v["seeds"]:
        torch.manual_seed(seed)
        G = practice.DCGANGenerator(z_dim=S.z, width=S.width, norm=v["norm"])
        D = practice.DCGANDiscriminator(width=S.width, batchnorm=v["bn_d"])
        h = fit(practice.PracticalGAN(mixed=v["mixed"]), G, D, seed=seed, desc=f"{name}, seed {seed}")
        if seed == S.seeds[0]:
            runs[name] = (G, D, h)
        verdicts[name].append(judge(G.sample(S.n_judge, torch.Generator().manual_seed(1))))
        print(f"{name:28s} seed {seed}: {verdicts[name][-1]['text']}")


def mean_verdict(vs):
    """The seeds' mean recognisable share, classes and class entropy, and how many seeds collapsed (< 1.5 bits)."""
    return {k: sum(v[k] for v in vs) / len(vs) for k in ("recognisable", "classes", "entropy_bits")} | dict(
        collapsed=sum(v["entropy_bits"] < 1.5 for v in vs), n=len(vs))


# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 5))
for ax, (name, (G, D, h)) in zip(axes, runs.items()):
    show_images(ax, G.sample(36, torch.Generator().manual_seed(2)), nrow=6,
                title=f"{name} (seed {S.seeds[0]}): {100 * verdicts[name][0]['recognisable']:.0f}% recognisable")
plt.show()
vd, vn, vm = (mean_verdict(verdicts[k]) for k in variants)
share = {k: [v["recognisable"] for v in verdicts[k]] for k in variants}
rule_bn = compare_runs(share["DCGAN"], share["no batch norm"], a="DCGAN", b="DCGAN without batch norm",
                       what="the recognisable share")
rule_mixed = compare_runs(share["DCGAN"], share["real and fake in one batch"], a="DCGAN",
                          b="DCGAN with real and fake in one batch", what="the recognisable share")
failed = {k: sum(x < 0.02 for x in share[k]) for k in variants}  # (almost) nothing the judge recognises
say = lambda v: (f"{100 * v['recognisable']:.0f}% recognisable over {v['classes']:.1f} classes "  # noqa: E731
                 f"({v['entropy_bits']:.2f} bits)")
if failed["real and fake in one batch"] > vm["n"] / 2:
    mixed_words = (f"With real and generated images in one batch, {failed['real and fake in one batch']} of {vm['n']} runs "
                   "produced (almost) nothing the judge recognises as a digit, under 2% of their samples: the generator "
                   "never learned digits (right, its samples)"
                   + "".join(f"; another reached {100 * v['recognisable']:.0f}% recognisable, over {v['classes']} "
                             f"class{'es' if v['classes'] != 1 else ''}" for v in verdicts["real and fake in one batch"]
                             if v["recognisable"] >= 0.02) + ". ")
elif vm["collapsed"] > vm["n"] / 2:
    mixed_words = (f"With real and generated images in one batch, {vm['collapsed']} of {vm['n']} runs collapsed onto "
                   "a few digits (class entropy under 1.5 bits). ")
else:
    mixed_words = "With real and generated images in one batch the runs neither failed nor collapsed at this budget. "
display(Markdown(
    f"With the same budget, averaged over the seeds: DCGAN {say(vd)} ({vd['n']} seeds); without batch norm {say(vn)} "
    f"({vn['n']} seeds); "
    f"with real and fake in one batch {say(vm)}. The course's comparison rule (`course_lib.verdicts`: paired seeds, a bootstrap "
    f"interval): {rule_bn.clause()}. {rule_mixed.sentence()}. "
    + mixed_words
    + ("In one batch, each batch-norm statistic of the discriminator averages over real and generated images at once, "
       "so the discriminator sees every image through the statistics of the whole mixed batch, and what the generator "
       "is told about one image depends on the real images beside it. DCGAN's code keeps the two batches apart. "
       if rule_mixed.winner == "DCGAN" else "")
    + (f"Without batch norm {failed['no batch norm']} of {vn['n']} runs failed outright; DCGAN's authors credit batch "
       "norm with getting the generator to start learning. " if failed["no batch norm"] else "")))
if not is_test():
    assert rule_mixed.winner == "DCGAN" and vd["recognisable"] > 0.15, \
        f"the text says a mixed batch is worse than DCGAN's separate batches: {rule_mixed.sentence()}"
    assert sorted(share["real and fake in one batch"])[vm["n"] // 2] < 0.02, \
        "the judge must not count the mixed batch's blobs as digits"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. One-sided label smoothing and instance noise
#
# **Smoothing.** Train the discriminator towards the target $a$ on real data and $b$ on generated data
# instead of 1 and 0. The cross-entropy $-p_{data}[a \log D + (1-a)\log(1-D)] - p_{model}[b\log D + (1-b)\log(1-D)]$
# is minimised pointwise at
# $$D^*(x) = \frac{a\, p_{data}(x) + b\, p_{model}(x)}{p_{data}(x) + p_{model}(x)}.$$
# With $b = 0$ (**one-sided**: {cite:t}`salimans2016improved` use $a = 0.9$) the discriminator is only capped at $a$
# where there is no model mass: it can no longer grow arbitrarily confident, so its gradients do not vanish
# through a saturated sigmoid. With $b > 0$, wherever the model puts mass and the data do not,
# $D^* = b > 0$: the discriminator no longer tells the generator that those samples are wrong, and
# the generator has no reason to leave them (section 4.2 of {cite:t}`goodfellow2016nips`). We plot it
# for two 1-D Gaussians.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 13.3 (predict, then run): the optimal discriminator where only the model has mass
#
# With targets a = 0.9 for real and b = 0.1 for generated samples, what is $D^*(x)$ where $p_{data}(x) = 0$ but
# $p_{model}(x) > 0$? Write a number before you run the next cell.

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_13_3 = ...
prediction_13_3 = 0.1
### END SOLUTION

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
x = torch.linspace(-4, 6, 501)
p_data = torch.exp(-0.5 * x**2) / (2 * torch.pi) ** 0.5
p_model = torch.exp(-0.5 * (x - 2.5) ** 2) / (2 * torch.pi) ** 0.5
cases = {"no smoothing (a=1, b=0)": (1.0, 0.0), "one-sided (a=0.9, b=0)": (0.9, 0.0), "two-sided (a=0.9, b=0.1)": (0.9, 0.1)}
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(x, p_data, "k--", label="p_data")
ax.plot(x, p_model, "k:", label="p_model")
for name, (a, b) in cases.items():
    d = practice.optimal_discriminator_smoothed(p_data, p_model, a, b)
    ax.plot(x, d, label=f"D* {name}")
    print(f"{name:26s} D* at x = 5 (model only): {float(d[450]):.3f}   at x = -2 (data only): {float(d[200]):.3f}")
ax.set(xlabel="x", ylabel="density / D*(x)", title="the optimal discriminator with smoothed targets")
ax.legend(fontsize=8)
plt.show()

# %% slideshow={"slide_type": "subslide"}
check("13.3", prediction_13_3, actual=float(practice.optimal_discriminator_smoothed(p_data, p_model, 0.9, 0.1)[450]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 13.1 (implement): the optimal discriminator for smoothed targets
#
# Write `d_star_smoothed(p_data, p_model, a, b)`: the discriminator that minimises the cross-entropy with
# target a for real and b for generated samples, given the two densities on a grid (where both are positive).

# %% slideshow={"slide_type": "subslide"}
def d_star_smoothed(p_data, p_model, a, b):
    ### BEGIN SOLUTION
    return (a * p_data + b * p_model) / (p_data + p_model)
    ### END SOLUTION


check("13.1", d_star_smoothed)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Instance noise** adds the same Gaussian noise to real and generated images before the discriminator
# sees them (annealed to zero here). Two distributions on thin, disjoint manifolds never overlap, so a
# perfect discriminator exists and its gradient says little; blurred by noise they overlap, and $D$ stays
# informative. Both tricks are measured on MNIST against the DCGAN run of section 1: the discriminator's
# mean logit on real images (its confidence) and the classifier's verdict.

# %% slideshow={"slide_type": "subslide"}
tricks = {"one-sided smoothing (a = 0.9)": practice.PracticalGAN(smooth=0.1),
          "two-sided smoothing (a = 0.9, b = 0.1)": practice.PracticalGAN(smooth=0.1, fake_label=0.1),
          "instance noise (std 0.1, annealed)": practice.PracticalGAN(noise_std=0.1, noise_steps=S.steps)}
trick_runs = {"none (DCGAN of section 1)": runs["DCGAN"]}
for name, obj in tricks.items():
    torch.manual_seed(0)
    G, D = practice.DCGANGenerator(z_dim=S.z, width=S.width), practice.DCGANDiscriminator(width=S.width)
    trick_runs[name] = (G, D, fit(obj, G, D, desc=name))
trick_stats = {}
for name, (G, D, h) in trick_runs.items():
    v = verdicts["DCGAN"][0] if name.startswith("none") else judge(G.sample(S.n_judge, torch.Generator().manual_seed(1)))
    trick_stats[name] = dict(logit=h.last("logit_real", 100), d_real=h.last("d_real", 100), d_fake=h.last("d_fake", 100), v=v)
    print(f"{name:40s} mean logit on real {trick_stats[name]['logit']:6.2f}  D(real) {trick_stats[name]['d_real']:.2f}  "
          f"D(fake) {trick_stats[name]['d_fake']:.2f}  | {v['text']}")

# %% slideshow={"slide_type": "subslide"}
fig, ax = plt.subplots(figsize=(8, 4))
for name, (G, D, h) in trick_runs.items():
    plot_history(ax, {name: h["logit_real"]}, [name], smooth=25)
ax.set(xlabel="generator step", ylabel="D's mean logit on real images", title="how confident the discriminator gets")
plt.show()
base, one = trick_stats["none (DCGAN of section 1)"], trick_stats["one-sided smoothing (a = 0.9)"]
two, noisy = trick_stats["two-sided smoothing (a = 0.9, b = 0.1)"], trick_stats["instance noise (std 0.1, annealed)"]
display(Markdown(
    f"One-sided smoothing caps the discriminator's confidence: its mean logit on real images is {one['logit']:.2f} "
    f"(D = {one['d_real']:.2f}) against {base['logit']:.2f} (D = {base['d_real']:.2f}) without it "
    f"(the target a = 0.9 is the logit {torch.logit(torch.tensor(0.9)):.2f}). Smoothing the fake label too "
    f"raises D on generated images from {base['d_fake']:.2f} to {two['d_fake']:.2f}: part of what the generator "
    "produces is no longer called fake, as the closed form predicts. Instance noise of std 0.1, annealed to zero, "
    f"left the logit at {noisy['logit']:.2f}. On sample quality (one seed each, judged as in section 1): "
    + " ".join(compare_runs([t["v"]["recognisable"]], [base["v"]["recognisable"]], a=name, b="no trick",
                            what="the recognisable share").sentence() + "." for name, t in trick_stats.items()
               if t is not base)
    + " The tricks are insurance against a discriminator that wins too clearly; whether they pay at this budget "
    "would take five seeds each."))
if not is_test():
    assert one["logit"] < base["logit"] - 0.3, "one-sided smoothing should lower D's confidence on real images"
    assert two["d_fake"] > base["d_fake"] + 0.03, "smoothing the fake label should raise D on generated images"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Batch norm couples the samples of a batch; virtual batch norm does not
#
# In training mode batch norm normalises each image with the statistics of its whole batch, so a generated
# image changes when its batch-mates change. The **virtual batch normalization** of
# {cite:t}`salimans2016improved` normalises every example with the statistics of a **reference batch**,
# fixed once, and of the example itself. We generate a batch, replace every image but the first, and
# measure how far the first one moves.

# %% slideshow={"slide_type": "subslide"}
def moved(G, n=64, seed=0):
    """Largest pixel change of sample 0 when the other n - 1 codes of its batch are redrawn (train mode)."""
    z = G.sample_z(n, torch.Generator().manual_seed(seed))
    z2 = z.clone()
    z2[1:] = G.sample_z(n - 1, torch.Generator().manual_seed(seed + 100))
    G.train()
    with torch.no_grad():
        return float((G(z)[0] - G(z2)[0]).abs().max())


torch.manual_seed(0)
G_vbn, D_vbn = practice.DCGANGenerator(z_dim=S.z, width=S.width, norm="virtual"), practice.DCGANDiscriminator(width=S.width)
fit(practice.PracticalGAN(), G_vbn, D_vbn, desc="DCGAN with virtual batch norm")
G_bn = runs["DCGAN"][0]
shift_bn, shift_vbn = moved(G_bn), moved(G_vbn)
v_vbn = judge(G_vbn.sample(S.n_judge, torch.Generator().manual_seed(1)))
print(f"batch norm:         sample 0 moves by up to {shift_bn:.3f} (pixel values in [0, 1])")
print(f"virtual batch norm: sample 0 moves by up to {shift_vbn:.2e}")
print(f"virtual batch norm, the classifier's verdict: {v_vbn['text']}")
display(Markdown(
    f"With batch norm the first image changes by up to {shift_bn:.2f} in some pixel when only its batch-mates change; "
    f"with virtual batch norm by {shift_vbn:.1e}, rounding error. The price is a second forward pass through the "
    f"generator for the reference batch at every step; the samples are {100 * v_vbn['recognisable']:.0f}% recognisable."))
assert shift_vbn < 1e-5, "VBN: a sample must not depend on its batch-mates"
if not is_test():
    assert shift_bn > 0.01, "batch norm couples the samples of a batch"

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 13.2 (implement): batch normalisation
#
# Write `batch_norm(x)`: each feature of a batch (B, F) normalised with the batch's mean and (biased) variance,
# $\epsilon = 10^{-5}$, without the learned scale and shift.

# %% slideshow={"slide_type": "subslide"}
def batch_norm(x):
    ### BEGIN SOLUTION
    return (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)
    ### END SOLUTION


check("13.2", batch_norm)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
display(Markdown("\n".join([
    f"* DCGAN's rules, ablated at the same budget ({vd['n']}, {vn['n']} and {vm['n']} seeds): {say(vd)} with them, {say(vn)} without batch norm, "
    f"{say(vm)} with real and fake in one batch. {rule_bn.sentence()}. {rule_mixed.sentence()}.",
    f"* One-sided label smoothing lowered the discriminator's mean logit on real images from {base['logit']:.2f} to "
    f"{one['logit']:.2f}; smoothing the fake label too leaves D* = b > 0 where only the model has mass, and raised "
    f"D on generated images from {base['d_fake']:.2f} to {two['d_fake']:.2f}.",
    f"* Batch norm moved a sample by up to {shift_bn:.2f} when its batch-mates changed; virtual batch norm by {shift_vbn:.0e}.",
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** I. Goodfellow (2016), *NIPS 2016 Tutorial: Generative Adversarial Networks*, arXiv:1701.00160. A.
# Radford, L. Metz, S. Chintala (2016), *Unsupervised Representation Learning with Deep Convolutional Generative
# Adversarial Networks*, International Conference on Learning Representations (ICLR), arXiv:1511.06434. T. Salimans, I.
# Goodfellow, W. Zaremba, V. Cheung, A. Radford, X. Chen (2016), *Improved Techniques for Training GANs*, Advances in
# Neural Information Processing Systems (NeurIPS), arXiv:1606.03498. C. K. Sønderby, J. Caballero, L. Theis, W. Shi, F.
# Huszár (2017), *Amortised MAP Inference for Image Super-Resolution*, International Conference on Learning
# Representations (ICLR), arXiv:1610.04490.
#
# Next: [chapter 14, class-conditional GANs](14_conditional_gans.ipynb): the lecture's last tip, "use labels
# if you have them".

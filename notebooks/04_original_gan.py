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
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 · The original GAN: a discriminator that leads, or an evaluation function that goes flat?
#
# **Question.** Does the original GAN's discriminator lead the generator to the data, and is it
# still a useful evaluation function when training ends?
#
# The recaps taught us to score structured outputs with an evaluation function and to fit
# latent-variable models by maximum likelihood. A generative adversarial network
# {cite:p}`goodfellow2014generative` does neither directly: a generator $G$ maps noise
# $z \sim \mathcal N(0, I)$ to samples, and a discriminator $D$ is trained to tell those samples
# from real ones. The two play
#
# $$\min_G \max_D \; V(D, G) = \mathbb E_{x\sim p_{data}}[\log D(x)] + \mathbb E_{z}[\log(1 - D(G(z)))].$$
#
# This notebook checks the theory behind that game by experiment:
#
# 1. for a fixed generator, the best discriminator is $D^* = p_{data}/(p_{data} + p_G)$;
# 2. at $D^*$, the value of the game is $-\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_G)$;
# 3. the three generator losses behave very differently when $D$ is confident;
# 4. the lecture's toy runs (Pdata = origin, line, 1-D Gaussian; $D$ trained 100 iterations
#    per round): does the discriminator really end up flat?
# 5. a vanilla GAN on eight Gaussians, measured by mode coverage.
#
# Run it with `COURSE_PROFILE=test` for a quick pass; the default real profile shows the claims.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** The chapter has one claim and one twist: D* = p_data / (p_data + p_G) (check it against the
# closed form on the slide), and D is not a lasting score once training ends. Move the panel's slider live when a
# kernel runs; without one, show its pictures. Budget 5 minutes for the non-saturating loss: students often ask why
# the minimax loss is not used in practice.

# %% slideshow={"slide_type": "subslide"}
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from course_lib import is_test, losses, metrics, models, plots, setup_notebook, toys
from course_lib.exercises import check
from course_lib.train import TrainConfig, evenly_spaced, train
from course_lib.widgets import gan_playground

S, device = setup_notebook(
    seed=0,
    test=dict(dstar_rounds=30, dstar_critic=10, sat_steps=40, sat_critic=10, toy_rounds=4, toy_critic=25,
              ring_steps=150, ring_seeds=2, frames=4, widget_steps=30),
    real=dict(dstar_rounds=200, dstar_critic=20, sat_steps=200, sat_critic=20, toy_rounds=60, toy_critic=100,
              ring_steps=3000, ring_seeds=3, frames=12, widget_steps=500),
    full=dict(ring_steps=20000, ring_seeds=5, frames=16),
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The optimal discriminator
#
# For a fixed $G$, $V$ is an integral over $x$ of $p_{data}(x)\log D(x) + p_G(x)\log(1 - D(x))$.
# Maximising $a \log y + b \log(1-y)$ pointwise gives $y = a/(a+b)$, hence
# $D^*(x) = p_{data}(x) / (p_{data}(x) + p_G(x))$ (Proposition 1 of {cite:t}`goodfellow2014generative`).
#
# **Experiment.** Freeze a generator that outputs $\mathcal N(0, 1)$, take $p_{data} = \mathcal N(2, 0.5^2)$,
# and train only $D$ (the trainer with a frozen $G$: its generator steps change nothing).
# Then compare the learned $D$ with $D^*$ computed from the two known densities.

# %% slideshow={"slide_type": "subslide"}
target_1d = toys.gaussian1d(mean=2.0, std=0.5)
G_fixed = models.fixed_gaussian_generator(mean=0.0, std=1.0).to(device)
torch.manual_seed(0)
D = models.Discriminator(x_dim=1, hidden=100, depth=2).to(device)
hist = train(G_fixed, D, target_1d.sample, losses.GANObjective(),
             TrainConfig(steps=S.dstar_rounds, n_critic=S.dstar_critic, batch_size=512, lr_d=1e-3, progress=False))

xs = torch.linspace(-7.0, 7.5, 1451, dtype=torch.float64)  # wide enough that both densities integrate to 1
dx = float(xs[1] - xs[0])
p_data = target_1d.log_prob(xs[:, None]).exp()
p_g = torch.exp(-0.5 * xs**2) / math.sqrt(2 * math.pi)
d_star = metrics.optimal_discriminator(p_data, p_g)
with torch.no_grad():
    d_learned = torch.sigmoid(D(xs[:, None].float().to(device))).double().cpu()
support = (p_data + p_g) > 0.05          # where samples actually fall
gap = float((d_learned - d_star).abs()[support].max())
print(f"discriminator steps: {S.dstar_rounds * S.dstar_critic}")
print(f"largest |D - D*| where p_data + p_G > 0.05: {gap:.3f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(xs, p_data, label="$p_{data} = N(2, 0.5^2)$")
ax.plot(xs, p_g, label="$p_G = N(0, 1)$ (fixed)")
ax.plot(xs, d_star, "k--", lw=2, label="$D^* = p_{data}/(p_{data}+p_G)$")
ax.plot(xs, d_learned, c="tab:red", lw=1.5, label="learned $D$")
ax.set(xlabel="x", ylabel="density / probability 'real'", title=f"learned D against D*: largest gap {gap:.3f}")
ax.legend(fontsize=8)
plt.show()
if not is_test():
    assert gap < 0.1, gap

# %% [markdown] slideshow={"slide_type": "fragment"}
# The learned curve sits on $D^*$ wherever samples fall; far out in the tails (almost no
# samples from either side) the network is free to do anything, which is why the gap is
# measured where $p_{data} + p_G > 0.05$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 4.1 (implement): the optimal discriminator
#
# Write `optimal_d(p_data, p_g)`: the discriminator that maximises $V(D, G)$ for fixed $G$, given the two densities
# evaluated on a grid (tensors of the same shape).

# %% slideshow={"slide_type": "subslide"}
def optimal_d(p_data, p_g):
    ### BEGIN SOLUTION
    return p_data / (p_data + p_g)
    ### END SOLUTION


check("4.1", optimal_d)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 4.3 (predict, then run): the value of the game at the optimum
#
# Before you run the check: when $p_G = p_{data}$ and $D = D^*$, what is $V(D^*, G)$? Write a number.

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_4_3 = ...
prediction_4_3 = -1.386
### END SOLUTION
check("4.3", prediction_4_3, actual=metrics.game_value(p_data, p_data, torch.full_like(p_data, 0.5), dx))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The value of the game at $D^*$ is a Jensen–Shannon divergence
#
# Substituting $D^*$ into $V$ gives $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_G)$, so with a
# perfect discriminator the generator minimises the JS divergence, whose minimum $-\log 4$ is
# reached only at $p_G = p_{data}$. We check the identity numerically and then slide $p_G$'s mean.

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
jsd = metrics.js_divergence(p_data, p_g, dx)
v_star = metrics.game_value(p_data, p_g, d_star, dx)
print(f"V(D*, G)          = {v_star:.4f}")
print(f"-log 4 + 2 JSD    = {-math.log(4) + 2 * jsd:.4f}")
print(f"V(learned D, G)   = {metrics.game_value(p_data, p_g, d_learned, dx):.2f}  (never above V(D*, G))")

# %% slideshow={"slide_type": "subslide"}
xs_wide = torch.linspace(-12, 14, 5201, dtype=torch.float64)
dxw = float(xs_wide[1] - xs_wide[0])
pd_wide = target_1d.log_prob(xs_wide[:, None]).exp()
means = torch.linspace(-6, 10, 81)
jsds = [metrics.js_divergence(pd_wide, torch.exp(-0.5 * (xs_wide - m) ** 2) / math.sqrt(2 * math.pi), dxw) for m in means]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(means, [-math.log(4) + 2 * j for j in jsds], label="$V(D^*, G) = -\\log 4 + 2\\,JSD$")
ax.axhline(-math.log(4), ls=":", c="k", label="$-\\log 4$ (needs $p_G = p_{data}$)")
ax.axhline(0.0, ls="--", c="gray", label="0: supports apart, JSD = log 2")
ax.set(xlabel="mean of $p_G = N(\\mu, 1)$", ylabel="value of the game", title="JSD is flat when the distributions are far apart")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Far from the data the curve is flat at $0$ ($\mathrm{JSD} = \log 2$): a generator whose samples
# do not overlap the data gets no signal from the value of the game. That flatness is the
# starting point of WGAN {cite:p}`arjovsky2017wasserstein` and, through margins instead of probabilities,
# of the energy-based GANs in the next chapters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Three generator losses
#
# The minimax game has $G$ minimise $\mathbb E\log(1 - D(G(z)))$. In his NIPS tutorial,
# {cite:t}`goodfellow2016nips` compares it with two alternatives:
#
# | name | $J_G$ | gradient w.r.t. the logit $\sigma^{-1}(D)$ |
# |---|---|---|
# | minimax (saturating) | $\mathbb E \log(1 - D(G(z)))$ | $-D$ |
# | non-saturating | $-\mathbb E \log D(G(z))$ | $-(1 - D)$ |
# | maximum likelihood | $-\tfrac12 \mathbb E\, e^{\sigma^{-1}(D(G(z)))}$ | $-\tfrac12\, D/(1-D)$ |
#
# When $D$ confidently rejects the fakes ($D(G(z)) \to 0$), the minimax and maximum-likelihood
# gradients vanish, the non-saturating one does not. The plot uses autograd on the course's
# loss functions, not the formulas in the table.

# %% slideshow={"slide_type": "subslide"}
d_axis = torch.linspace(0.005, 0.995, 199, dtype=torch.float64)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for name in losses.GENERATOR_LOSSES:
    ax1.plot(d_axis, losses.generator_loss_of_D(name, d_axis), label=name)
    logit = torch.log(d_axis / (1 - d_axis)).requires_grad_(True)
    grad, = torch.autograd.grad(losses.generator_loss(name)(logit)[0] * len(logit), logit)
    ax2.plot(d_axis, grad, label=name)
ax1.set(xlabel="D(G(z))", ylabel="$J_G$ per sample", ylim=(-10, 6), title="generator losses")
ax2.set(xlabel="D(G(z))", ylabel="$\\partial J_G / \\partial\\, \\mathrm{logit}$", ylim=(-5, 0.2), title="their gradients")
ax1.legend(fontsize=8), ax2.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# **Experiment.** Put the data far away, $p_{data} = \mathcal N(5, 0.5^2)$, start $G$ near $0$, let $D$
# take 20 steps per generator step so it is confident from the start, and train with plain SGD
# (Adam would rescale tiny gradients and hide the effect). Same seed and networks for each loss.

# %% slideshow={"slide_type": "subslide"}
far = toys.gaussian1d(mean=5.0, std=0.5)
runs = {}
for name in losses.GENERATOR_LOSSES:
    torch.manual_seed(0)
    G = models.Generator(z_dim=1, x_dim=1, hidden=100, depth=1).to(device)
    D = models.Discriminator(x_dim=1, hidden=100, depth=1).to(device)
    means_seen = []
    track = lambda step, G, D, h: means_seen.append(float(G.sample(500, torch.Generator().manual_seed(1)).mean()))
    hist = train(G, D, far.sample, losses.GANObjective(name),
                 TrainConfig(steps=S.sat_steps, n_critic=S.sat_critic, batch_size=256, lr_d=0.1, lr_g=0.02,
                             optimizer="sgd", progress=False), callback=track)
    runs[name] = (means_seen, hist)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (m, h) in runs.items():
    ax1.plot(range(1, len(m) + 1), m, label=name)
    ax2.plot(h["D_fake"], label=name)
ax1.axhline(5.0, ls=":", c="k", label="data mean")
ax1.set(xlabel="generator step", ylabel="mean of G(z)", title="where the generator's samples are")
ax2.set(xlabel="generator step", ylabel="mean D(G(z))", yscale="log", title="how confidently D rejects them")
ax1.legend(fontsize=8), ax2.legend(fontsize=8)
plt.show()

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
for name, (m, h) in runs.items():
    print(f"{name:>18}: mean of G(z) after {len(m)} steps = {m[-1]:.1f}  (data mean 5.0)")
assert abs(runs["non_saturating"][0][-1] - 5.0) < 1.0
assert abs(runs["minimax"][0][-1]) < 1.0 and abs(runs["maximum_likelihood"][0][-1]) < 1.0

# %% slideshow={"slide_type": "subslide"}
ns_means = runs["non_saturating"][0]
arrival = next(i + 1 for i, m in enumerate(ns_means) if abs(m - 5.0) < 0.5)
moved = {name: abs(m[-1] - m[0]) for name, (m, _) in runs.items()}
display(Markdown(
    f"The non-saturating generator's mean comes within 0.5 of the data's after {arrival} generator steps "
    f"(of {len(ns_means)}); the minimax and maximum-likelihood generators move their mean by only "
    f"{moved['minimax']:.2f} and {moved['maximum_likelihood']:.2f} in all {len(ns_means)} steps, because "
    "$D(G(z))$ is tiny and so is their gradient. This is why practice uses the non-saturating loss even though "
    "the theory of sections 1–2 is about the minimax one."))
if not is_test():
    assert arrival <= len(ns_means) // 2 and max(moved["minimax"], moved["maximum_likelihood"]) < 1.0

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 4.2 (implement): the non-saturating loss
#
# Write `g_loss_ns(logits)`: the non-saturating generator loss $-\mathbb{E}[\log D(G(z))]$ from the discriminator's
# logits on a batch of generated samples ($D = \sigma(\text{logit})$), stable even for logits of $-800$.

# %% slideshow={"slide_type": "subslide"}
def g_loss_ns(logits):
    ### BEGIN SOLUTION
    return torch.nn.functional.softplus(-logits).mean()
    ### END SOLUTION


check("4.2", g_loss_ns)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The lecture's toy experiments: is the discriminator flat in the end?
#
# The lecture (after Benjamin Striner's demonstrations) trains $D$ for 100 iterations per
# round, then the generator once, on three targets: all data at the origin, data on a line,
# and a 1-D Gaussian, with $G$ and $D$ having one or two hidden layers of 100 units. The claim:
# *the discriminator is flat in the end*. If $p_G = p_{data}$ then $D^* = 1/2$ everywhere, so we
# measure $D$ on real and generated samples over the rounds.

# %% slideshow={"slide_type": "subslide"}
def toy_run(name, g_depth, d_depth, rounds=S.toy_rounds):
    t = toys.make_target(name)
    torch.manual_seed(0)
    G = models.Generator(z_dim=t.dim, x_dim=t.dim, hidden=100, depth=g_depth).to(device)
    D = models.Discriminator(x_dim=t.dim, hidden=100, depth=d_depth).to(device)
    cfg = TrainConfig(steps=rounds, n_critic=S.toy_critic, batch_size=128, lr_d=1e-3, lr_g=1e-3,
                      snapshot_at=evenly_spaced(rounds, S.frames), progress=True)
    return t, G, D, train(G, D, t.sample, losses.GANObjective(), cfg)

toy_runs = {
    ("gaussian1d", 2, 1): toy_run("gaussian1d", 2, 1),
    ("line", 1, 1): toy_run("line", 1, 1),
    ("line", 2, 1): toy_run("line", 2, 1),
    ("line", 1, 2): toy_run("line", 1, 2),
    ("origin", 1, 1): toy_run("origin", 1, 1),
}

# %% slideshow={"slide_type": "subslide"}
t, G, D, h = toy_runs[("gaussian1d", 2, 1)]
def draw_1d(snap, ax):
    g, d = snap.generator(G), snap.discriminator(D)
    plots.plot_surface_1d(ax, d, t, g.sample(2000, torch.Generator().manual_seed(1)))
    ax.set(ylim=(0, 1.6), title=f"Pdata = 1-D Gaussian, round {snap.step}: G 2 hidden, D 1 hidden")
plots.animate(h.snapshots, draw_1d, figsize=(7, 3.8))

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(1, 4, figsize=(17, 4))
for ax, key in zip(axes, [k for k in toy_runs if k[0] != "gaussian1d"]):
    t, G, D, h = toy_runs[key]
    x_fake = G.sample(500, torch.Generator().manual_seed(1))
    zoom = None
    if key[0] == "origin":  # all data at one point: zoom in on the generated cloud, or it is one pixel wide
        r = max(0.01, 1.5 * float(x_fake.abs().quantile(0.95)))
        zoom = ((-r, r), (-r, r))
    plots.plot_surface_2d(ax, D, t, x_fake, n=100, n_real=300, bounds=zoom)
    ax.set_title(f"Pdata = {key[0]}: G {key[1]} hidden, D {key[2]} hidden\nafter {h.snapshots[-1].step} rounds"
                 + (f" (zoomed to ±{zoom[0][1]:.2g})" if zoom else ""), fontsize=9)
plt.tight_layout()
plt.show()

# %% slideshow={"slide_type": "subslide"}
t, G, D, h = toy_runs[("line", 1, 1)]
def draw_2d(snap, ax):
    plots.plot_surface_2d(ax, snap.discriminator(D), t, snap.generator(G).sample(500, torch.Generator().manual_seed(1)),
                          n=80, n_real=300)
    ax.set_title(f"Pdata = line, round {snap.step}")
plots.animate(h.snapshots, draw_2d, figsize=(5.5, 4.5))

# %% slideshow={"slide_type": "subslide"}
def far_from_half(D, x):
    with torch.no_grad():
        return float((torch.sigmoid(D(x.to(device))) - 0.5).abs().mean())

flatness = {}
print(f"{'run':<22}{'mean|D-1/2| early':>22}{'... at the end':>16}{'W1(G, data)':>13}")
for key, (t, G, D, h) in toy_runs.items():
    g = torch.Generator().manual_seed(3)
    x = torch.cat([t.sample(500, g), G.sample(500, g)])
    first = far_from_half(h.snapshots[1].discriminator(D), x)
    last = far_from_half(D, x)
    w1 = metrics.wasserstein_distance(G.sample(500, g), t.sample(500, g))
    print(f"{str(key):<22}{first:>22.3f}{last:>16.3f}{w1:>13.3f}")
    flatness[key] = (first, last, w1)

# %% slideshow={"slide_type": "subslide"}
def run_name(key):
    return f"{key[0]} (G {key[1]} hidden, D {key[2]} hidden)"

flat = [k for k, (a, b, _) in flatness.items() if b < a / 2]          # D ends at least twice as close to 1/2
ahead = [k for k, (a, b, _) in flatness.items() if b >= a]            # D as confident as early on, or more
between = [k for k in flatness if k not in flat + ahead]
lines = ["What the table and the pictures show is more interesting than the slogan:", ""]
if flat:
    lines.append("* **" + "; ".join(run_name(k) for k in flat) + ":** $D$ at the samples moves from confident to "
                 "within " + ", ".join(f"{flatness[k][1]:.2f}" for k in flat) + " of $1/2$ on average: the flat "
                 "equilibrium of the theory, seen from the samples, where the generator matches the data "
                 "($W_1$ " + ", ".join(f"{flatness[k][2]:.2f}" for k in flat) + ").")
if between:
    lines.append("* **" + "; ".join(run_name(k) for k in between) + ":** $D$ moves part of the way towards $1/2$ ("
                 + ", ".join(f"{flatness[k][0]:.2f} → {flatness[k][1]:.2f}" for k in between) + ").")
if ahead:
    lines.append("* **" + "; ".join(run_name(k) for k in ahead) + ":** $D$ ends as far from $1/2$ as it started or "
                 "farther (" + ", ".join(f"{flatness[k][0]:.2f} → {flatness[k][1]:.2f}" for k in ahead) + "): the "
                 "discriminator stays ahead and is nowhere near flat.")
o = flatness[("origin", 1, 1)]
lines.append(f"* **At the origin** the generator's samples end up $W_1$ = {o[2]:.3f} from the point, yet $D$ stays "
             f"{o[1]:.2f} from $1/2$ on average: a point mass and a narrow cloud have disjoint supports, the JS "
             "divergence is $\\log 2$ and a perfect discriminator exists, however close the cloud. $D$ can only be "
             "flat where $p_G = p_{data}$ *exactly*.")
display(Markdown("\n".join(lines)))
if not is_test():
    g1 = flatness[("gaussian1d", 2, 1)]
    assert g1[1] < g1[0] / 2                                  # the 1-D Gaussian run ends near-flat at the samples
    assert o[2] < 0.1 and o[1] > 0.1                           # origin: close in W1, still told apart
    assert flatness[("line", 1, 2)][1] > flatness[("line", 2, 1)][1]  # the deeper D stays further from flat

# %% [markdown] slideshow={"slide_type": "subslide"}
# Away from the data nothing constrains $D$: in the 2-D pictures most of the plane keeps
# whatever value it had, so "flat" can only ever mean flat where the samples are. And where the
# game does reach its equilibrium, the discriminator is no longer a useful *evaluation function*:
# it says "1/2" about everything it has seen. Where it does not, it is a classifier of the moment,
# not a score of how plausible $x$ is. That is the lecture's question: is "the discriminator leads
# the generator" the only reading of a GAN? The next chapters keep the discriminator as a
# meaningful **energy** instead.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Vanilla GAN on eight Gaussians
#
# Eight narrow Gaussians on a circle {cite:p}`metz2017unrolled` are the standard test of
# *mode collapse*: a generator that puts all its samples on a few of the modes.
#
# > **Measuring mode coverage** (used in every chapter from here on). With the target's centres and
# > standard deviation σ known, draw 2,500 samples from $G$. A sample is **high quality** when it
# > lies within 3σ of its nearest centre; a mode is **covered** when it holds at least a fifth of
# > the high-quality samples a perfect generator would put there (63 of 2,500 for 8 modes, 20 for
# > 25), so a few stray samples do not count (`metrics.mode_stats`; {cite:t}`srivastava2017veegan`
# > use the same two numbers). Both numbers are needed: a generator can cover every mode with blurry
# > samples, or one mode with perfect ones. Chapter 11 looks at what such statistics miss.

# %% slideshow={"slide_type": "subslide"}
ring = toys.ring8()
ring_runs = []
for seed in range(S.ring_seeds):
    torch.manual_seed(seed)
    G = models.Generator(z_dim=2, x_dim=2, hidden=128, depth=2).to(device)
    D = models.Discriminator(x_dim=2, hidden=128, depth=2).to(device)
    cfg = TrainConfig(steps=S.ring_steps, batch_size=256, lr_d=1e-3, lr_g=1e-3, seed=seed,
                      snapshot_at=evenly_spaced(S.ring_steps, S.frames))
    hist = train(G, D, ring.sample, losses.GANObjective("non_saturating"), cfg)
    stats = metrics.mode_stats(G.sample(2500, torch.Generator().manual_seed(100 + seed)), ring.centers, ring.std)
    ring_runs.append((G, D, hist, stats))
    print(f"seed {seed}: {stats}")

# %% slideshow={"slide_type": "subslide"}
G, D, hist, stats = ring_runs[0]
def draw_ring(snap, axes):
    g = snap.generator(G)
    x = g.sample(1000, torch.Generator().manual_seed(1))
    plots.plot_surface_2d(axes[0], snap.discriminator(D), ring, x, n=100, n_real=400)
    axes[0].set_title(f"step {snap.step}: {metrics.mode_stats(g.sample(2500, torch.Generator().manual_seed(2)), ring.centers, ring.std)}", fontsize=8)
    plots.plot_history(axes[1], hist, ["D_real", "D_fake"], smooth=25, title="mean D on real and fake")
    axes[1].axvline(max(snap.step, 1), c="k", ls=":")
plots.animate(hist.snapshots, draw_ring, ncols=2, figsize=(11, 4.3))

# %% slideshow={"slide_type": "subslide"}
covered = [r[3].modes_covered for r in ring_runs]
quality = [r[3].high_quality_fraction for r in ring_runs]
print(f"modes covered over {len(ring_runs)} seeds: {covered}  (mean {sum(covered) / len(covered):.1f} of 8)")
print(f"high-quality fraction: {[round(q, 3) for q in quality]}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Does the generator spread over the modes, or hop between them? Which modes seed 0's generator
# covers at each snapshot of the animation, and how often a covered mode is lost again:

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
G, D, hist, stats = ring_runs[0]
covered_sets = []
for snap in hist.snapshots:
    st = metrics.mode_stats(snap.generator(G).sample(2500, torch.Generator().manual_seed(2)), ring.centers, ring.std)
    covered_sets.append({i for i, c in enumerate(st.counts) if c >= st.min_count})
    print(f"step {snap.step:>5}: modes covered {sorted(covered_sets[-1])}")
lost = [(hist.snapshots[i + 1].step, sorted(a - b)) for i, (a, b) in enumerate(zip(covered_sets, covered_sets[1:])) if a - b]
print("modes lost between snapshots (step, modes):", lost)

# %% slideshow={"slide_type": "subslide"}
n_lost = sum(len(m) for _, m in lost)
if n_lost:
    story = (f"Seed 0's generator loses a covered mode {n_lost} time(s) between snapshots (the list above): its samples "
             "move between modes as the discriminator's bright region moves, rather than spreading over all of them "
             "at once.")
else:
    story = ("Seed 0's generator never loses a mode it covers between snapshots: in this run it spreads over the "
             "ring mode by mode rather than hopping between modes.")
display(Markdown(
    story + f" It ends with {stats.modes_covered} of 8 modes; over {len(ring_runs)} seeds the plain GAN covers "
    f"{min(covered)} to {max(covered)} (printed above): the spread over seeds is part of the result. The comparison "
    "chapter (09) sets it beside EBGAN, MAGAN, LS-GAN and BEGAN on the same targets and seeds."))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Play
#
# Pick a target, a generator loss, the number of discriminator steps per generator step and a
# learning rate; the button retrains a short run and redraws $D$, the samples and the losses.
# Things to try: `minimax` with `n_critic = 5` on `gaussian1d`; `grid25` with a large learning
# rate; `swissroll`.

# %% slideshow={"slide_type": "subslide"}
gan_playground(steps=S.widget_steps, device=device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
span = lambda lo, hi: f"{lo}" if lo == hi else f"{lo} to {hi}"  # noqa: E731
display(Markdown("\n".join([
    f"* Against a frozen generator, {S.dstar_rounds * S.dstar_critic} discriminator steps brought $D$ within {gap:.3f} "
    "of $D^* = p_{data}/(p_{data} + p_G)$ wherever samples fall. At $D^*$ the value of the game, "
    f"{v_star:.4f}, is $-\\log 4 + 2\\,\\mathrm{{JSD}}$ = {-math.log(4) + 2 * jsd:.4f}; with $p_G$'s mean at "
    f"{float(means[0]):g}, far from the data, it is {round(-math.log(4) + 2 * jsds[0], 3) + 0.0:.3f}, near the value's "
    "ceiling of 0 for distributions that do not overlap: there it gives the generator no direction.",
    f"* With the data far away and a confident $D$, the non-saturating generator's mean came within 0.5 of the data's "
    f"after {arrival} of {len(ns_means)} generator steps, while the minimax and maximum-likelihood generators moved "
    f"their mean by {moved['minimax']:.2f} and {moved['maximum_likelihood']:.2f}: their gradients vanish as "
    "$D(G(z)) \\to 0$.",
    f"* In the lecture's toy runs $D$ ended at least twice as close to 1/2 at the samples as early on in {len(flat)} "
    f"of {len(flatness)} runs" + (f" ({'; '.join(run_name(k) for k in flat)})" if flat else "")
    + f", and as far from 1/2 as it started, or farther, in {len(ahead)}"
    + (f" ({'; '.join(run_name(k) for k in ahead)})" if ahead else "") + ". A flat $D$ says 1/2 about everything "
    "it has seen, and a $D$ that stays ahead is a classifier of the moment: neither is a lasting score of how "
    "plausible $x$ is.",
    f"* At the origin the generator's samples ended $W_1$ = {o[2]:.3f} from the data point and $D$ ended {o[1]:.2f} "
    "from 1/2 on average. A point mass and a cloud of samples have disjoint supports, so a perfect discriminator "
    "exists however close the cloud comes: $D$ can be flat only where $p_G = p_{data}$ exactly.",
    f"* On eight Gaussians the non-saturating GAN covered {span(min(covered), max(covered))} of {stats.n_modes} modes "
    f"over {len(ring_runs)} seeds, with {span(f'{100 * min(quality):.0f}%', f'{100 * max(quality):.0f}%')} "
    "high-quality samples"
    + (f"; seed 0's generator lost a covered mode {n_lost} time(s) between snapshots, moving between modes rather "
       "than spreading over them." if n_lost else
       "; seed 0's generator never lost a mode it had covered between snapshots." if any(covered_sets) else "."),
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** M. Arjovsky, S. Chintala, L. Bottou (2017), *Wasserstein Generative Adversarial Networks*,
# International Conference on Machine Learning (ICML), arXiv:1701.07875. I. Goodfellow, J. Pouget-Abadie, M. Mirza, B.
# Xu, D. Warde-Farley, S. Ozair, A. Courville, Y. Bengio (2014), *Generative Adversarial Nets*, Advances in Neural
# Information Processing Systems (NeurIPS), arXiv:1406.2661. I. Goodfellow (2016), *NIPS 2016 Tutorial: Generative
# Adversarial Networks*, arXiv:1701.00160. L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein (2017), *Unrolled Generative
# Adversarial Networks*, International Conference on Learning Representations (ICLR), arXiv:1611.02163. A. Srivastava,
# L. Valkov, C. Russell, M. U. Gutmann, C. Sutton (2017), *VEEGAN: Reducing Mode Collapse in GANs using Implicit
# Variational Learning*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1705.07761.
#
# The toy experiments of section 4 follow Hung-yi Lee's lecture *Energy-based GAN*, which credits them to Benjamin
# Striner.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Next: [chapter 05, training GANs](05_training_gans.ipynb): which divergences keep a gradient where
# Jensen-Shannon goes flat, why a generator collapses onto a few modes, and whether gradient descent can
# find the equilibrium of a game at all.

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
# # 12 · How robust is each method to its settings? EBGAN's grid search, reproduced
#
# **Question.** A GAN {cite:p}`goodfellow2014generative` that works with one learning rate and fails
# with the next teaches little about the method and much about the search that found its settings.
# In section 5.1 of the EBGAN paper, {cite:t}`zhao2017energy` asked this directly: they trained GANs
# and EBGANs over the *same grid* of settings (depths, widths, learning rates, optimizers, and for
# EBGAN the margin m), scored every model, and drew the scores as histograms. Their reading: EBGAN's
# histogram sits to the right; the energy-based discriminator is **more robust** to its
# hyper-parameters. Is an energy-based GAN more robust to its hyper-parameters than the GAN, for the
# course's methods on the 2-D targets of chapters 04-09?
#
# **Experiment.** The grid spans learning rates of D and G, Adam's $\beta_1$, depth and width of both
# networks, the batch size, the margin m (EBGAN, EBGAN-PT) and the pulling-away weight (EBGAN-PT). We
# draw configurations uniformly from it (a random search over the grid {cite:p}`bergstra2012random`),
# and every method trains in *the same* configurations, configuration i from seed i: a GAN ignores the
# margin, an EBGAN the PT weight. Each run is scored as in chapter 09 (the mode statistics of chapter
# 04 on 2,500 samples: modes covered, share of high-quality samples within 3 σ of a mode). The runs
# that share an architecture train side by side as one ensemble (`course_lib.ensemble`);
# `course_lib.sweep` draws the grid, plans the ensembles and, started by `torchrun`, spreads them over
# processes and GPUs.


# %% [markdown] slideshow={"slide_type": "notes"}
# **Speaker notes.** The robustness question of the EBGAN paper, asked honestly: the same grid of settings for every
# method, and the whole distribution of results, not the best run. Show the histograms before the verdicts, and ask
# the room which method they would call 'robust' from the picture alone.

# %% slideshow={"slide_type": "subslide"}
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from course_lib import compare, evaluation, is_test, plots, setup_notebook, sweep
from course_lib.exercises import check
from course_lib.data import load_images
from course_lib.runtime import num_threads

S, device = setup_notebook(
    seed=0,
    test=dict(n_configs=5, steps=20, n_eval=500, threads=1,
              space=dict(lr_d=[1e-4, 1e-3], lr_g=[1e-4, 1e-3], beta1=[0.5], depth=[2], hidden=[16], batch_size=[32],
                         margin=[0.5, 2.0], pt_weight=[0.1]),
              mnist=dict(n_configs=2, steps=10, n_eval=200, clf_steps=30,
                         space=dict(lr_d=[1e-3], lr_g=[1e-3], beta1=[0.5], depth=[1], hidden=[32], batch_size=[32],
                                    margin=[0.05, 0.1], pt_weight=[0.1]))),
    real=dict(n_configs=12, steps=3000, n_eval=2500, threads=2,
              space=dict(lr_d=[3e-4, 1e-3], lr_g=[3e-4, 1e-3], beta1=[0.5, 0.9], depth=[2, 3],
                         hidden=[128], batch_size=[64], margin=[0.5, 1.0, 2.0], pt_weight=[0.1, 0.5]),
              mnist=None),  # the MNIST search needs the full profile's budget (a GPU)
    full=dict(n_configs=120, steps=20000,
              space=dict(lr_d=[1e-4, 3e-4, 1e-3], lr_g=[1e-4, 3e-4, 1e-3], beta1=[0.5, 0.9], depth=[2, 3],
                         hidden=[128, 400], batch_size=[64, 256], margin=[0.5, 1.0, 2.0], pt_weight=[0.1, 0.5]),
              mnist=dict(n_configs=48, steps=10000, n_eval=1000, clf_steps=800,
                         space=dict(lr_d=[1e-4, 3e-4, 1e-3], lr_g=[1e-4, 3e-4, 1e-3], beta1=[0.5, 0.9], depth=[2, 3],
                                    hidden=[256, 512], batch_size=[64], margin=[0.05, 0.1, 0.3], pt_weight=[0.1, 0.5]))),
)
METHODS = ("gan", "ebgan", "ebgan_pt")
TARGETS = ("ring8", "grid25")
base = compare.MethodConfig(steps=S.steps, n_eval=S.n_eval)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The grid
#
# The grid below is the one of the active profile (printed from the settings). The `real`
# profile, meant for a laptop, draws fewer configurations and trains each for fewer steps than
# the `full` profile, whose budget (120 configurations, 20,000 generator steps) is meant for a
# GPU; the text is the same for both.

# %% slideshow={"slide_type": "subslide"}
configs = sweep.sample_configs(S.space, S.n_configs, seed=0)
print(f"grid: {sweep.grid_size(S.space):,} configurations; drawn: {len(configs)}; {S.steps:,} generator steps each")
for name, values in S.space.items():
    print(f"  {name:>10}: {values}")
runs = sweep.grid_search_runs(METHODS, TARGETS, configs)
groups = sweep.plan(runs, base)
print(f"{len(runs)} runs ({len(METHODS)} methods x {len(TARGETS)} targets x {len(configs)} configurations), "
      f"trained as {len(groups)} ensembles (one per method and architecture)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 12.3 (predict, then run): which method fails more often
#
# The next cells train every method in every configuration. Before you run them: on grid25, which will fail
# (cover at most one mode) in more configurations, `"GAN"`, `"EBGAN"`, or will they fail equally often
# (`"the same"`)?

# %% slideshow={"slide_type": "subslide"}
### BEGIN SOLUTION
# STUB: prediction_12_3 = ...
prediction_12_3 = 'GAN'
### END SOLUTION

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Train every method in every configuration
#
# One call trains the whole search: `sweep.run_sweep` (a progress bar per ensemble). A run that
# diverges is frozen and scored as it stands (the trainer stops that member, the others go on);
# its row says so.

# %% slideshow={"slide_type": "subslide"}
with num_threads(S.threads):
    rows = sweep.run_sweep(runs, base, device=str(device))
print(f"{len(rows)} runs; {sum(bool(r['diverged']) for r in rows)} diverged")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The histograms
#
# As in the paper's figures, one histogram per method over the grid: here of the modes covered
# (top) and of the share of high-quality samples (bottom), for each target.

# %% slideshow={"slide_type": "subslide"}
fig, axes = plt.subplots(2, 2, figsize=(11, 7))
for j, target in enumerate(TARGETS):
    mine = [r for r in rows if r["target"] == target]
    n_modes = mine[0]["n_modes"]
    plots.plot_histograms(axes[0, j], {compare.LABELS[m]: [r["modes"] for r in mine if r["method"] == m] for m in METHODS},
                          bins=[b - 0.5 for b in range(n_modes + 2)], xlabel=f"modes covered (of {n_modes})",
                          title=f"{target}: modes covered per configuration")
    plots.plot_histograms(axes[1, j], {compare.LABELS[m]: [100 * r["hq"] for r in mine if r["method"] == m] for m in METHODS},
                          bins=[10 * i for i in range(11)], xlabel="high-quality samples (%)",
                          title=f"{target}: sample quality per configuration")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# A run that ends on **no mode at all** (its samples fall between the modes, or on one point far from
# them) is the failure a grid search fears most. Since every method trains in the same
# configurations, the runs pair by configuration: the course's rule (`course_lib.verdicts`, a paired
# bootstrap {cite:p}`efron1993introduction` over the configurations; `sweep.paired_verdict`) says
# whether a method ends on no mode more often than the GAN in the same settings, or that this many
# configurations cannot tell.

# %% slideshow={"slide_type": "subslide"}
EB = ("ebgan", "ebgan_pt")  # the energy-based methods, each compared with the GAN


def count(target, method, test):
    mine = [r for r in rows if r["target"] == target and r["method"] == method]
    return f"{sum(test(r) for r in mine)} of {len(mine)}"


zero = {(t, m): sweep.paired_verdict(rows, t, m, "gan", value=lambda r: r["modes"] == 0,
                                     what="the share of runs that cover no mode", higher_is_better=False)
        for t in TARGETS for m in EB}
display(Markdown("**What the histograms show.** " + " ".join(
    f"On {t}, the runs that cover no mode: " + ", ".join(f"{compare.LABELS[m]} {count(t, m, lambda r: r['modes'] == 0)}"
                                                         for m in METHODS)
    + " configurations. " + " ".join(zero[t, m].sentence() + "." for m in EB) for t in TARGETS)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What the histograms say
#
# A grid search is read best from the whole histogram, not from one line drawn on it. Per target
# and method the table gives the share of runs that **fail** (cover at most one mode: nothing or
# a collapse), and the quartiles of the modes covered. Then, for each energy-based method against
# the GAN, two verdicts of the course's rule, paired by configuration: on the modes covered (the
# mean of the per-configuration differences, with its bootstrap interval), and on the share of
# failed runs. The sentences below are built from those verdicts, nothing else.

# %% slideshow={"slide_type": "subslide"}
summary = sweep.robustness(rows, {t: (0, 0.0) for t in TARGETS}, fail_at=1)  # "good" comes in the next section
by = {(s["target"], s["method"]): s for s in summary}
lines = ["| target | method | runs | fail (<= 1 mode) | no mode | modes: lower quartile / median / upper quartile / best "
         "| median HQ | diverged |", "|---|---|---|---|---|---|---|---|"]
for s in summary:
    lines.append(f"| {s['target']} | {compare.LABELS[s['method']]} | {s['runs']} | {s['failed']} ({100 * s['failed_share']:.0f}%) | "
                 f"{s['zero']} | {s['modes_q1']} / {s['modes_median']} / {s['modes_q3']} / {s['modes_best']} of {s['n_modes']} | "
                 f"{100 * s['hq_median']:.0f}% | {s['diverged']} |")
display(Markdown("\n".join(lines)))

# %% slideshow={"slide_type": "subslide"}
check("12.3", prediction_12_3, actual=(by["grid25", "gan"]["failed"], by["grid25", "ebgan"]["failed"]))

# %% slideshow={"slide_type": "subslide"}
modes_v = {(t, m): sweep.paired_verdict(rows, t, m, "gan") for t in TARGETS for m in EB}
fail_v = {(t, m): sweep.paired_verdict(rows, t, m, "gan", value=lambda r: r["modes"] <= 1,
                                       what="the share of runs that fail (cover at most one mode)", higher_is_better=False)
          for t in TARGETS for m in EB}
display(Markdown("**Is the energy-based GAN more robust to its settings?**\n\n" + "\n".join(
    f"* {t}: " + " ".join(f"{modes_v[t, m].sentence()}. {fail_v[t, m].sentence()}." for m in EB) for t in TARGETS)
    + ("" if not is_test() else "\n\n(Test profile: a handful of tiny runs; the numbers say nothing yet.)")))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Good runs, by a line the budget can reach
#
# The paper's histograms are often read with a line drawn on them: the share of models above a
# score. A fixed line, such as 20 of grid25's 25 modes, that no run reaches at this budget makes
# every method equally "bad" and says nothing about robustness. So the line is drawn from what
# the best run of *any* method reaches on the target at this budget: a run is **good** when it
# covers at least 3/4 of the modes of that best run, with at least half its share of
# high-quality samples (`sweep.reachable_good`). Good then means "close to the best this budget
# allows", and the question becomes which method lands there from more of its settings.

# %% slideshow={"slide_type": "subslide"}
GOOD = sweep.reachable_good(rows, modes_frac=0.75, hq_frac=0.5)
best_any = sweep.best_configs(rows)
for t in TARGETS:
    (bm, b) = max(((m, best_any[t, m]) for m in METHODS), key=lambda mb: (mb[1]["modes"], mb[1]["hq"]))
    print(f"{t}: the best run of any method ({compare.LABELS[bm]}) covers {b['modes']} of {by[t, bm]['n_modes']} modes with "
          f"{100 * b['hq']:.1f}% high-quality samples -> good: >= {GOOD[t][0]} modes and >= {100 * GOOD[t][1]:.1f}% HQ")
good_v = {(t, m): sweep.paired_verdict(rows, t, m, "gan", value=lambda r: sweep.is_good(r, GOOD),
                                       what="the share of good runs")
          for t in TARGETS for m in EB}
display(Markdown("Good runs per method: " + "; ".join(
    f"{t}: " + ", ".join(f"{compare.LABELS[m]} {count(t, m, lambda r: sweep.is_good(r, GOOD))}" for m in METHODS)
    for t in TARGETS) + ".\n\n" + "\n".join(f"* {t}: " + " ".join(good_v[t, m].sentence() + "." for m in EB)
                                              for t in TARGETS)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 12.1 (implement): ranks with ties
#
# Rank tests compare two methods by the ranks of their results. Write `ranks(v)`: the rank of every value of
# `v` (1 for the smallest), tied values sharing the mean of the ranks they occupy; a tensor of floats.

# %% slideshow={"slide_type": "subslide"}
def ranks(v):
    ### BEGIN SOLUTION
    order = torch.argsort(v, stable=True)
    r = torch.empty(len(v), dtype=torch.float64)
    r[order] = torch.arange(1, len(v) + 1, dtype=torch.float64)
    for value in torch.unique(v):  # ties: the mean of their ranks
        tied = v == value
        r[tied] = r[tied].mean()
    return r
    ### END SOLUTION


check("12.1", ranks)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 12.2 (implement): the Mann-Whitney U statistic
#
# Write `mann_whitney_u(a, b)`: the number of pairs (one value of `a`, one of `b`) in which `a`'s value is
# larger, a tie counting one half; a number.

# %% slideshow={"slide_type": "subslide"}
def mann_whitney_u(a, b):
    ### BEGIN SOLUTION
    return float((a[:, None] > b[None, :]).sum() + 0.5 * (a[:, None] == b[None, :]).sum())
    ### END SOLUTION


check("12.2", mann_whitney_u)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Which settings matter?
#
# The same runs, sliced by one setting at a time: the share of good runs on ring8 for each value
# of each setting (averaged over everything else). A setting whose row changes little is one
# the method is robust to. The GAN ignores the margin and the PT weight: its rows for those two
# show how far a share moves by chance alone, with this many runs.

# %% slideshow={"slide_type": "subslide"}
def good_share_by(method, target, field):
    mine = [r for r in rows if r["method"] == method and r["target"] == target]
    out = {}
    for v in S.space[field]:
        part = [r for r in mine if r["overrides"][field] == v]
        if part:
            out[v] = sum(sweep.is_good(r, GOOD) for r in part) / len(part)
    return out


fields = [f for f in S.space if len(S.space[f]) > 1]
lines = ["| setting | value | " + " | ".join(compare.LABELS[m] for m in METHODS) + " |", "|---|---|" + "---|" * len(METHODS)]
for field in fields:
    shares = {m: good_share_by(m, "ring8", field) for m in METHODS}
    for v in S.space[field]:
        lines.append(f"| {field} | {v} | " + " | ".join(f"{100 * shares[m].get(v, float('nan')):.0f}%" for m in METHODS) + " |")
display(Markdown("Share of good runs on ring8, by setting:\n\n" + "\n".join(lines)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The best configuration of each method
#
# A fair comparison of methods gives each its own best settings at the same budget (chapter
# 09's comparison uses one learning rate for all; its `full` profile is where these belong). The
# best run of each method, by modes covered and then by high-quality share:

# %% slideshow={"slide_type": "subslide"}
# NBVAL_CHECK_OUTPUT
best = sweep.best_configs(rows)
for (target, method), shown in sorted(sweep.tuned(rows).items()):  # only the settings the method uses
    b = best[target, method]
    print(f"{target:>6} {compare.LABELS[method]:>9}: {b['modes']:2d} modes, {100 * b['hq']:5.1f}% HQ  {shown}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The paper's own setting: MNIST
#
# The paper searched its grid on MNIST with fully connected networks and judged the models by an
# inception score. The `full` profile does the same with MLPs on the offline MNIST set, judged by
# chapter 07's classifier: a run's "modes" are the digit classes among its recognisable samples
# (of 10), its "high-quality share" the recognisable share; the verdicts are those of section 4,
# paired by configuration. It needs a GPU's budget: the `real` profile skips it and
# says so below (the `test` profile runs a tiny version, to check that the code runs).

# %% slideshow={"slide_type": "subslide"}
if S.mnist:
    mnist = load_images("mnist")
    judge = evaluation.course_judge("mnist", device=device)
    print(judge.summary)
    digits = compare.JudgedImages(mnist.images, judge)
    m_configs = sweep.sample_configs(S.mnist["space"], S.mnist["n_configs"], seed=0)
    m_base = compare.MethodConfig(steps=S.mnist["steps"], n_eval=S.mnist["n_eval"], z_dim=32, code_dim=32)
    print(f"MNIST grid: {sweep.grid_size(S.mnist['space']):,} configurations; drawn: {len(m_configs)}; "
          f"{m_base.steps:,} generator steps each; MLPs, latent {m_base.z_dim}, autoencoder code {m_base.code_dim}")
    with num_threads(S.threads):
        m_rows = sweep.run_sweep(sweep.grid_search_runs(METHODS, ["mnist"], m_configs), m_base, device=str(device),
                                 targets={"mnist": digits})
    GOOD.update(sweep.reachable_good(m_rows))
    m_summary = sweep.robustness(m_rows, GOOD)
    by.update({(s["target"], s["method"]): s for s in m_summary})
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    plots.plot_histograms(axes[0], {compare.LABELS[m]: [r["modes"] for r in m_rows if r["method"] == m] for m in METHODS},
                          bins=[b - 0.5 for b in range(12)], xlabel="digit classes among recognisable samples (of 10)",
                          title="MNIST: classes per configuration")
    plots.plot_histograms(axes[1], {compare.LABELS[m]: [100 * r["hq"] for r in m_rows if r["method"] == m] for m in METHODS},
                          bins=[10 * i for i in range(11)], xlabel="recognisable samples (%)",
                          title="MNIST: recognisable share per configuration")
    fig.tight_layout()
    plt.show()
    m_verdicts = [sweep.paired_verdict(m_rows, "mnist", m, "gan", what="digit classes covered") for m in EB]
    display(Markdown("**On MNIST:** " + " ".join(v.sentence() + "." for v in m_verdicts)))
    for s in m_summary:
        print(f"{compare.LABELS[s['method']]:>9}: good {s['good']}/{s['runs']}, classes median {s['modes_median']}, "
              f"best {s['modes_best']}, median recognisable {100 * s['hq_median']:.0f}%, diverged {s['diverged']}")
else:
    print("MNIST search: skipped in this profile (it needs the full profile's budget; COURSE_PROFILE=full on a GPU)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Reading these numbers.** Robustness is a property of a method *and* a budget: a margin that
# suits short runs can be wrong for long ones, and a learning rate that fails in a short run may
# merely be slow. The paper scored MNIST models by an inception score; we score 2-D runs by their
# mode statistics, which say directly *what* fails (lost modes or smeared samples).
#
# **Scaling out.** The `full` profile is meant for a GPU; on several GPUs or machines the same
# search runs with `torchrun` (each rank trains its share of the ensembles, rank 0 gathers):
#
# ```
# python -c "from course_lib import sweep, compare; \
#   c = sweep.sample_configs({...the grid...}, 120); \
#   sweep.write_spec('grid.json', sweep.grid_search_runs(['gan', 'ebgan', 'ebgan_pt'], ['ring8', 'grid25'], c), \
#                    compare.MethodConfig(steps=20000))"
# python -m torch.distributed.run --standalone --nproc_per_node 8 -m course_lib.sweep --spec grid.json --out rows.json
# ```

# %% slideshow={"slide_type": "skip"}
if not is_test():
    # the search trains: no method diverges in most configurations, and the best runs reach beyond a collapse on both
    # targets, so that the "good" line of section 4 asks for more than one mode (the best runs: 8 of 8 and 5 of 25 modes)
    assert all(s["diverged"] < s["runs"] / 2 for s in summary), summary
    assert GOOD["ring8"][0] >= 4 and GOOD["grid25"][0] >= 2, GOOD
    # every comparison rests on the planned pairs: one run per configuration and method
    assert all(v.paired and v.n == S.n_configs for v in (*modes_v.values(), *fail_v.values(), *zero.values())), modes_v

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What we saw

# %% slideshow={"slide_type": "subslide"}
verdicts_all = [*modes_v.values(), *fail_v.values()]
tally = {o: sum(v.outcome == o for v in verdicts_all) for o in ("a", "b", "none")}
display(Markdown("\n".join([
    f"* The grid search: {len(configs)} configurations drawn from a grid of {sweep.grid_size(S.space):,}, "
    f"{S.steps:,} generator steps each, {len(METHODS)} methods in the same configurations on {len(TARGETS)} targets "
    f"({len(rows)} runs, {sum(bool(r['diverged']) for r in rows)} diverged).",
    *(f"* {t}, modes covered (lower quartile / median / upper quartile): "
      + ", ".join(f"{compare.LABELS[m]} {by[t, m]['modes_q1']} / {by[t, m]['modes_median']} / {by[t, m]['modes_q3']} "
                  f"of {by[t, m]['n_modes']}, failing (<= 1 mode) in {by[t, m]['failed']} of {by[t, m]['runs']}"
                  for m in METHODS)
      + ". " + " ".join(f"{modes_v[t, m].sentence()}." for m in EB) for t in TARGETS),
    *(f"* {t}, failures: " + " ".join(f"{fail_v[t, m].sentence()}. {zero[t, m].sentence()}." for m in EB)
      for t in TARGETS),
    *(f"* {t}, good runs (>= {GOOD[t][0]} modes and >= {100 * GOOD[t][1]:.0f}% HQ, within reach of the best run of any "
      f"method at this budget): " + " ".join(f"{good_v[t, m].sentence()}." for m in EB) for t in TARGETS),
    f"* Of the {len(verdicts_all)} paired comparisons of an energy-based method with the GAN (modes covered and "
    f"failure share, both targets), {tally['a']} favour the energy-based method, {tally['b']} the GAN, and "
    f"{tally['none']} detect no difference with {S.n_configs} configurations: that is how far this budget "
    f"reproduces the paper's reading that EBGAN is the more robust of the two.",
])))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **References.** J. Bergstra, Y. Bengio (2012), *Random Search for Hyper-Parameter Optimization*, Journal of Machine
# Learning Research. B. Efron, R. J. Tibshirani (1993), *An Introduction to the Bootstrap*, Chapman & Hall. I.
# Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville, Y. Bengio (2014), *Generative
# Adversarial Nets*, Advances in Neural Information Processing Systems (NeurIPS), arXiv:1406.2661. J. Zhao, M. Mathieu,
# Y. LeCun (2017), *Energy-based Generative Adversarial Network*, International Conference on Learning Representations
# (ICLR), arXiv:1609.03126.
#
# Next: [chapter 13, practical GANs](13_practical_gans.ipynb): the tricks that made GANs train on images
# (DCGAN's architecture rules, label smoothing, virtual batch norm), each ablated at the same budget.

"""ipywidgets control panels that retrain a short run and redraw, for live teaching.

When the course's site is built (``course_lib.build`` sets ``$COURSE_PANEL_GRID``), each panel also draws a small grid
of its settings (``GRID``: e.g. three generator losses x three learning rates) and displays the pictures as one
output of type ``GRID_MIME``; the site and the decks turn it into pictures with sliders that work without a kernel.
In JupyterLab the variable is unset and nothing extra is trained.
"""
from __future__ import annotations

import base64
import itertools
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import compare, ebm, games, losses, methods, metrics, models, plots, toys
from .energy import EnergyMLP
from .train import TrainConfig, TrainingDiverged, train


GRID_VAR = "COURSE_PANEL_GRID"   # set (to anything but "" or "0"): panels draw their grid of settings too
GRID_MIME = "application/vnd.course.panel-grid+json"


def _png_bytes(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    return buf.getvalue()


def _label(control, value) -> str:
    """How a control shows ``value``: a dropdown its option's label, a slider the number."""
    for option in getattr(control, "options", ()) or ():
        label, v = option if isinstance(option, tuple) else (str(option), option)
        if v == value:
            return label
    return f"{value:g}" if isinstance(value, float) else str(value)


def panel_grid(grid, train_and_draw) -> dict:
    """The panel's pictures over every combination of ``grid`` = [(control, values), ...] (the first control varies
    slowest), each drawn by ``train_and_draw(None)`` with the controls set; the controls get their values back.

    Returns {"axes": [{"name", "labels", "start"}], "pictures": [base64 PNG or None], "errors": [message or None]};
    ``start`` is the index of the control's value when called (which must be one of its values)."""
    axes = []
    for control, values in grid:
        if control.value not in values:
            raise ValueError(f"the grid of {control.description!r} must hold its start value {control.value!r}, got {values}")
        axes.append(dict(name=control.description, labels=[_label(control, v) for v in values],
                         start=list(values).index(control.value)))
    saved = [control.value for control, _ in grid]
    pictures, errors = [], []
    try:
        for point in itertools.product(*(values for _, values in grid)):
            for (control, _), v in zip(grid, point):
                control.value = v
            try:
                fig = train_and_draw(None)
            except (TrainingDiverged, ebm.EBMDiverged, ValueError) as err:
                pictures.append(None)
                errors.append(f"{type(err).__name__}: {err}")
            else:
                pictures.append(base64.b64encode(_png_bytes(fig)).decode("ascii"))
                errors.append(None)
                plt.close(fig)
    finally:
        for (control, _), v in zip(grid, saved):
            control.value = v
    return dict(axes=axes, pictures=pictures, errors=errors)


def _panel(rows, train_and_draw, live: bool = False, grid=None):
    """Rows of controls, a "train and draw" button with a progress bar, and an output area; draws once now.

    ``live``: no button; every change of a control redraws at once (for what computes in a blink).
    ``grid``: [(control, values), ...], the settings a static copy of the panel steps through (drawn only when
    ``$COURSE_PANEL_GRID`` is set, i.e. while the site is built; ``panel_grid``).

    ``train_and_draw(progress)`` trains, draws and returns the figure; ``progress(step, total)`` moves the panel's bar
    (a widget beside the button: a text progress bar inside the output area would be captured
    there). A run that diverges or settings the method rejects print their message in the output area.
    """
    import ipywidgets as W

    button = W.Button(description="train and draw", button_style="primary")
    bar = W.IntProgress(value=0, min=0, max=1, description="training", bar_style="info")
    out = W.Output()

    def progress(step, total):
        if step in (1, total) or step % max(1, total // 50) == 0:
            bar.max, bar.value = total, step

    def redraw(_=None, follow=True):
        with out:
            out.clear_output(wait=True)
            try:
                train_and_draw(progress if follow else None)
            except (TrainingDiverged, ebm.EBMDiverged, ValueError) as err:
                print(f"{type(err).__name__}: {err}")
                return
            plt.show()

    button.on_click(redraw)
    # The first drawing runs while the notebook executes. It is put into the output area as its content
    # (a PNG in the widget's state, which the rendered HTML course shows too), not captured with `with out:`:
    # a headless executor (nbclient, nbconvert) intermittently waits forever for a cell whose messages an
    # Output widget captured (measured: notebook 04 hung after its last cell in one run of two).
    try:
        fig = train_and_draw(None)
    except (TrainingDiverged, ebm.EBMDiverged, ValueError) as err:
        out.append_stdout(f"{type(err).__name__}: {err}\n")
    else:
        out.append_display_data(_png(fig))
        plt.close(fig)
    if grid and os.environ.get(GRID_VAR, "") not in ("", "0"):  # before the live observers: setting values redraws nothing
        from IPython.display import display

        display({GRID_MIME: panel_grid(grid, train_and_draw),
                 "text/plain": "(this panel's pictures over a grid of its settings, for the course's site)"}, raw=True)
    if live:
        for control in (c for r in rows for c in r):
            control.observe(lambda change: redraw(follow=False), names="value")
        return W.VBox([W.HBox(r) for r in rows] + [out])
    return W.VBox([W.HBox(r) for r in rows] + [W.HBox([button, bar]), out])


def _png(fig):
    """A figure as an IPython PNG image (independent of the matplotlib backend)."""
    from IPython.display import Image

    return Image(_png_bytes(fig), format="png")


def run_gan(target="ring8", generator_loss: str = "non_saturating", n_critic: int = 1, lr: float = 1e-3,
            steps: int = 500, hidden: int = 100, depth: int = 2, seed: int = 0, device=None, progress=None):
    """Train a small GAN on a toy target (a name or a target object); returns (target, G, D, history).
    ``progress(step, total)`` follows the run."""
    t = toys.make_target(target) if isinstance(target, str) else target
    torch.manual_seed(seed)
    G = models.Generator(z_dim=t.dim, x_dim=t.dim, hidden=hidden, depth=depth)
    D = models.Discriminator(x_dim=t.dim, hidden=hidden, depth=depth)
    if device is not None:
        G, D = G.to(device), D.to(device)
    cfg = TrainConfig(steps=steps, n_critic=n_critic, lr_d=lr, lr_g=lr, batch_size=256, seed=seed, progress=False)
    callback = (lambda step, *_: progress(step, steps)) if progress else None
    history = train(G, D, t.sample, losses.GANObjective(generator_loss), cfg, callback=callback)
    return t, G, D, history


def draw_gan(t, G, D, history, fig=None):
    """The shared canvas for one trained GAN: D's surface with samples, and the loss curves."""
    fig = fig or plt.figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    x_fake = G.sample(1000, torch.Generator().manual_seed(1))
    if t.dim == 1:
        plots.plot_surface_1d(ax1, D, t, x_fake)
    else:
        plots.plot_surface_2d(ax1, D, t, x_fake, label="D(x)")
    title = f"{t.name}"
    if t.centers is not None and t.std is not None and t.dim == 2:
        title += f": {metrics.mode_stats(x_fake, t.centers, t.std)}"
    ax1.set_title(title, fontsize=9)
    plots.plot_history(ax2, history, ["d_loss", "g_loss"], smooth=10, title="losses")
    fig.tight_layout()
    return fig


def gan_playground(steps: int = 500, device=None):
    """Dropdowns and sliders (target, generator loss, n_critic, learning rate) and a button that retrains and redraws; returns the panel."""
    import ipywidgets as W

    target = W.Dropdown(options=sorted(toys.TARGETS), value="ring8", description="target")
    loss = W.Dropdown(options=sorted(losses.GENERATOR_LOSSES), value="non_saturating", description="G loss")
    n_critic = W.IntSlider(value=1, min=1, max=10, description="n_critic")
    lr = W.FloatLogSlider(value=1e-3, base=10, min=-4, max=-1.5, step=0.25, description="learning rate")
    n_steps = W.IntSlider(value=steps, min=max(10, steps // 10), max=max(steps * 4, 100), step=max(1, steps // 10), description="G steps")
    return _panel([[target, loss], [n_critic, lr], [n_steps]],
                  lambda progress: draw_gan(*run_gan(target.value, loss.value, n_critic.value, lr.value, n_steps.value,
                                                     device=device, progress=progress)),
                  grid=[(loss, ["minimax", "non_saturating", "maximum_likelihood"]), (lr, [1e-4, 1e-3, 1e-2])])


ENERGY_METHODS = methods.names("energy")  # the energy-based GANs of chapters 07-09 (course_lib.methods)


def run_energy_gan(method: str = "ebgan", target="ring8", steps: int = 1500, lr: float = 1e-3, margin: float = 1.0,
                   gamma: float = 0.5, pt_weight: float = 0.1, seed: int = 0, device: str = "cpu", progress=None) -> dict:
    """Train one energy-based GAN of chapters 07-09 on a toy target (a name or a target object, ``compare.run_toy``);
    returns its row with G, D and history.

    ``progress(step, total)`` follows the run."""
    compare._check_method(method, methods.names("energy", "gan"))
    cfg = energy_config(steps, lr, margin, gamma, pt_weight)
    callback = (lambda step, *_: progress(step, steps)) if progress else None
    return compare.run_toy(method, target, seed, cfg, device=str(device), return_models=True, progress=False,
                           callback=callback)


def energy_config(steps: int, lr: float, margin: float, gamma: float, pt_weight: float) -> compare.MethodConfig:
    """The panel's settings; MAGAN pre-trains for a tenth of the run (at most 200 steps) in epochs of half that."""
    epoch = min(100, max(1, steps // 20))
    return compare.MethodConfig(steps=steps, batch_size=128, lr_d=lr, lr_g=lr, margin=margin, gamma=gamma,
                                pt_weight=pt_weight, magan_warmup=2 * epoch, magan_epoch=epoch)


def draw_energy_gan(row: dict, fig=None):
    """The energy over the plane with real and generated samples, and the logged energies (and margin or k_t)."""
    fig = fig or plt.figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    t = row.get("target_object") or toys.make_target(row["target"])
    h = row["history"]
    vmax = 3 * max(h.last("e_real", 50), h.last("e_fake", 50), 1e-6)
    plots.plot_surface_2d(ax1, row["D"], t, row["samples"][:1000], label="energy D(x)", squash=False, vmin=0, vmax=vmax)
    ax1.set_title(f"{compare.LABELS[row['method']]} on {t.name}: {row['modes']}/{row['n_modes']} modes, "
                  f"{100 * row['hq']:.0f}% high quality", fontsize=9)
    keys = [k for k in ("e_real", "e_fake", "margin", "k") if k in h.log]
    plots.plot_history(ax2, h, keys, smooth=25, title="energies during training")
    if "margin" not in h.log and hasattr(row["objective"], "margin"):  # a fixed margin (EBGAN's m); MAGAN logs its own
        ax2.axhline(float(row["objective"].margin), color="k", ls="--", label="margin m")
        ax2.legend(fontsize=8)
    ax2.set(yscale="log")
    fig.tight_layout()
    return fig


def energy_playground(steps: int = 1500):
    """Method, target, learning rate, margin m, gamma and PT weight as controls; a button retrains (on the CPU) and redraws; returns the panel."""
    import ipywidgets as W

    method = W.Dropdown(options=[(compare.LABELS[m], m) for m in ENERGY_METHODS], value="ebgan", description="method")
    target = W.Dropdown(options=["ring8", "grid25"], value="ring8", description="target")
    lr = W.FloatLogSlider(value=1e-3, base=10, min=-4, max=-2, step=0.25, description="learning rate")
    n_steps = W.IntSlider(value=steps, min=max(20, steps // 10), max=max(steps * 4, 200), step=max(1, steps // 10), description="G steps")
    margin = W.FloatLogSlider(value=1.0, base=10, min=-2, max=1, step=0.25, description="m (EBGAN)")
    gamma = W.FloatSlider(value=0.5, min=0.05, max=1.0, step=0.05, description="γ (BEGAN)")
    pt = W.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05, description="PT (EBGAN-PT)")
    return _panel([[method, target], [lr, n_steps], [margin, gamma, pt]],
                  lambda progress: draw_energy_gan(run_energy_gan(method.value, target.value, n_steps.value, lr.value,
                                                                  margin.value, gamma.value, pt.value, progress=progress)),
                  grid=[(method, list(ENERGY_METHODS)), (target, ["ring8", "grid25"])])


# ---------------------------------------------------------------- the game V(x, y) = -x y (chapter 05)
def draw_game(method: str = "simultaneous", lr: float = 0.1, gamma: float = 1.0, steps: int = 150,
              start=(1.0, 1.0), fig=None):
    """The trajectory of ``method`` on V(x, y) = -x y from ``start``, and the eigenvalues of its update matrix."""
    gamma = gamma if method == "consensus" else 0.0
    traj = games.trajectory(method, *start, lr, steps, gamma)
    eig = games.eigenvalues(method, lr, gamma)
    fig = fig or plt.figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    plots.plot_trajectory(ax1, traj, label=f"{method}, lr = {lr:g}" + (f", γ = {gamma:g}" if gamma else ""))
    ax1.set(title=f"{steps} steps: distance to (0, 0) {np.hypot(*start):.2f} → {np.hypot(*traj[-1]):.2f}")
    plots.plot_eigenvalues(ax2, eig, label=f"{method}: |λ| = {np.abs(eig).max():.4f}")
    fig.tight_layout()
    return fig


def game_playground(steps: int = 150):
    """Method, step size and consensus weight for V(x, y) = -x y; every change redraws the trajectory at once."""
    import ipywidgets as W

    method = W.Dropdown(options=list(games.METHODS), value="simultaneous", description="method")
    lr = W.FloatLogSlider(value=0.1, base=10, min=-2, max=0.25, step=0.05, description="step size")
    gamma = W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1, description="consensus γ")
    n_steps = W.IntSlider(value=steps, min=10, max=1000, step=10, description="steps")
    return _panel([[method, lr], [gamma, n_steps]],
                  lambda progress: draw_game(method.value, lr.value, gamma.value, n_steps.value), live=True,
                  grid=[(method, list(games.METHODS)), (lr, [0.03, 0.1, 0.3])])


# ---------------------------------------------------------------- an energy trained by Langevin chains (chapter 06)
def run_ebm(target: str = "ring8", init: str = "buffer", chain_steps: int = 20, step_size: float = 0.01, noise: float = 1.0,
            steps: int = 300, hidden: int = 64, seed: int = 0, progress=None) -> dict:
    """Maximum likelihood with Langevin negatives on a widened 2-D target (``toys.widened``), on the CPU, outside the run store.

    Returns the target, the run and its sampler; ``progress(step, total)`` follows the run."""
    targets = toys.widened()
    if target not in targets:
        raise ValueError(f"unknown target {target!r}; choose one of {sorted(targets)}")
    t = targets[target]
    box = ebm.Uniform(t.bounds)
    torch.manual_seed(seed)
    E = EnergyMLP((2,), hidden=hidden, depth=2, confine=4.0)
    cfg = ebm.EBMConfig(steps=steps, batch_size=128, lr=2e-3, init=init, chain_steps=chain_steps, step_size=step_size,
                        noise=noise, seed=seed, progress=False, store=False)
    run = ebm.train_ebm(E, t.sample, box, cfg, callback=progress)
    return dict(target=t, run=run, sampler=ebm.sampler(run, box))


def draw_ebm(row: dict, n: int = 500, fig=None):
    """The learned energy with n chains' end points on top (from the buffer when the run kept one), and the energies during training."""
    fig = fig or plt.figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    t, run = row["target"], row["run"]
    x = row["sampler"].sample(n, torch.Generator().manual_seed(1))
    plots.plot_surface_2d(ax1, run.E, t, x, label="energy E(x)", squash=False, cmap="magma", n_real=300,
                          fake_label="MCMC chain samples")
    cfg = run.cfg
    title = f"{t.name}, {cfg.init} chains, k = {cfg.chain_steps}, a = {cfg.step_size:g}, σ = {cfg.noise:g}"
    if t.centers is not None and t.std is not None:
        title += f": {metrics.mode_stats(x, t.centers, t.std)}"
    ax1.set_title(title, fontsize=9)
    plots.plot_history(ax2, run.history, ["e_data", "e_chain"], smooth=10, title="mean energy of the data and of the chains")
    ax2.set(xlabel="update of the energy", ylabel="energy (nats)")
    fig.tight_layout()
    return fig


def ebm_playground(steps: int = 300):
    """Target, chain start, chain length, Langevin step, noise scale as controls; a button retrains a 2-D EBM (seconds) and redraws."""
    import ipywidgets as W

    target = W.Dropdown(options=sorted(toys.widened()), value="ring8", description="target")
    init = W.Dropdown(options=[("replay buffer (on)", "buffer"), ("fresh noise (buffer off)", "noise"),
                               ("from the data (CD)", "data")], value="buffer", description="chains")
    k = W.IntSlider(value=20, min=1, max=100, description="chain length k")
    a = W.FloatLogSlider(value=0.01, base=10, min=-3.5, max=-0.5, step=0.25, description="step a")
    sigma = W.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description="noise σ")
    n_steps = W.IntSlider(value=steps, min=max(10, steps // 10), max=max(steps * 4, 100), step=max(1, steps // 10),
                          description="updates")
    return _panel([[target, init], [k, a], [sigma, n_steps]],
                  lambda progress: draw_ebm(run_ebm(target.value, init.value, k.value, a.value, sigma.value, n_steps.value,
                                                    progress=progress)),
                  grid=[(init, ["buffer", "noise", "data"]), (k, [5, 20, 60])])

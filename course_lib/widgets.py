"""ipywidgets control panels that retrain a short run and redraw, for live teaching."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from . import losses, metrics, models, plots, toys
from .train import TrainConfig, TrainingDiverged, train


def run_gan(target: str = "ring8", generator_loss: str = "non_saturating", n_critic: int = 1, lr: float = 1e-3,
            steps: int = 500, hidden: int = 100, depth: int = 2, seed: int = 0, device=None):
    """Train a small GAN on a toy target; returns (target, G, D, history)."""
    t = toys.make_target(target)
    torch.manual_seed(seed)
    G = models.Generator(z_dim=t.dim, x_dim=t.dim, hidden=hidden, depth=depth)
    D = models.Discriminator(x_dim=t.dim, hidden=hidden, depth=depth)
    if device is not None:
        G, D = G.to(device), D.to(device)
    cfg = TrainConfig(steps=steps, n_critic=n_critic, lr_d=lr, lr_g=lr, batch_size=256, seed=seed, progress=False)
    history = train(G, D, t.sample, losses.GANObjective(generator_loss), cfg)
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
    """Dropdowns and sliders (target, generator loss, n_critic, learning rate) and a button that retrains and redraws."""
    import ipywidgets as W
    from IPython.display import display

    target = W.Dropdown(options=sorted(toys.TARGETS), value="ring8", description="target")
    loss = W.Dropdown(options=sorted(losses.GENERATOR_LOSSES), value="non_saturating", description="G loss")
    n_critic = W.IntSlider(value=1, min=1, max=10, description="n_critic")
    lr = W.FloatLogSlider(value=1e-3, base=10, min=-4, max=-1.5, step=0.25, description="learning rate")
    n_steps = W.IntSlider(value=steps, min=max(10, steps // 10), max=max(steps * 4, 100), step=max(1, steps // 10), description="G steps")
    button = W.Button(description="train and draw", button_style="primary")
    out = W.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            try:
                res = run_gan(target.value, loss.value, n_critic.value, lr.value, n_steps.value, device=device)
            except TrainingDiverged as err:
                print(f"{err}")
                return
            draw_gan(*res)
            plt.show()

    button.on_click(redraw)
    display(W.VBox([W.HBox([target, loss]), W.HBox([n_critic, lr]), W.HBox([n_steps, button]), out]))
    redraw()

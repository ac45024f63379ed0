"""Pictures: one canvas reused in every chapter (samples over the discriminator's or energy's
surface), 1-D views with p_data and p_G, training curves, image grids, and animations that
render in HTML without ffmpeg (matplotlib's jshtml).
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from IPython.display import HTML

from .toys import Target, grid_2d

REAL_STYLE = dict(s=4, c="tab:blue", alpha=0.35, label="real $x \\sim p_{data}$")
FAKE_STYLE = dict(s=4, c="tab:orange", alpha=0.5, label="generated $G(z)$")


@torch.no_grad()
def _values(fn, points: torch.Tensor, batch: int = 8192) -> np.ndarray:
    """fn over the points, a network in eval mode (a denoising autoencoder's energy without its training noise)."""
    try:
        dev = next(fn.parameters()).device
    except (AttributeError, StopIteration):
        dev = torch.device("cpu")
    was_training = getattr(fn, "training", None)
    if was_training:
        fn.eval()
    try:
        out = [fn(points[i:i + batch].to(dev)).detach().float().cpu() for i in range(0, len(points), batch)]
    finally:
        if was_training:
            fn.train()
    return torch.cat(out).reshape(-1).numpy()


def _as_np(x):
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def plot_samples(ax, target: Target, x_fake=None, x_real=None, n_real: int = 1000, title: str | None = None,
                 bounds=None, fake_label: str | None = None):
    """Real samples (blue) against generated ones (orange) in the plane (``bounds``: default the target's box).

    ``fake_label`` names the orange points in the legend when they are not a generator's (e.g. MCMC chain samples)."""
    if x_real is None:
        x_real = target.sample(n_real, torch.Generator().manual_seed(1))
    xr = _as_np(x_real)
    ax.scatter(xr[:, 0], xr[:, 1], **REAL_STYLE)
    if x_fake is not None:
        xf = _as_np(x_fake)
        ax.scatter(xf[:, 0], xf[:, 1], **(FAKE_STYLE if fake_label is None else dict(FAKE_STYLE, label=fake_label)))
    (x0, x1), (y0, y1) = bounds or target.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    return ax


def plot_surface_2d(ax, fn, target: Target, x_fake=None, label: str = "D(x)", squash: bool = True,
                    n: int = 150, vmin=None, vmax=None, cmap: str = "viridis", n_real: int = 500, colorbar: bool = True,
                    bounds=None, fake_label: str | None = None):
    """Heat map of ``fn`` over the plane (``sigmoid(fn)`` when ``squash``) with real and generated samples on top.

    ``bounds`` ((x0, x1), (y0, y1)) zooms in or out; default the target's own box.
    """
    xs, ys, pts = grid_2d(bounds or target.bounds, n)
    v = _values(fn, pts)
    if squash:
        v = np.exp(-np.logaddexp(0.0, -v))  # sigmoid without overflow
        vmin, vmax = (0.0 if vmin is None else vmin), (1.0 if vmax is None else vmax)
    im = ax.pcolormesh(xs.numpy(), ys.numpy(), v.reshape(n, n), shading="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    if colorbar:
        plt.colorbar(im, ax=ax, label=label, fraction=0.046)
    plot_samples(ax, target, x_fake, n_real=n_real, bounds=bounds, fake_label=fake_label)
    return im


def plot_surface_1d(ax, fn, target: Target, x_fake=None, label: str = "D(x)", squash: bool = True, n: int = 400, bins: int = 60):
    """The discriminator over the line (``sigmoid(fn)`` when ``squash``), with p_data and a histogram of p_G."""
    (x0, x1), = target.bounds
    xs = torch.linspace(x0, x1, n)[:, None]
    v = _values(fn, xs)
    if squash:
        v = np.exp(-np.logaddexp(0.0, -v))  # sigmoid without overflow
    ax.plot(xs[:, 0], v, c="tab:green", lw=2, label=label)
    if target.has_density:
        ax.plot(xs[:, 0], target.log_prob(xs).exp(), c="tab:blue", lw=2, label="$p_{data}(x)$")
    if x_fake is not None:
        ax.hist(_as_np(x_fake).ravel(), bins=bins, range=(x0, x1), density=True, color="tab:orange", alpha=0.5, label="$p_G(x)$ (histogram)")
    ax.set(xlim=(x0, x1), xlabel="x", ylabel="density / discriminator value")
    ax.legend(fontsize=8)
    return ax


def plot_history(ax, history, keys, smooth: int = 1, title: str | None = None):
    """Curves of the logged numbers ``keys`` against the generator step (moving average over ``smooth``)."""
    for key in keys:
        y = np.asarray(history[key], dtype=float)
        if smooth > 1 and len(y) >= smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(1, len(y) + 1) + (smooth - 1), y, label=key)
    ax.set(xlabel="generator step", ylabel="value")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def show_images(ax, images, nrow: int = 8, title: str | None = None):
    """A grid of images (B, C, H, W) or (B, H, W) in [0, 1] or [-1, 1]."""
    from torchvision.utils import make_grid

    x = torch.as_tensor(images).detach().cpu().float()
    if x.ndim == 3:
        x = x[:, None]
    if x.min() < 0:
        x = (x + 1) / 2
    g = make_grid(x.clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    ax.imshow(g.permute(1, 2, 0).numpy(), cmap="gray" if g.shape[0] == 1 else None)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def animate(frames, draw, ncols: int = 1, figsize=(5, 4.5), interval: int = 500) -> HTML:
    """An HTML animation (jshtml, no ffmpeg needed): ``draw(frame, axes)`` paints one frame on cleared axes."""
    fig, axes = plt.subplots(1, ncols, figsize=figsize, squeeze=False)
    axes = axes[0]
    cbar_axes = []

    def paint(i):
        for cax in cbar_axes:
            cax.remove()
        cbar_axes.clear()
        before = set(fig.axes)
        for ax in axes:
            ax.clear()
        draw(frames[i], axes if ncols > 1 else axes[0])
        cbar_axes.extend(set(fig.axes) - before)
        return list(axes)

    anim = animation.FuncAnimation(fig, paint, frames=len(frames), interval=interval, blit=False)
    html = HTML(offline_controls(anim.to_jshtml(default_mode="once")))
    plt.close(fig)
    return html


# matplotlib's jshtml player draws its buttons with Font Awesome, fetched from a CDN: offline (and in the
# course's self-contained pages) the buttons would be blank. The same icons as text:
_ICONS = {"minus": "\u2212", "fast-backward": "\u23ee", "step-backward": "\u23f4\u23f4", "play": "\u25b6", "pause": "\u23f8",
          "step-forward": "\u23f5\u23f5", "fast-forward": "\u23ed", "plus": "+"}
_ICON_CSS = ("<style>.anim-buttons .fa{font-style:normal;font-family:sans-serif}"
             + "".join(f'.anim-buttons .fa-{k}::before{{content:"{v}"}}' for k, v in _ICONS.items())
             + ".anim-buttons .fa-flip-horizontal{display:inline-block;transform:scaleX(-1)}</style>")


def offline_controls(jshtml: str) -> str:
    """A jshtml animation without its network stylesheet: the player's icons as text."""
    return re.sub(r'<link[^>]*font-awesome[^>]*>', _ICON_CSS, jshtml)


def plot_snapshot_surface(ax, snapshot, G, D, target: Target, n_fake: int = 500, **surface_kw):
    """One frame of the shared canvas: a snapshot's discriminator/energy over the plane with its generator's samples."""
    x_fake = snapshot.generator(G).sample(n_fake, torch.Generator().manual_seed(1))
    plot_surface_2d(ax, snapshot.discriminator(D), target, x_fake, **surface_kw)
    ax.set_title(f"step {snapshot.step}")
    return ax


def before_during_after(history, draw, title: str):
    """Three panels, ``draw(snapshot, ax)`` on the first, middle and last snapshot of a training history."""
    snaps = history.snapshots
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, snap in zip(axes, (snaps[0], snaps[len(snaps) // 2], snaps[-1])):
        draw(snap, ax)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_histograms(ax, values: dict, bins, xlabel: str, title: str | None = None):
    """Overlaid outline histograms, one per label: ``values[label]`` the numbers (e.g. modes covered per run of a grid)."""
    for label, v in values.items():
        ax.hist(np.asarray(v, dtype=float), bins=bins, histtype="step", linewidth=1.8, label=f"{label} ({len(v)} runs)")
    ax.set(xlabel=xlabel, ylabel="runs")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_trajectory(ax, traj, label: str, equilibrium=(0.0, 0.0)):
    """A path (T, 2) of (x, y) in the plane, its start and the equilibrium, on equal axes."""
    traj = np.asarray(traj, dtype=float)
    ax.plot(traj[:, 0], traj[:, 1], lw=1.2, label=label)
    ax.plot(*traj[0], "o", color="k", ms=5, label="start" if not ax.get_legend_handles_labels()[1].count("start") else None)
    ax.plot(*equilibrium, "*", color="tab:red", ms=12,
            label="equilibrium" if "equilibrium" not in ax.get_legend_handles_labels()[1] else None)
    ax.set(xlabel="x (generator)", ylabel="y (discriminator)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_eigenvalues(ax, eigenvalues, label: str):
    """Eigenvalues of an update's Jacobian in the complex plane, with the unit circle (inside: the iteration contracts)."""
    e = np.asarray(eigenvalues, dtype=complex)
    t = np.linspace(0, 2 * np.pi, 200)
    if "unit circle" not in ax.get_legend_handles_labels()[1]:
        ax.plot(np.cos(t), np.sin(t), color="grey", lw=1, label="unit circle")
    ax.plot(e.real, e.imag, "o", ms=7, label=label)
    ax.set(xlabel="Re λ", ylabel="Im λ")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, loc="lower left")
    return ax

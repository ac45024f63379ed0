"""Networks: MLP generators and discriminators for the toys (the lecture uses 1 or 2 hidden
layers of 100 units).

Glossary: ``z`` latent codes (B, z_dim); ``x`` samples (B, x_dim); a discriminator returns one
real number per sample, shape (B,): a logit for the GAN family, an energy for energy-based ones.
"""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU, "silu": nn.SiLU}


def mlp(in_dim: int, out_dim: int, hidden: int = 100, depth: int = 1, activation: str = "relu") -> nn.Sequential:
    """``depth`` hidden layers of ``hidden`` units with ``activation``, then a linear output layer."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    for label, v in (("in_dim", in_dim), ("out_dim", out_dim), ("hidden", hidden)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{label} must be a positive integer, got {v!r}")
    if not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth (number of hidden layers) must be an integer >= 0, got {depth!r}")
    layers, width = [], in_dim
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), ACTIVATIONS[activation]()]
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """x = G(z), z ~ N(0, I) of size ``z_dim``."""

    def __init__(self, z_dim: int = 2, x_dim: int = 2, hidden: int = 100, depth: int = 1, activation: str = "relu"):
        super().__init__()
        self.z_dim, self.x_dim = z_dim, x_dim
        self.net = mlp(z_dim, x_dim, hidden, depth, activation)

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n codes from the prior on the CPU (same numbers on every device), then move them."""
        z = torch.randn(n, self.z_dim, generator=generator)
        return z.to(next(self.parameters()).device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generated samples, as a CPU tensor (B, x_dim)."""
        return self(self.sample_z(n, generator)).cpu()


class Discriminator(nn.Module):
    """D(x): one real number per sample, shape (B,)."""

    def __init__(self, x_dim: int = 2, hidden: int = 100, depth: int = 1, activation: str = "relu"):
        super().__init__()
        self.x_dim = x_dim
        self.net = mlp(x_dim, 1, hidden, depth, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def device_of(module: nn.Module) -> torch.device:
    """The device a module's parameters live on."""
    return next(module.parameters()).device

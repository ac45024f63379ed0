"""Networks: MLP generators and discriminators for the toys (the lecture uses 1 or 2 hidden
layers of 100 units).

Glossary: ``z`` latent codes (B, z_dim); ``x`` samples (B, x_dim); a discriminator returns one
real number per sample, shape (B,): a logit for the GAN family, an energy for energy-based ones.
"""
from __future__ import annotations

import contextlib
import math

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


class LatentGenerator(nn.Module):
    """Base of every generator: x = G(z) with z ~ N(0, I) of size ``z_dim``, drawn on the CPU from a seeded generator."""

    z_dim: int

    def sample_z(self, n: int, generator=None) -> torch.Tensor:
        """Draw n codes from the prior on the CPU (same numbers on every device), then move them: (n, z_dim).

        An ensemble of K generators draws (K, n, z_dim): member k's codes from ``generator[k]`` when
        given one generator per member (as the trainer does), else all from the one ``generator``.
        """
        k = ensemble_size(self)
        if k is None:
            z = torch.randn(n, self.z_dim, generator=generator)
        else:
            gens = list(generator) if isinstance(generator, (list, tuple)) else [generator] * k
            if len(gens) != k:
                raise ValueError(f"an ensemble of {k} generators needs {k} random generators, got {len(gens)}")
            z = torch.stack([torch.randn(n, self.z_dim, generator=g) for g in gens])
        p = next(self.parameters())
        return to_device(z, p.device, p.dtype)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n generated samples as a CPU tensor, in eval mode (batch norm uses its running statistics)."""
        was = self.training
        self.eval()
        x = self(self.sample_z(n, generator)).cpu()
        self.train(was)
        return x


def to_device(x: torch.Tensor, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """x moved to ``device`` (and floating ``dtype``); on CUDA through pinned memory without blocking, so the host never waits."""
    if dtype is not None and x.is_floating_point() and x.dtype != dtype:
        x = x.to(dtype)
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


def ensemble_size(module: nn.Module) -> int | None:
    """K for an ensemble of K networks (``ensemble.ensemble_of`` marks every submodule), None for a single network."""
    return getattr(module, "ensemble_size", None)


def batch_ndim(module: nn.Module) -> int:
    """Leading dimensions that index samples: 1, (B, ...), for one network; 2, (K, B, ...), for an ensemble."""
    return 2 if ensemble_size(module) else 1


class Generator(LatentGenerator):
    """x = G(z), z ~ N(0, I) of size ``z_dim``: an MLP with ``depth`` hidden layers of ``hidden`` units."""

    def __init__(self, z_dim: int = 2, x_dim: int = 2, hidden: int = 100, depth: int = 1, activation: str = "relu"):
        super().__init__()
        self.z_dim, self.x_dim = z_dim, x_dim
        self.net = mlp(z_dim, x_dim, hidden, depth, activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """D(x): one real number per sample, shape (B,)."""

    def __init__(self, x_dim: int = 2, hidden: int = 100, depth: int = 1, activation: str = "relu"):
        super().__init__()
        self.x_dim = x_dim
        self.net = mlp(x_dim, 1, hidden, depth, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def fixed_gaussian_generator(mean: float = 0.0, std: float = 1.0) -> Generator:
    """A frozen 1-D generator G(z) = mean + std * z, so that p_G = N(mean, std^2) exactly."""
    G = Generator(z_dim=1, x_dim=1, depth=0)
    with torch.no_grad():
        G.net[0].weight.fill_(std)
        G.net[0].bias.fill_(mean)
    G.requires_grad_(False)
    return G


def device_of(module: nn.Module) -> torch.device:
    """The device a module's parameters live on."""
    return next(module.parameters()).device


# ================================================================ energy-based GANs (issue 4)
# Autoencoder discriminators: the energy of x is how badly the autoencoder reconstructs it,
# D(x) = mean_d |x_d - Dec(Enc(x))_d|^p, p = 2 ("l2", EBGAN, Zhao et al. 2017, arXiv:1609.03126)
# or p = 1 ("l1", BEGAN, Berthelot et al. 2017, arXiv:1703.10717). ``forward`` returns the energy
# (B,) because the trainer calls D(x); ``codes`` and ``energy_and_codes`` expose the encoder's
# output for the pulling-away term.

ENERGY_NORMS = ("l1", "l2")


def reconstruction_energy(x: torch.Tensor, x_rec: torch.Tensor, norm: str = "l2", n_batch_dims: int = 1) -> torch.Tensor:
    """E(x) = (1/d) sum_d |x_d - x_rec_d|^p per sample, p = 1 ("l1") or 2 ("l2"); returns (B,) ((K, B) for ``n_batch_dims=2``)."""
    if norm not in ENERGY_NORMS:
        raise ValueError(f"norm must be one of {ENERGY_NORMS}, got {norm!r}")
    diff = (x - x_rec).flatten(n_batch_dims)  # (B, d) or (K, B, d)
    return diff.abs().mean(-1) if norm == "l1" else diff.pow(2).mean(-1)


NOISE_SEED = 20_160_903  # denoising autoencoders: call t's input noise is drawn from a generator seeded NOISE_SEED + t


class EnergyAutoencoder(nn.Module):
    """Shared interface: ``codes(x)``, ``reconstruct(x)``, ``energy_and_codes(x)``, ``forward(x) = energy (B,)``."""

    norm = "l2"

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, e: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's output e = Enc(x), shape (B, code_dim) (what the pulling-away term compares)."""
        return self.encode(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Dec(Enc(x)), the same shape as x."""
        return self.decode(self.encode(x), x)

    noise_std = 0.0  # > 0: a denoising autoencoder, whose input is corrupted while it trains (AutoencoderDiscriminator)
    _clean = False   # True inside ``clean_energy(D)``

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """x + noise_std * N(0, I) while training (else x); call t's noise comes from a stream seeded with t.

        Every member of an ensemble gets the same noise as the single run (one draw, broadcast over
        members), and the call counter is a buffer, so snapshots and resumed runs continue the stream.
        """
        if not (self.training and self.noise_std > 0) or self._clean:
            return x
        shape = x.shape[1:] if batch_ndim(self) == 2 else x.shape
        gen = torch.Generator().manual_seed(NOISE_SEED + int(self.noise_calls))
        self.noise_calls += 1
        return x + self.noise_std * torch.randn(shape, generator=gen).to(x.device, x.dtype)

    def energy_and_codes(self, x: torch.Tensor):
        """(D(x) (B,), Enc(x) (B, code_dim)) from one pass through the encoder: |x - Dec(Enc(corrupt(x)))|^p."""
        e = self.encode(self.corrupt(x))
        return reconstruction_energy(x, self.decode(e, x), self.norm, batch_ndim(self)), e

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy_and_codes(x)[0]


@contextlib.contextmanager
def clean_energy(D: nn.Module):
    """Inside: a denoising autoencoder's energy without its input noise, even while training (e.g. for a gradient penalty)."""
    was = getattr(D, "_clean", None)
    if was is None:
        yield D
        return
    D._clean = True
    try:
        yield D
    finally:
        D._clean = was


class AutoencoderDiscriminator(EnergyAutoencoder):
    """MLP autoencoder energy D(x) = mean_d |x - Dec(Enc(x))|^p for 2-D points or flattened images (Zhao et al. 2016).

    A code as large as the input lets the autoencoder learn the identity, whose energy is zero
    everywhere. Two designs prevent it: a bottleneck (``code_dim`` < ``x_dim``), or a denoising
    autoencoder (``noise_std`` > 0; Vincent et al. 2008): while it trains, the encoder sees
    x + noise_std * N(0, I) and the energy is the error against the clean x, so the identity costs
    noise_std^2 everywhere and only points the decoder pulls noisy inputs back to get a low energy.
    The course's 2-D energy-based GANs use the bottleneck (``compare.MethodConfig.code_dim = 1``);
    ``compare.MethodConfig.denoise`` switches the denoising design on.
    """

    def __init__(self, x_dim: int = 2, hidden: int = 128, code_dim: int = 8, depth: int = 2,
                 activation: str = "relu", norm: str = "l2", sigmoid_output: bool = False, noise_std: float = 0.0):
        super().__init__()
        if norm not in ENERGY_NORMS:
            raise ValueError(f"norm must be one of {ENERGY_NORMS}, got {norm!r}")
        if not (noise_std >= 0 and math.isfinite(noise_std)):
            raise ValueError(f"noise_std (the denoising autoencoder's input noise) must be a finite number >= 0, got {noise_std!r}")
        self.x_dim, self.code_dim, self.norm, self.noise_std = x_dim, code_dim, norm, float(noise_std)
        if self.noise_std > 0:
            self.register_buffer("noise_calls", torch.zeros((), dtype=torch.long))  # which noise comes next
        self.encoder = mlp(x_dim, code_dim, hidden, depth, activation)
        self.decoder = mlp(code_dim, x_dim, hidden, depth, activation)
        self.sigmoid_output = sigmoid_output  # True for images in [0, 1]

    def encode(self, x):
        return self.encoder(x.flatten(batch_ndim(self)))  # (B, code_dim), (K, B, code_dim) for an ensemble

    def decode(self, e, like):
        out = self.decoder(e)
        if self.sigmoid_output:
            out = torch.sigmoid(out)
        return out.reshape(like.shape)


class ConvAutoencoderDiscriminator(EnergyAutoencoder):
    """Convolutional autoencoder energy for (B, C, S, S) images, S a multiple of 4 (28 for MNIST); EBGAN/BEGAN style.

    Encoder: two stride-2 4x4 convolutions (S -> S/2 -> S/4), then a linear layer to the code;
    decoder: the mirror image with transposed convolutions, then a sigmoid (pixels in [0, 1]) or,
    with ``sigmoid_output=False``, nothing (BEGAN's linear output, whose gradient never saturates).
    """

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 32, code_dim: int = 64, norm: str = "l2",
                 sigmoid_output: bool = True):
        super().__init__()
        if not isinstance(image_size, int) or image_size < 8 or image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and at least 8 (e.g. 28 for MNIST), got {image_size!r}")
        if norm not in ENERGY_NORMS:
            raise ValueError(f"norm must be one of {ENERGY_NORMS}, got {norm!r}")
        self.image_size, self.channels, self.code_dim, self.norm = image_size, channels, code_dim, norm
        s = image_size // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),        # (B, w, S/2, S/2)
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),       # (B, 2w, S/4, S/4)
            nn.Flatten(), nn.Linear(2 * width * s * s, code_dim),          # (B, code_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, 2 * width * s * s), nn.ReLU(),
            nn.Unflatten(1, (2 * width, s, s)),                            # (B, 2w, S/4, S/4)
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),      # (B, w, S/2, S/2)
            nn.ConvTranspose2d(width, channels, 4, 2, 1),                  # (B, C, S, S)
        )
        # a sigmoid keeps reconstructions in [0, 1] but saturates; BEGAN's decoder ends linear
        self.out = nn.Sigmoid() if sigmoid_output else nn.Identity()

    def _check(self, x):
        want = (self.channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"expected images of shape (B, {want[0]}, {want[1]}, {want[2]}), got {tuple(x.shape)}; "
                             f"build the autoencoder with image_size={x.shape[-1]} (a multiple of 4) for other sizes")

    def encode(self, x):
        self._check(x)
        return self.encoder(x)

    def decode(self, e, like):
        return self.out(self.decoder(e))


class ConvGenerator(LatentGenerator):
    """DCGAN-style x = G(z) for (C, S, S) images, S a multiple of 4: linear -> (2w, S/4, S/4), two 4x4 stride-2
    transposed convolutions with batch norm and ReLU, sigmoid output in [0, 1] (Radford et al. 2016, arXiv:1511.06434)."""

    def __init__(self, z_dim: int = 32, image_size: int = 28, channels: int = 1, width: int = 32):
        super().__init__()
        if not isinstance(image_size, int) or image_size < 8 or image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and at least 8 (e.g. 28 for MNIST), got {image_size!r}")
        if not isinstance(z_dim, int) or z_dim < 1:
            raise ValueError(f"z_dim must be a positive integer, got {z_dim!r}")
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        self.x_shape = (channels, image_size, image_size)
        s = image_size // 4
        self.net = nn.Sequential(
            nn.Linear(z_dim, 2 * width * s * s), nn.BatchNorm1d(2 * width * s * s), nn.ReLU(),
            nn.Unflatten(1, (2 * width, s, s)),                                               # (B, 2w, S/4, S/4)
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),  # (B, w, S/2, S/2)
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Sigmoid(),                       # (B, C, S, S)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


# ================================================================ mode collapse: packing (PacGAN)
class PackedDiscriminator(nn.Module):
    """PacGAN's discriminator (Lin, Khetan, Fanti & Oh 2018, arXiv:1712.04086): D judges packs of m samples at once,
    x (B, C, H, W) -> m consecutive samples concatenated along the channels, (B/m, m C, H, W) -> ``D`` -> one logit per
    pack (B/m,). ``D`` must take m C input channels. A pack of a collapsed generator holds m near-copies, which real
    packs never do, so D can see the lack of variety that one sample alone cannot show. Every loss averages over packs.
    Points (B, d) pack the same way, into (B/m, m d), and so do an ensemble's (K, B, d) batches, into (K, B/m, m d).
    """

    def __init__(self, D: nn.Module, m: int):
        super().__init__()
        if not isinstance(m, int) or isinstance(m, bool) or m < 1:
            raise ValueError(f"the pack size m must be a positive integer (PacGAN uses 2 to 4), got {m!r}")
        self.D, self.m = D, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead, b = (x.shape[:1], x.shape[1]) if batch_ndim(self) == 2 else ((), x.shape[0])  # an ensemble's: (K, B, d)
        if b % self.m:
            raise ValueError(f"a batch of {b} samples does not split into packs of m = {self.m}: use a batch size "
                             f"divisible by {self.m}")
        rest = x.shape[len(lead) + 1:]
        return self.D(x.reshape(*lead, b // self.m, self.m * rest[0], *rest[1:]))


# ================================================================ mode collapse: minibatch discrimination
class MinibatchDiscrimination(nn.Module):
    """o(x_i)_b = sum_{j != i} exp(-||M_{i,b} - M_{j,b}||_L1), M_i = f(x_i) T, T in R^{A x B x C}
    (Salimans et al. 2016, arXiv:1606.03498, section 3.2); features h (..., N, A) -> o (..., N, B).

    B = ``n_kernels``, C = ``kernel_dim``. The sum leaves out j = i (the paper's sum includes it, which only
    adds the constant c_b(x_i, x_i) = 1): o counts the *other* samples of the minibatch close to x_i, so a batch
    of N identical samples gives o = N - 1 and a batch of far-apart samples o ~ 0. T is a bias-free
    ``nn.Linear`` (A -> B*C), so ``ensemble.ensemble_of`` stacks it like any layer.
    """

    def __init__(self, in_features: int, n_kernels: int = 8, kernel_dim: int = 4):
        super().__init__()
        for label, v in (("in_features", in_features), ("n_kernels", n_kernels), ("kernel_dim", kernel_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{label} must be a positive integer, got {v!r}")
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Linear(in_features, n_kernels * kernel_dim, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        m = self.T(h).unflatten(-1, (self.n_kernels, self.kernel_dim)).transpose(-2, -3)  # (..., B, N, C)
        l1 = torch.cdist(m, m, p=1)                                         # (..., B, N_i, N_j), 0 on the diagonal
        return (torch.exp(-l1).sum(-1) - 1.0).transpose(-1, -2)             # (..., N, B): minus exp(0) = 1 for j = i


class MinibatchDiscriminator(nn.Module):
    """D(x) = w^T [f(x_i), o(x_i)] + b: an MLP whose last hidden features f(x_i) get the minibatch features o(x_i)
    (``MinibatchDiscrimination``) appended before the output layer (Salimans et al. 2016, section 3.2); (N,) logits.

    D sees the whole minibatch: call it on a batch of real samples and, separately, on a batch of generated ones
    (as the trainer's objectives do). Not for gradient penalties, which assume samples are scored independently.
    """

    def __init__(self, x_dim: int = 2, hidden: int = 100, depth: int = 1, activation: str = "relu",
                 n_kernels: int = 8, kernel_dim: int = 4):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth (hidden layers before the minibatch features) must be an integer >= 1, got {depth!r}")
        self.x_dim = x_dim
        self.features = nn.Sequential(mlp(x_dim, hidden, hidden, depth - 1, activation), ACTIVATIONS[activation]())
        self.minibatch = MinibatchDiscrimination(hidden, n_kernels, kernel_dim)
        self.head = nn.Linear(hidden + n_kernels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)                                     # (..., N, hidden)
        o = self.minibatch(h)                                    # (..., N, n_kernels)
        return self.head(torch.cat([h, o], dim=-1)).squeeze(-1)  # (..., N)

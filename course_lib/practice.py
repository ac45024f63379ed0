"""GANs in practice and GANs with labels: DCGAN's networks, label smoothing, instance noise, virtual batch
norm, class-conditional generation and semi-supervised discriminators.

* DCGAN (Radford, Metz, Chintala 2016, arXiv:1511.06434): all-convolutional G and D, batch norm except
  in G's output layer and D's input layer, real and generated minibatches kept apart in D.
* One-sided label smoothing and virtual batch normalization (Salimans et al. 2016, arXiv:1606.03498);
  the optimal discriminator with smoothed targets (Goodfellow 2016, NIPS tutorial, arXiv:1701.00160, 4.2).
* Instance noise (Sønderby et al. 2016, arXiv:1610.04490): the same Gaussian noise on real and fake inputs of D.
* Conditional GANs (Mirza & Osindero 2014, arXiv:1411.1784): here a GAN on (image, label) pairs, the label
  carried as K constant one-hot feature maps, so the course's one trainer trains it unchanged.
* Semi-supervised GANs: the (K+1)-class discriminator with feature matching (Salimans et al. 2016), and an
  EBGAN-style classifier whose energy is a reconstruction error, with a margin that decays to zero (Zhao,
  Mathieu, LeCun 2017, arXiv:1609.03126, section 5.4).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from . import evaluation
from .data import load_images
from .losses import Objective, _LastBatch
from .models import ConvGenerator
from .runtime import num_threads
from .train import TrainConfig, train

NORMS = ("batch", "none", "virtual")


# ---------------------------------------------------------------- checks
def _fraction_below_one(name: str, v) -> float:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v < 1):
        raise ValueError(f"{name} must lie in [0, 1), got {v!r} (0 = off; Salimans et al. use 0.1 for the real label)")
    return float(v)


def _nonnegative(name: str, v) -> float:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return float(v)


def check_labels(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """y as int64 class indices, each in 0..n_classes-1, or a ValueError that says which are not."""
    y = torch.as_tensor(y)
    if y.is_floating_point() or y.ndim != 1:
        raise ValueError(f"labels must be a 1-D tensor of integer class indices, got dtype {y.dtype}, shape {tuple(y.shape)}")
    bad = (y < 0) | (y >= n_classes)
    if bool(bad.any()):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}; got {sorted(set(y[bad].tolist()))[:5]}")
    return y.long()


# ---------------------------------------------------------------- label smoothing and instance noise
def optimal_discriminator_smoothed(p_data, p_model, real_label: float = 1.0, fake_label: float = 0.0):
    """D*(x) = (a p_data(x) + b p_model(x)) / (p_data(x) + p_model(x)) for targets a (real) and b (fake); (a + b)/2 where both are 0.

    Where neither density has mass D* is undefined; as ``metrics.optimal_discriminator`` (1/2 there, the a = 1, b = 0
    case) it takes the value D* has where the densities are equal, (a + b)/2, instead of 0/0 = NaN.
    """
    p_data, p_model = torch.as_tensor(p_data, dtype=torch.float64), torch.as_tensor(p_model, dtype=torch.float64)
    total = p_data + p_model
    return torch.where(total > 0, (real_label * p_data + fake_label * p_model) / total.clamp_min(1e-300),
                       torch.full_like(total, (real_label + fake_label) / 2))


def instance_noise(x: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + std * eps, eps ~ N(0, I) drawn on the CPU (the same on every device)."""
    std = _nonnegative("the instance noise std", std)
    if std == 0:
        return x
    return x + std * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


@dataclass
class PracticalGAN(Objective):
    """Non-saturating GAN with the practical switches: real target 1 - ``smooth``, fake target ``fake_label``,
    instance noise of std ``noise_std`` (annealed linearly to 0 over ``noise_steps`` discriminator steps, 0 = never),
    and ``mixed`` = real and fake in one batch through D (what DCGAN advises against)."""

    smooth: float = 0.0
    fake_label: float = 0.0
    noise_std: float = 0.0
    noise_steps: int = 0
    mixed: bool = False
    seed: int = 0

    def __post_init__(self):
        _fraction_below_one("smooth (one-sided label smoothing)", self.smooth)
        _fraction_below_one("fake_label (the fake target)", self.fake_label)
        _nonnegative("noise_std", self.noise_std)
        if not isinstance(self.noise_steps, int) or self.noise_steps < 0:
            raise ValueError(f"noise_steps must be an integer >= 0 (0 = constant noise), got {self.noise_steps!r}")
        self._gen = torch.Generator().manual_seed(self.seed)
        self._d_steps = 0
        self.name = "gan[practical]"

    def current_noise(self) -> float:
        if not self.noise_steps:
            return self.noise_std
        return self.noise_std * max(0.0, 1.0 - self._d_steps / self.noise_steps)

    def _noisy(self, x):
        return instance_noise(x, self.current_noise(), self._gen)

    def d_loss(self, D, x_real, x_fake):
        xr, xf = self._noisy(x_real), self._noisy(x_fake)
        if self.mixed:
            out = D(torch.cat([xr, xf]))
            lr, lf = out[:len(xr)], out[len(xr):]
        else:
            lr, lf = D(xr), D(xf)
        loss = (F.binary_cross_entropy_with_logits(lr, torch.full_like(lr, 1.0 - self.smooth))
                + F.binary_cross_entropy_with_logits(lf, torch.full_like(lf, self.fake_label)))
        self._d_steps += 1
        return loss, {"d_loss": loss.detach(), "logit_real": lr.detach().mean(), "logit_fake": lf.detach().mean(),
                      "d_real": torch.sigmoid(lr.detach()).mean(), "d_fake": torch.sigmoid(lf.detach()).mean()}

    def g_loss(self, D, x_fake, z):
        lf = D(self._noisy(x_fake))
        loss = F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))
        return loss, {"g_loss": loss.detach()}

    def state(self) -> dict:
        return {"d_steps": self._d_steps}


# ---------------------------------------------------------------- virtual batch normalization
class VirtualBatchNorm(nn.Module):
    """Normalise each example with the statistics of a fixed reference batch and of itself (weights N/(N+1), 1/(N+1)).

    The owning network first runs its reference batch with ``record=True`` (the layer keeps that batch's
    per-channel mean and mean square), then the real batch; example i's output then depends on
    example i and the reference batch only, never on the other examples of its batch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.record = False
        self._ref = None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        dims = [0] + list(range(2, h.ndim))           # batch and spatial dimensions
        per = list(range(2, h.ndim))                  # spatial only: one statistic per example and channel
        shape = (1, -1) + (1,) * (h.ndim - 2)
        if self.record:
            self._ref = (h.mean(dims), h.pow(2).mean(dims), len(h))
            mean, sq = self._ref[0].reshape(shape), self._ref[1].reshape(shape)
        else:
            if self._ref is None:
                raise RuntimeError("VirtualBatchNorm has no reference statistics: run the reference batch first")
            m_ref, sq_ref, n = self._ref
            m_i = h.mean(per, keepdim=True) if per else h
            sq_i = h.pow(2).mean(per, keepdim=True) if per else h.pow(2)
            mean = (n * m_ref.reshape(shape) + m_i) / (n + 1)
            sq = (n * sq_ref.reshape(shape) + sq_i) / (n + 1)
        var = (sq - mean.pow(2)).clamp_min(0)
        return (h - mean) / torch.sqrt(var + self.eps) * self.weight.reshape(shape) + self.bias.reshape(shape)


def _norm(kind: str, channels: int, dims: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)
    if kind == "virtual":
        return VirtualBatchNorm(channels)
    return nn.Identity()


# ---------------------------------------------------------------- DCGAN's networks, optionally class-conditional
def label_maps(y: torch.Tensor, n_classes: int, size: int = 28) -> torch.Tensor:
    """One-hot labels as K constant feature maps (B, K, size, size)."""
    y = check_labels(y, n_classes)
    return F.one_hot(y, n_classes).float()[:, :, None, None].expand(-1, -1, size, size)


class DCGANGenerator(ConvGenerator):
    """``models.ConvGenerator`` for 28 x 28 images with a choice of normalization and optional class conditioning.

    ``norm``: "batch" (DCGAN: after every layer but the output), "none", or "virtual" (reference-batch
    normalization with ``ref_size`` reference codes fixed at construction). With ``n_classes`` = K > 0 the
    generator is class-conditional: its code is [noise, one-hot label], and its output carries the label
    as K constant maps after the image, (B, 1 + K, 28, 28), the input its conditional discriminator expects.
    """

    def __init__(self, z_dim: int = 32, width: int = 32, norm: str = "batch", n_classes: int = 0, ref_size: int = 64,
                 seed: int = 0):
        if norm not in NORMS:
            raise ValueError(f"unknown normalization {norm!r}; choose one of {list(NORMS)}")
        if not isinstance(n_classes, int) or n_classes < 0:
            raise ValueError(f"n_classes must be an integer >= 0 (0 = unconditional), got {n_classes!r}")
        super().__init__(z_dim=z_dim + n_classes, image_size=28, channels=1, width=width)
        self.net[1] = _norm(norm, 2 * width * 49, 1)   # the normalization layers of ConvGenerator, swapped
        self.net[5] = _norm(norm, width, 2)
        self.noise_dim, self.n_classes, self.norm = z_dim, n_classes, norm
        self.x_shape = (1 + n_classes, 28, 28)
        if norm == "virtual":
            g = torch.Generator().manual_seed(seed)
            ref = torch.randn(ref_size, z_dim, generator=g)
            if n_classes:
                ref = torch.cat([ref, F.one_hot(torch.arange(ref_size) % n_classes, n_classes).float()], 1)
            self.register_buffer("z_ref", ref)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.norm == "virtual":
            layers = (self.net[1], self.net[5])
            for m in layers:
                m.record = True
            self.net(self.z_ref)
            for m in layers:
                m.record = False
        x = self.net(z)
        if self.n_classes:
            x = torch.cat([x, z[:, self.noise_dim:, None, None].expand(-1, -1, 28, 28)], 1)
        return x

    def sample_z(self, n: int, generator=None) -> torch.Tensor:
        """Noise ~ N(0, I) and, for a conditional generator, labels drawn uniformly, both on the CPU."""
        z = torch.randn(n, self.noise_dim, generator=generator)
        if self.n_classes:
            y = torch.randint(self.n_classes, (n,), generator=generator)
            z = torch.cat([z, F.one_hot(y, self.n_classes).float()], 1)
        p = next(self.parameters())
        return z.to(p.device, p.dtype)

    @torch.no_grad()
    def generate(self, labels, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images (B, 1, 28, 28) of the requested classes, one per label."""
        if not self.n_classes:
            raise ValueError("this generator is unconditional (n_classes=0): use sample(n) instead")
        y = check_labels(torch.as_tensor(labels), self.n_classes)
        z = torch.cat([torch.randn(len(y), self.noise_dim, generator=generator), F.one_hot(y, self.n_classes).float()], 1)
        was = self.training
        self.eval()
        p = next(self.parameters())
        x = self(z.to(p.device, p.dtype))[:, :1].cpu()
        self.train(was)
        return x


class DCGANDiscriminator(nn.Module):
    """D(x) logit for (1, 28, 28) images: two 4x4 stride-2 convolutions with leaky ReLU (no normalization on the first,
    batch norm on the second when ``batchnorm``), then a linear map to ``n_out`` logits.

    With ``n_classes`` = K > 0 it is class-conditional: its input is (1 + K, 28, 28), the image and its label as
    one-hot maps, and the label enters by projection (Miyato & Koyama 2018, arXiv:1802.05637):
    D(x, y) = w . phi(x) + embed(y) . phi(x), phi(x) the convolutional features.
    """

    def __init__(self, width: int = 32, batchnorm: bool = True, n_out: int = 1, n_classes: int = 0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width) if batchnorm else nn.Identity(), nn.LeakyReLU(0.2),
            nn.Flatten())
        self.out = nn.Linear(2 * width * 49, n_out)
        self.n_out, self.n_classes = n_out, n_classes
        self.embed = nn.Embedding(n_classes, 2 * width * 49) if n_classes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 1 + self.n_classes:
            raise ValueError(f"expected {1 + self.n_classes} input channels (the image and {self.n_classes} label maps), "
                             f"got {x.shape[1]}")
        phi = self.features(x[:, :1])
        out = self.out(phi)
        if self.n_classes:
            y = x[:, 1:, 0, 0].argmax(1)
            out = out + (self.embed(y) * phi).sum(1, keepdim=True)
        return out.squeeze(-1) if self.n_out == 1 else out


class LabelledImages:
    """Real (image, label) pairs as (B, 1 + K, 28, 28): the image, then its label as K one-hot maps."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, n_classes: int = 10):
        self.images, self.labels = images, check_labels(labels, n_classes)
        self.n_classes = n_classes

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = torch.randint(len(self.images), (n,), generator=generator)
        return torch.cat([self.images[idx], label_maps(self.labels[idx], self.n_classes, self.images.shape[-1])], 1)


# ---------------------------------------------------------------- a judged image set and a DCGAN-style run
def images_and_judge(name: str = "mnist", device="cpu", threads: int = 1):
    """The image set ``name`` ("mnist" or "fashion_mnist", training split) and the course judge for it, both notes printed.

    The judge is ``evaluation.course_judge(name)`` with the course's settings, so every chapter shares
    one trained judge per build.
    """
    data = load_images(name)
    print(data.note)
    with num_threads(threads):
        judge = evaluation.course_judge(name, device=device)
    print(judge.summary)
    return data, judge


def fit_gan(G: nn.Module, D: nn.Module, data, objective: Objective, steps: int, batch_size: int, lr: float = 2e-4,
            seed: int = 0, device="cpu", threads: int = 1, desc: str = ""):
    """One GAN run with DCGAN's optimiser, Adam(lr, beta1 = 0.5) for both players, on ``threads`` CPU threads."""
    G, D = G.to(device), D.to(device)
    cfg = TrainConfig(steps=steps, batch_size=batch_size, lr_d=lr, lr_g=lr, betas=(0.5, 0.999), seed=seed, desc=desc)
    with num_threads(threads):
        return train(G, D, data, objective, cfg)


# ---------------------------------------------------------------- semi-supervised discriminators
def kplus1_d_loss(logits_lab: torch.Tensor, y: torch.Tensor, logits_unl: torch.Tensor, logits_fake: torch.Tensor):
    """L = CE(l_lab, y) - E_unl log D(x) - E_fake log(1 - D(G(z))), D(x) = Z(x) / (Z(x) + 1), Z = sum_k exp l_k(x).

    The K+1-th ("generated") logit is fixed at 0 (Salimans et al. 2016, section 5), so
    log D = lse(l) - softplus(lse(l)) and log(1 - D) = -softplus(lse(l)).
    """
    y = check_labels(y, logits_lab.shape[-1])
    lse_u, lse_f = torch.logsumexp(logits_unl, -1), torch.logsumexp(logits_fake, -1)
    supervised = F.cross_entropy(logits_lab, y.to(logits_lab.device))
    unsupervised = -(lse_u - F.softplus(lse_u)).mean() + F.softplus(lse_f).mean()
    return supervised + unsupervised, {"supervised": supervised.detach(), "unsupervised": unsupervised.detach()}


def feature_matching_loss(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """L_G = || mean f(x) - mean f(G(z)) ||^2 over a batch (Salimans et al. 2016, section 3.1)."""
    return (f_real.mean(0) - f_fake.mean(0)).pow(2).sum()


def decaying_margin(m0: float, step: int, decay_steps: int) -> float:
    """m_t = m0 max(0, 1 - t / T): the margin shrinks to 0 as the generator nears the data."""
    return float(m0) * max(0.0, 1.0 - step / decay_steps)


class SSLNet(nn.Module):
    """A permutation-invariant MLP classifier: x (flattened) -> hidden layers -> K logits, with ``features(x)`` the last
    hidden layer (what feature matching matches).

    Gaussian noise of std ``noise`` is added to the input and to each hidden layer in training mode (as Salimans et al. do).
    """

    def __init__(self, x_dim: int = 784, hidden=(500, 250), n_classes: int = 10, noise: float = 0.3):
        super().__init__()
        dims = [x_dim, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(dims[-1], n_classes)
        self.noise = _nonnegative("noise", noise)

    def _noisy(self, h):
        return h + self.noise * torch.randn_like(h) if self.training and self.noise else h

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self._noisy(x.flatten(1))
        for layer in self.layers:
            h = self._noisy(F.relu(layer(h)))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def batch_standardize(z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(z - mean) / sqrt(var + eps) with the mean and (biased) variance of each unit over the batch."""
    return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)


class Combinator(nn.Module):
    """The ladder's vanilla combinator (Rasmus et al. 2015, eq. 2): z_hat = (z~ - mu(u)) v(u) + mu(u), per unit,

    mu(u) = a1 sigmoid(a2 u + a3) + a4 u + a5,  v(u) = a6 sigmoid(a7 u + a8) + a9 u + a10.
    z~ is the noisy encoder's unit (the lateral connection), u the decoder's signal from the layer above.
    Initialised as in the authors' code: a2 = a7 = 1, the other eight 0 (so z_hat starts at 0).
    """

    INIT = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)

    def __init__(self, n: int):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(self.INIT).repeat(n, 1).T.contiguous())   # (10, n): a1..a10 per unit

    def forward(self, z_noisy: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        a = self.a
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (z_noisy - mu) * v + mu


class LadderNet(nn.Module):
    """A ladder network (Rasmus et al. 2015, arXiv:1507.02672) for permutation-invariant MNIST, with the denoising cost
    at the bottom layer only: the "LN bottom-layer-cost" of Pezeshki et al. (2016, arXiv:1511.06430), the network that
    EBGAN-LN (Zhao et al. 2017, section 5.4) turns into its energy.

    Encoder, layer l = 1..L (the last gives the K logits): z_l = BN(W_l h_{l-1}) (+ N(0, noise^2) on the noisy path,
    which also adds noise to the input h_0 = x), h_l = relu(z_l + beta_l), the top gamma (z_L + beta_L).
    Decoder, top down: u_L = BN(softmax(logits)), u_l = BN(V_l z_hat_{l+1}), z_hat_l = g_l(z~_l, u_l) (``Combinator``),
    down to the reconstruction x_hat = z_hat_0 of the clean input. ``energy(x)`` = ||x_hat - x||^2 / d, the bottom
    layer's denoising cost. In training mode ``forward`` gives the noisy path's logits (the ladder's supervised cost is
    taken on them); in eval mode the clean path with the population statistics of ``calibrate`` (call it after training,
    as the authors do: the batch statistics of a large batch of training images).
    """

    def __init__(self, x_dim: int = 784, hidden=(500, 250), n_classes: int = 10, noise: float = 0.3):
        super().__init__()
        dims = [x_dim, *hidden, n_classes]
        self.dims, self.noise = dims, _nonnegative("noise", noise)
        self.W = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(dims[:-1], dims[1:]))
        self.beta = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in dims[1:])
        self.gamma = nn.Parameter(torch.ones(n_classes))
        self.V = nn.ModuleList(nn.Linear(b, a, bias=False) for a, b in zip(dims[:-1], dims[1:]))  # V_l: layer l -> l - 1
        self.g = nn.ModuleList(Combinator(n) for n in dims)
        for l, n in enumerate(dims[1:]):
            self.register_buffer(f"pop_mean{l}", torch.zeros(n))
            self.register_buffer(f"pop_var{l}", torch.ones(n))
        self.register_buffer("calibrated", torch.tensor(False))

    def encode(self, x: torch.Tensor, noisy: bool, population: bool = False):
        """(logits, [z~_0, ..., z~_L]): the encoder's logits and each layer's standardised (and noisy) units."""
        h = x.flatten(1)
        if noisy:
            h = h + self.noise * torch.randn_like(h)
        zs = [h]
        for l, W in enumerate(self.W):
            pre = W(h)
            if population:
                z = (pre - getattr(self, f"pop_mean{l}")) / torch.sqrt(getattr(self, f"pop_var{l}") + 1e-6)
            else:
                z = batch_standardize(pre)
            if noisy:
                z = z + self.noise * torch.randn_like(z)
            zs.append(z)
            h = self._activate(l, z)
        return h, zs

    def _activate(self, l: int, z: torch.Tensor) -> torch.Tensor:
        """h_l = relu(z_l + beta_l), and the logits gamma (z_L + beta_L) at the top."""
        return self.gamma * (z + self.beta[l]) if l == len(self.W) - 1 else F.relu(z + self.beta[l])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.encode(x, noisy=True)[0]
        if not bool(self.calibrated):
            raise RuntimeError("this LadderNet has no population statistics yet: call calibrate(images) with a large "
                               "batch of training images (e.g. 10,000 unlabelled digits) before evaluating it")
        return self.encode(x, noisy=False, population=True)[0]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """x_hat: the decoder's denoised input from the noisy encoder's units (B, d)."""
        logits, zs = self.encode(x, noisy=True)
        z_hat = None
        for l in range(len(self.dims) - 1, -1, -1):
            u = batch_standardize(F.softmax(logits, 1) if z_hat is None else self.V[l](z_hat))
            z_hat = self.g[l](zs[l], u)
        return z_hat

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """E(x) = ||x_hat - x||^2 / d per sample (B,): the bottom layer's denoising cost."""
        return (self.reconstruct(x) - x.flatten(1)).pow(2).mean(1)

    @torch.no_grad()
    def calibrate(self, images: torch.Tensor) -> "LadderNet":
        """Set the population mean and variance of every layer's pre-activations from one clean pass over ``images``."""
        if len(images) < 2:
            raise ValueError(f"calibrate needs a batch of at least 2 images (better: thousands), got {len(images)}")
        dev = next(self.parameters()).device
        h = images.flatten(1).to(dev, next(self.parameters()).dtype)
        for l, W in enumerate(self.W):
            pre = W(h)
            getattr(self, f"pop_mean{l}").copy_(pre.mean(0))
            getattr(self, f"pop_var{l}").copy_(pre.var(0, unbiased=False))
            h = self._activate(l, batch_standardize(pre))
        self.calibrated.fill_(True)
        return self


class _LabelledBatches(Objective):
    """An objective that also draws labelled minibatches; the labelled set is part of its state (and of its run-store key)."""

    def __init__(self, images, labels, batch_size: int, seed: int, n_classes: int = 10):
        self.x_lab, self.y_lab = images, check_labels(labels, n_classes)
        self.batch_lab = int(batch_size)
        self._gen = torch.Generator().manual_seed(seed)

    def labelled_batch(self, device, dtype):
        idx = torch.randint(len(self.x_lab), (self.batch_lab,), generator=self._gen)
        return self.x_lab[idx.to(self.x_lab.device)].to(device, dtype), self.y_lab[idx.to(self.y_lab.device)].to(device)


class FeatureMatchingSSL(_LabelledBatches):
    """Semi-supervised (K+1)-class GAN: D = K logits (``kplus1_d_loss``) on a labelled batch, the unlabelled batch
    and the fakes; G matches the mean of D's last hidden layer on real and fake data, both under the current D."""

    name = "ssl[feature matching]"

    def __init__(self, images, labels, batch_size: int = 100, seed: int = 0):
        super().__init__(images, labels, batch_size, seed)
        self._last = _LastBatch()   # the unlabelled batch of the last discriminator step (not saved, not keyed)

    def d_loss(self, D, x_unl, x_fake):
        x_lab, y = self.labelled_batch(x_unl.device, x_unl.dtype)
        loss, parts = kplus1_d_loss(D(x_lab), y, D(x_unl), D(x_fake))
        self._last.x = x_unl.detach()
        return loss, {"d_loss": loss.detach(), **parts}

    def g_loss(self, D, x_fake, z):
        """L_G = ||mean f(x) - mean f(G(z))||^2 with both features under the current D (Salimans et al. 2016, 3.1).

        f(x) is recomputed here, on the real batch of the last discriminator step, after D's updates, without a
        gradient to D: matching features of the D before its update to those of the D after it compares two networks.
        """
        if self._last.x is None:
            raise ValueError("feature matching needs a real minibatch: call d_loss first (the trainer does, every step)")
        with torch.no_grad():
            f_real = D.features(self._last.x)
        loss = feature_matching_loss(f_real, D.features(x_fake))
        return loss, {"g_loss": loss.detach()}


class MarginSSL(_LabelledBatches):
    """EBGAN-style semi-supervised learning: D is a classifier whose reconstruction error is an energy (``D.energy``,
    e.g. a ``LadderNet``'s).

    L_D = CE(labelled) + lambda (E(x_unl) + [m_t - E(G(z))]+) with m_t decaying linearly from ``margin`` to 0 over
    ``decay_steps`` discriminator steps (``decay_steps=None``: m_t = ``margin`` throughout); L_G = E(G(z)).
    ``contrastive=False`` is the control without a generator's samples: L_D = CE(labelled) + lambda E(x_unl), the
    unlabelled digits reconstructed and nothing pushed up; D never sees G, and G gets a zero loss. With a
    ``LadderNet`` as D that control is the ladder network alone, and the contrastive model is EBGAN-LN.
    ``weight`` is lambda (1000 for a ladder: Rasmus et al.'s weight of the bottom layer's per-pixel cost).
    """

    def __init__(self, images, labels, margin: float = 0.1, decay_steps: int | None = 1000, batch_size: int = 100,
                 seed: int = 0, contrastive: bool = True, weight: float = 1.0):
        if isinstance(margin, bool) or not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
            raise ValueError(f"the margin m must be a positive number (e.g. 0.1), got {margin!r}")
        if isinstance(weight, bool) or not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight > 0):
            raise ValueError(f"the energy's weight lambda must be a positive number (e.g. 1000 for a ladder's "
                             f"per-pixel cost), got {weight!r}")
        self.weight = float(weight)
        if decay_steps is not None and (not isinstance(decay_steps, int) or decay_steps < 1):
            raise ValueError(f"decay_steps must be a positive integer (or None for a constant margin), got {decay_steps!r}")
        super().__init__(images, labels, batch_size, seed)
        self.margin, self.decay_steps, self.contrastive = float(margin), decay_steps, bool(contrastive)
        self._steps = 0

    @property
    def name(self) -> str:
        if not self.contrastive:
            return "ssl[EBGAN, no generated samples]"
        return "ssl[EBGAN, " + ("constant margin]" if self.decay_steps is None else "decaying margin]")

    def current_margin(self) -> float:
        if self.decay_steps is None:
            return self.margin
        return decaying_margin(self.margin, self._steps, self.decay_steps)

    def d_loss(self, D, x_unl, x_fake):
        x_lab, y = self.labelled_batch(x_unl.device, x_unl.dtype)
        m = self.current_margin()
        supervised = F.cross_entropy(D(x_lab), y)
        e_unl = D.energy(x_unl).mean()
        logs = {"supervised": supervised.detach(), "e_real": e_unl.detach()}
        loss = supervised + self.weight * e_unl
        if self.contrastive:
            e_fake = D.energy(x_fake)
            loss = loss + self.weight * torch.clamp(m - e_fake, min=0).mean()
            logs.update(e_fake=e_fake.detach().mean(), margin=torch.tensor(m), pushing=(e_fake.detach() < m).float().mean())
        self._steps += 1
        return loss, {"d_loss": loss.detach(), **logs}

    def g_loss(self, D, x_fake, z):
        if not self.contrastive:  # the control: D never sees G, so G has nothing to learn (a zero loss, no pass through D)
            loss = 0.0 * x_fake.sum()
        else:
            loss = D.energy(x_fake).mean()
        return loss, {"g_loss": loss.detach()}

    def state(self) -> dict:
        return {"steps": self._steps}


def balanced_subset(labels: torch.Tensor, pool: torch.Tensor, per_class: int, seed: int = 0, n_classes: int = 10) -> torch.Tensor:
    """Indices of ``per_class`` random examples of each class, drawn from the index set ``pool``."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    for k in range(n_classes):
        of_k = pool[labels[pool] == k]
        if len(of_k) < per_class:
            raise ValueError(f"class {k} has only {len(of_k)} examples in the pool, fewer than per_class={per_class}")
        picks.append(of_k[torch.randperm(len(of_k), generator=g)[:per_class]])
    return torch.cat(picks)


def split_labelled(data, per_class: int, seed: int = 0, n_classes: int = 10):
    """``(x_lab, y_lab, unlabelled)``: ``per_class`` random labelled examples of each class (``seed``) and the rest
    of ``data`` (an ``ImageData``) as the unlabelled set, without its labels' use (they stay only for bookkeeping)."""
    lab = balanced_subset(data.labels, torch.arange(len(data.labels)), per_class, seed, n_classes)
    rest = torch.ones(len(data.labels), dtype=torch.bool)
    rest[lab] = False
    return data.images[lab], data.labels[lab], replace(data, images=data.images[rest], labels=data.labels[rest])


@torch.no_grad()
def misclassified(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """(N,) bool: which ``images`` get an arg-max logit other than their label (the model in eval mode)."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    wrong = torch.cat([model(images[i:i + batch].to(dev)).argmax(1).cpu() != labels[i:i + batch]
                       for i in range(0, len(images), batch)])
    model.train(was)
    return wrong


def error_rate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> float:
    """Share of ``images`` whose arg-max logit is not the label (the model in eval mode)."""
    return float(misclassified(model, images, labels, batch).float().mean())

"""The variational autoencoder (Kingma & Welling 2013, arXiv:1312.6114; Rezende et al. 2014,
arXiv:1401.4082) on 28x28 images, with a Bernoulli decoder on binarized pixels so that the ELBO is
a true lower bound on log p(x) in nats.

    q_phi(z | x) = N(mu(x), diag sigma^2(x)),  p(z) = N(0, I),  p_theta(x | z) = prod_j Bernoulli(x_j; sigmoid(f(z)_j)),
    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x),

with the expectation estimated by the reparameterization z = mu + sigma * eps, eps ~ N(0, I).
Shapes: images (B, 1, 28, 28) in [0, 1]; z (B, latent_dim).
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import store

IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 28 * 28


@dataclass
class VAEConfig:
    latent_dim: int = 16      # size of z
    hidden: int = 400         # units of the one hidden layer in encoder and decoder
    epochs: int = 20          # passes over the training images
    batch_size: int = 128     # images per step
    lr: float = 1e-3          # Adam learning rate
    seed: int = 0             # seeds the weights, the minibatch order and eps
    eval_every: int = 1       # epochs between held-out ELBO evaluations
    progress: bool = True     # tqdm progress bar

    def __post_init__(self):
        for name in ("latent_dim", "hidden", "epochs", "batch_size", "eval_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")


class VAE(nn.Module):
    """MLP encoder x -> (mu, log sigma^2) and MLP decoder z -> Bernoulli logits, one hidden layer each."""

    def __init__(self, latent_dim: int = 16, hidden: int = 400):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(N_PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, N_PIXELS))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x) = N(mu, diag exp(logvar)): returns mu, logvar, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x | z), (B, 1, 28, 28)."""
        return self.decoder(z).view(-1, *IMAGE_SHAPE)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """E[x | z] = sigmoid(logits): the decoder's mean image, (B, 1, 28, 28)."""
        return torch.sigmoid(self.decode_logits(z))

    def sample_z(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """z ~ N(0, I) drawn on the CPU with ``generator``, then moved to the model's device."""
        return torch.randn(n, self.latent_dim, generator=generator).to(next(self.parameters()).device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, mean: bool = True) -> torch.Tensor:
        """Images from the model: z ~ p(z), then E[x | z] (``mean=True``) or x ~ p(x | z) pixel by pixel."""
        p = self.decode(self.sample_z(n, generator))
        if mean:
            return p
        return torch.bernoulli(p.cpu(), generator=generator).to(p.device)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag e^logvar) || N(0, I)) = 1/2 sum_j (mu_j^2 + e^logvar_j - 1 - logvar_j), per row (B,) (Kingma & Welling 2013, appendix B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with sigma = exp(logvar / 2): a sample of q(z | x) that is differentiable in (mu, logvar)."""
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | z) = sum_j [x_j log sigmoid(l_j) + (1 - x_j) log(1 - sigmoid(l_j))], per image (B,)."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def elbo(model: VAE, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
    """ELBO(x) = log p(x | z) - KL(q(z|x) || p(z)) with one reparameterized z per image; returns (elbo (B,), parts)."""
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=generator).to(mu.device)
    z = reparameterize(mu, logvar, eps)
    rec = bernoulli_log_likelihood(model.decode_logits(z), x)
    kl = gaussian_kl(mu, logvar)
    return rec - kl, {"reconstruction": rec.detach(), "kl": kl.detach()}


@torch.no_grad()
def importance_weighted_bound(model: VAE, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x): a bound between the ELBO (k=1) and log p(x), per image (Burda et al. 2015, arXiv:1509.00519)."""
    if not (isinstance(k, int) and k >= 1):
        raise ValueError(f"k (importance samples) must be an integer >= 1, got {k!r}")
    mu, logvar = model.encode(x)                                            # (B, L)
    eps = torch.randn((k, *mu.shape), generator=generator).to(mu.device)    # (k, B, L)
    z = reparameterize(mu, logvar, eps)
    log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)   # (k, B)
    log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    logits = model.decode_logits(z.reshape(-1, mu.shape[1]))
    log_lik = bernoulli_log_likelihood(logits, x.repeat(k, 1, 1, 1)).view(k, -1)
    return torch.logsumexp(log_lik + log_prior - log_q, 0) - math.log(k)


def binarize(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed binarization x_j ~ Bernoulli(pixel_j), drawn with a seeded generator (as in Salakhutdinov & Murray 2008)."""
    return torch.bernoulli(images, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def mean_elbo(model: VAE, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> float:
    """The average ELBO over the images ``x`` (on the CPU), in nats per image."""
    g = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    total = 0.0
    for i in range(0, len(x), batch_size):
        e, _ = elbo(model, x[i:i + batch_size].to(dev), g)
        total += float(e.sum())
    return total / len(x)


@torch.no_grad()
def interpolate(model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Decoder means along the straight line z = (1 - t) mu(x_a) + t mu(x_b), t in [0, 1]: (steps, 1, 28, 28)."""
    dev = next(model.parameters()).device
    mu_a, _ = model.encode(x_a.reshape(1, *IMAGE_SHAPE).to(dev))
    mu_b, _ = model.encode(x_b.reshape(1, *IMAGE_SHAPE).to(dev))
    t = torch.linspace(0, 1, steps, device=dev)[:, None]
    return model.decode((1 - t) * mu_a + t * mu_b)


@torch.no_grad()
def reconstruct(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """E[x | z = mu(x)]: the decoder's mean at the encoder's mean, (B, 1, 28, 28)."""
    dev = next(model.parameters()).device
    mu, _ = model.encode(x.to(dev))
    return model.decode(mu)


@dataclass
class VAEHistory:
    """Per step: training ELBO; per evaluation: the epoch and the held-out ELBO (nats per image)."""

    train_elbo: list = field(default_factory=list)
    train_kl: list = field(default_factory=list)
    eval_epoch: list = field(default_factory=list)
    heldout_elbo: list = field(default_factory=list)


def train_vae(model: VAE, x_train: torch.Tensor, x_heldout: torch.Tensor, cfg: VAEConfig = VAEConfig()) -> VAEHistory:
    """Maximise the mean ELBO of ``x_train`` (CPU tensor (N, 1, 28, 28) of 0/1 pixels) with Adam; log the held-out ELBO.

    The held-out ELBO is evaluated before training (epoch 0), every ``eval_every`` epochs, and at the end.
    The run goes through the run store (``course_lib.store``): a run trained before is loaded, weights and history.
    """
    if x_train.ndim != 4 or tuple(x_train.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"x_train must be (N, 1, 28, 28), got {tuple(x_train.shape)}")

    def fit():
        h = _train_vae(model, x_train, x_heldout, cfg)
        return dict(model=store.to_cpu(model.state_dict()), history={k: list(v) for k, v in asdict(h).items()})

    spec = dict(what="vae", model=model, x_train=x_train, x_heldout=x_heldout, cfg={k: v for k, v in asdict(cfg).items() if k != "progress"})
    payload, how, seconds = store.remember(spec, fit)
    if how == "loaded":
        model.load_state_dict(payload["model"])
        model.eval()
        print(f"vae: loaded from the run store in {seconds:.1f} s ({cfg.epochs} epochs not retrained)", file=sys.stderr)
    return VAEHistory(**payload["history"])


def _train_vae(model: VAE, x_train: torch.Tensor, x_heldout: torch.Tensor, cfg: VAEConfig) -> VAEHistory:
    dev = next(model.parameters()).device
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    hist = VAEHistory()

    def evaluate(epoch):
        model.eval()
        hist.eval_epoch.append(epoch)
        hist.heldout_elbo.append(mean_elbo(model, x_heldout, seed=cfg.seed))
        model.train()

    evaluate(0)
    n = len(x_train)
    for epoch in tqdm(range(1, cfg.epochs + 1), disable=not cfg.progress, desc="vae"):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, cfg.batch_size):
            x = x_train[perm[i:i + cfg.batch_size]].to(dev)
            e, parts = elbo(model, x, g)
            loss = -e.mean()            # maximise the ELBO
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            hist.train_elbo.append(float(e.detach().mean()))
            hist.train_kl.append(float(parts["kl"].mean()))
        if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            evaluate(epoch)
    model.eval()
    return hist

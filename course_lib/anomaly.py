"""Anomaly detection on MNIST as Kumar et al. (2019, arXiv:1901.08508, section 5.3) ran it, with the protocol of
Zenati et al. (2018, arXiv:1802.06222): one digit is the anomaly, the other nine are normal.

The protocol pools MNIST's official training and test splits (70,000 digits): 80% of the normal digits,
shuffled, are the training set; the test set is the other 20% plus every image of the anomalous digit,
so about a third of the test set is anomalous. Scores are compared by the area under the
precision-recall curve with the anomaly as the positive class (``evaluation.pr_auc``).

``fit_scores`` trains the three models the chapter compares, each only on normal digits, and scores the
test set with each (higher = more anomalous): the maximum-entropy EBM's energy E(x); a plain GAN's
discriminator, -D(x); a VAE's negative ELBO; and a model-free baseline, the amount of ink.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from . import losses, models
from .compare import FlatImages
from .energy import EnergyMLP, ImageMLPGenerator, MaxEntObjective, StatisticsNetwork, energies
from .train import TrainConfig, train

DIGITS = (1, 4, 5, 7, 9)   # the held-out digits Kumar et al. report
# MEG's AUPRC per held-out digit (Kumar et al. 2019, the MNIST anomaly table; means over their runs)
PUBLISHED_AUPRC = {1: 0.281, 4: 0.401, 5: 0.402, 7: 0.290, 9: 0.342}
SCORES = ("energy", "gan", "vae", "ink")
SCORE_LABELS = {"energy": "MaxEnt energy E(x)", "gan": "GAN discriminator -D(x)", "vae": "VAE -ELBO(x)",
                "ink": "ink |mean pixel - median|"}


@dataclass
class AnomalySplit:
    """One held-out digit's data: ``train`` (N, 1, 28, 28) normal digits; ``test`` (M, 1, 28, 28) and ``is_anomaly`` (M,)."""

    digit: int
    train: torch.Tensor
    test: torch.Tensor
    is_anomaly: torch.Tensor

    @property
    def anomaly_rate(self) -> float:
        """The share of anomalies in the test set: the PR-AUC of a score that knows nothing."""
        return float(self.is_anomaly.double().mean())


def zenati_split(images: torch.Tensor, labels: torch.Tensor, digit: int, seed: int = 42,
                 normal_share: float = 0.8) -> AnomalySplit:
    """Digits != ``digit`` are normal: a ``normal_share`` of them (shuffled with ``seed``) train; the test set is the
    rest of the normal digits plus every image of ``digit`` (Zenati et al. 2018; ``images`` = both official splits)."""
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
        raise ValueError(f"the anomalous digit must be an integer from 0 to 9, got {digit!r}")
    if not 0 < normal_share < 1:
        raise ValueError(f"normal_share (the normal digits' share that trains) must lie in (0, 1), got {normal_share!r}")
    if len(images) != len(labels) or images.ndim != 4:
        raise ValueError(f"images (N, 1, 28, 28) and labels (N,) must match, got {tuple(images.shape)} and {tuple(labels.shape)}")
    g = torch.Generator().manual_seed(seed)
    normal = torch.nonzero(labels != digit).squeeze(1)
    normal = normal[torch.randperm(len(normal), generator=g)]
    cut = int(normal_share * len(normal))
    test_idx = torch.cat([normal[cut:], torch.nonzero(labels == digit).squeeze(1)])
    test_idx = test_idx[torch.randperm(len(test_idx), generator=g)]
    return AnomalySplit(digit, images[normal[:cut]], images[test_idx], (labels[test_idx] == digit).long())


def ink_score(split: AnomalySplit) -> torch.Tensor:
    """|mean pixel of x - median of the training images' mean pixel|: "an unusual amount of ink" (no model)."""
    ink = lambda x: x.flatten(1).mean(1)  # noqa: E731
    return (ink(split.test) - ink(split.train).median()).abs()


@dataclass(frozen=True)
class AnomalyConfig:
    """The models' sizes and budgets (chapter 10's MNIST MaxEnt EBM; the GAN and the VAE sized to match)."""

    steps: int = 3000           # MaxEnt EBM generator steps
    gan_steps: int = 2000       # plain GAN generator steps
    vae_epochs: int = 2         # VAE passes over the training digits
    hidden: int = 256           # units per hidden layer (EBM, its generator and statistics network, the GAN)
    z_dim: int = 16
    batch_size: int = 64
    lr: float = 5e-4
    lam: float = 1.0            # the energy's gradient-penalty weight
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "gan_steps", "vae_epochs", "hidden", "z_dim", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"AnomalyConfig.{name} must be an integer >= 1, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 1):
            raise ValueError(f"AnomalyConfig.lr must lie in (0, 1), got {self.lr!r}")
        if not (isinstance(self.lam, (int, float)) and math.isfinite(self.lam) and self.lam >= 0):
            raise ValueError(f"AnomalyConfig.lam (the gradient-penalty weight) must be a finite number >= 0, got {self.lam!r}")


def fit_scores(split: AnomalySplit, cfg: AnomalyConfig = AnomalyConfig(), device="cpu", progress: bool = True) -> dict:
    """Train the MaxEnt EBM, a GAN and a VAE on ``split.train`` and score ``split.test`` with each (higher = more
    anomalous): ``{"scores": {name: (M,)}, "models": {...}, "histories": {...}}``, names as in ``SCORES``.

    Every training goes through the run store (``train.train``, ``vae.train_vae``): a second call loads.
    """
    from . import vae as V

    tc = lambda steps, what: TrainConfig(steps=steps, batch_size=cfg.batch_size, lr_d=cfg.lr, lr_g=cfg.lr,  # noqa: E731
                                         betas=(0.5, 0.9), seed=cfg.seed, progress=progress,
                                         desc=f"{what}, digit {split.digit} held out")
    torch.manual_seed(cfg.seed)
    G = ImageMLPGenerator(z_dim=cfg.z_dim, hidden=cfg.hidden).to(device)
    E = EnergyMLP((1, 28, 28), hidden=cfg.hidden, depth=2).to(device)
    T = StatisticsNetwork((1, 28, 28), z_dim=cfg.z_dim, hidden=cfg.hidden, depth=2).to(device)
    digits = FlatImages(split.train)   # minibatches of the normal training digits
    h_meg = train(G, E, digits.sample, MaxEntObjective(T, lam=cfg.lam), tc(cfg.steps, "MaxEnt EBM"))

    torch.manual_seed(cfg.seed)
    G_gan = ImageMLPGenerator(z_dim=cfg.z_dim, hidden=cfg.hidden).to(device)
    D = nn.Sequential(nn.Flatten(), models.Discriminator(28 * 28, cfg.hidden, 2, activation="leaky_relu")).to(device)
    h_gan = train(G_gan, D, digits.sample, losses.GANObjective("non_saturating"), tc(cfg.gan_steps, "GAN"))

    torch.manual_seed(cfg.seed)
    vae = V.VAE().to(device)
    x_bin = V.binarize(split.train, seed=cfg.seed)
    n_val = min(1000, len(x_bin) // 10)   # a validation part of the training digits, for the VAE's held-out ELBO log
    h_vae = V.train_vae(vae, x_bin[n_val:], x_bin[:n_val], V.VAEConfig(epochs=cfg.vae_epochs, batch_size=100,
                                                                       seed=cfg.seed, progress=progress))
    g = torch.Generator().manual_seed(cfg.seed)
    test_bin = V.binarize(split.test, seed=cfg.seed + 1)
    E.eval(), D.eval(), vae.eval()
    with torch.no_grad():
        neg_elbo = torch.cat([-V.elbo(vae, x.to(device), g)[0].cpu() for x in test_bin.split(1024)])
    scores = dict(energy=energies(E, split.test), gan=-energies(D, split.test), vae=neg_elbo, ink=ink_score(split))
    return dict(scores=scores, models=dict(G=G, E=E, G_gan=G_gan, D=D, vae=vae),
                histories=dict(energy=h_meg, gan=h_gan, vae=h_vae))

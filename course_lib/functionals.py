"""The loss functionals of energy-based learning (LeCun, Chopra, Hadsell, Ranzato and Huang 2006,
"A Tutorial on Energy-Based Learning", section 2.2, table 1).

A model scores every answer y with an energy E(y) (low = good). A loss functional of one training
example is written with its correct answer's energy ``e_pos`` = E(y_i) and either

* the energies of all answers ``e_all`` (B, K) (a finite answer set, or a grid / sample standing in for one), or
* the energy of the *most offending incorrect answer* ``e_neg`` = min over y != y_i of E(y) (B,),

and every function here returns the per-example losses (B,); take ``.mean()`` for a batch.

    energy      L = E(y_i)                                          (pushes the correct answer down only)
    perceptron  L = E(y_i) - min_y E(y)                             (min over all answers, so L >= 0)
    hinge       L = max(0, m + E(y_i) - E(ybar_i))                  (a margin m > 0 against the most offending)
    log         L = log(1 + exp(E(y_i) - E(ybar_i)))                (a soft hinge: the margin is never done)
    nll         L = E(y_i) + (1/beta) log sum_y exp(-beta E(y))     (the negative log-likelihood of the Gibbs distribution)

Where the course meets them: chapter 01's structured perceptron uses the perceptron loss with
Viterbi as the min; EBGAN's discriminator (chapter 07) is a hinge with the generator's samples as the
offending answers; maximum-likelihood EBMs (chapter 06) and MEG (chapter 10) follow the gradient of
the nll, whose negative phase is an expectation under the model itself.
"""
from __future__ import annotations

import math

import torch

NAMES = ("energy", "perceptron", "hinge", "log", "nll")
CONTRASTIVE = ("hinge", "log", "nll")  # the ones that push incorrect answers up with a margin or a partition function


def _check_margin(margin) -> float:
    if isinstance(margin, bool) or not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise ValueError(f"the hinge's margin m must be a positive finite number (e.g. 1.0), got {margin!r}")
    return float(margin)


def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"the inverse temperature beta must be a positive finite number (e.g. 1.0), got {beta!r}")
    return float(beta)


def energy_loss(e_pos: torch.Tensor) -> torch.Tensor:
    """L = E(y_i): lowers the correct answer's energy and nothing else."""
    return e_pos


def perceptron_loss(e_pos: torch.Tensor, e_all: torch.Tensor) -> torch.Tensor:
    """L = E(y_i) - min_y E(y), the min over every answer (the correct one among them): zero when y_i wins."""
    return e_pos - torch.minimum(e_all.min(dim=-1).values, e_pos)


def hinge_loss(e_pos: torch.Tensor, e_neg: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """L = max(0, m + E(y_i) - E(ybar_i)): the most offending incorrect answer must sit m above the correct one."""
    return torch.relu(_check_margin(margin) + e_pos - e_neg)


def log_loss(e_pos: torch.Tensor, e_neg: torch.Tensor) -> torch.Tensor:
    """L = log(1 + exp(E(y_i) - E(ybar_i))): a smooth hinge whose push never stops."""
    return torch.nn.functional.softplus(e_pos - e_neg)


def nll_loss(e_pos: torch.Tensor, e_all: torch.Tensor, beta: float = 1.0, log_volume: float = 0.0) -> torch.Tensor:
    """L = E(y_i) + (1/beta) log sum_y exp(-beta E(y)) [+ log dA / beta for a grid of cells of area dA = exp(log_volume)]."""
    beta = _check_beta(beta)
    return e_pos + (torch.logsumexp(-beta * e_all, dim=-1) + log_volume) / beta


def most_offending(e_cand: torch.Tensor, incorrect: torch.Tensor) -> torch.Tensor:
    """min over the incorrect candidates of E: e_cand (B, K) energies, incorrect (B, K) bool; (B,)."""
    if not bool(incorrect.any(dim=-1).all()):
        raise ValueError("every example needs at least one incorrect candidate answer; draw more candidates "
                         "or shrink the radius that counts as correct")
    return e_cand.masked_fill(~incorrect, float("inf")).min(dim=-1).values


def loss(name: str, e_pos: torch.Tensor, e_all: torch.Tensor | None = None, e_neg: torch.Tensor | None = None,
         margin: float = 1.0, beta: float = 1.0, log_volume: float = 0.0) -> torch.Tensor:
    """The per-example loss ``name`` (one of NAMES) from the energies it needs."""
    if name not in NAMES:
        raise ValueError(f"unknown loss functional {name!r}; choose one of {list(NAMES)}")
    if name == "energy":
        return energy_loss(e_pos)
    if name in ("perceptron", "nll") and e_all is None:
        raise ValueError(f"the {name} loss needs the energies of all answers, e_all (B, K)")
    if name in ("hinge", "log") and e_neg is None:
        raise ValueError(f"the {name} loss needs the most offending incorrect answer's energy, e_neg (B,)")
    if name == "perceptron":
        return perceptron_loss(e_pos, e_all)
    if name == "hinge":
        return hinge_loss(e_pos, e_neg, margin)
    if name == "log":
        return log_loss(e_pos, e_neg)
    return nll_loss(e_pos, e_all, beta, log_volume)

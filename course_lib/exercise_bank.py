"""The course's exercises (``course_lib.exercises``): each with its reference, its test cases and the mistakes it explains.

The references are independent of what a student writes: course_lib's own functions (themselves
unit-tested against formulas and known answers), closed forms, or brute force. Exercise ids are
"<chapter>.<number>"; a chapter's notebook calls ``check("7.1", answer)`` right after the exercise.
"""
from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from . import divergences, losses, practice, vae
from .exercises import implement, predict, predict_choice


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _rand(*shape, seed=0, lo=0.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(*shape, generator=_g(seed), dtype=torch.float64)


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=_g(seed), dtype=torch.float64)


def _within(rel: float):
    """judge for a number: right within a relative tolerance ``rel`` (or 0.01 absolute)."""
    return lambda answer, actual: isinstance(answer, (int, float)) and abs(answer - actual) <= max(rel * abs(actual), 0.01)


# ================================================================ chapter 01: the structured perceptron
def _viterbi_brute(emit, trans):
    """argmax over all K^T label sequences of sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] (brute force)."""
    T, K = emit.shape
    best, arg = -math.inf, None
    for ys in itertools.product(range(K), repeat=T):
        s = sum(float(emit[t, y]) for t, y in enumerate(ys)) + sum(float(trans[a, b]) for a, b in zip(ys, ys[1:]))
        if s > best:
            best, arg = s, ys
    return torch.tensor(arg)


def _viterbi_cases():
    cases = [(f"a random chain of {T} positions and {K} labels (seed {s})", (_randn(T, K, seed=s), 2 * _randn(K, K, seed=s + 50)))
             for s, (T, K) in enumerate([(4, 3), (5, 2), (3, 4), (6, 3)])]
    emit = torch.tensor([[2.0, 0.0], [0.0, 0.1], [0.0, 0.1]], dtype=torch.float64)
    trans = torch.tensor([[1.0, -5.0], [-5.0, 1.0]], dtype=torch.float64)  # staying pays: greedy labels fail here
    return cases + [("a chain where staying in one label beats each position's best label", (emit, trans))]


implement("1.1", "Viterbi decoding", _viterbi_brute, _viterbi_cases, mistakes=[
    (lambda emit, trans: emit.argmax(1),
     "you chose each position's best label on its own. Viterbi keeps, for every label at position t, the score of the "
     "best sequence *ending* in it (delta_t(k) = max_j delta_{t-1}(j) + trans[j, k] + emit[t, k]), then backtracks."),
    (lambda emit, trans: _viterbi_brute(emit, trans.T),
     "transitions are read the wrong way round: trans[a, b] scores label a at t-1 followed by label b at t."),
], tol=0)


def _perceptron_update_ref(w, phi_gold, phi_pred, lr):
    return w + lr * (phi_gold - phi_pred)


implement("1.2", "the structured perceptron's update", _perceptron_update_ref,
          lambda: [(f"random weights and features (seed {s}), learning rate {lr}",
                    (_randn(12, seed=s), _rand(12, seed=s + 1).round(), _rand(12, seed=s + 2).round(), lr))
                   for s, lr in ((0, 1.0), (1, 0.5), (2, 0.1))],
          mistakes=[(lambda w, g, p, lr: w - lr * (g - p),
                     "the sign is flipped: move w *towards* the gold structure's features and away from the prediction's."),
                    (lambda w, g, p, lr: w + (g - p),
                     "the learning rate is missing.")])


# ================================================================ chapter 03: the VAE
implement("3.1", "the reparameterisation z = mu + sigma * eps", vae.reparameterize,
          lambda: [(f"a batch of {B} codes of size {L} (seed {s})", (_randn(B, L, seed=s), _randn(B, L, seed=s + 1), _randn(B, L, seed=s + 2)))
                   for s, (B, L) in enumerate([(4, 2), (3, 5), (1, 1)])],
          mistakes=[(lambda mu, lv, eps: mu + lv.exp() * eps,
                     "exp(logvar) is the variance; the noise is scaled by the standard deviation sigma = exp(logvar / 2)."),
                    (lambda mu, lv, eps: mu + lv * eps,
                     "logvar is the log of the variance: sigma = exp(logvar / 2).")])

implement("3.2", "KL(q(z|x) || N(0, I)) per image", vae.gaussian_kl,
          lambda: [(f"a batch of {B} codes of size {L} (seed {s})", (_randn(B, L, seed=s), _randn(B, L, seed=s + 1)))
                   for s, (B, L) in enumerate([(4, 2), (3, 5)])]
          + [("mu = 0 and logvar = 0 (q is the prior: KL = 0)", (torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)))],
          mistakes=[(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).mean(1),
                     "the KL of a diagonal Gaussian is a *sum* over the code's dimensions, not a mean."),
                    (lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum(),
                     "one KL per image: sum over the code's dimensions (dim 1), not over the batch too."),
                    (lambda mu, lv: (mu.pow(2) + lv.exp() - 1 - lv).sum(1),
                     "the factor 1/2 is missing.")])


def _iw_ref(log_w):
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])


implement("3.3", "the importance-weighted bound from log-weights", _iw_ref,
          lambda: [(f"{k} log-weights for each of {B} images (seed {s})", (_randn(k, B, seed=s) * 3 - 800,))
                   for s, (k, B) in enumerate([(5, 3), (50, 2), (1, 4)])],
          mistakes=[(lambda lw: lw.mean(0),
                     "the mean of the log-weights is the ELBO again; the bound is the log of the *mean weight*: logsumexp - log k."),
                    (lambda lw: torch.logsumexp(lw, 0),
                     "divide the sum of the weights by k: subtract log k."),
                    (lambda lw: lw.exp().mean(0).log(),
                     "right formula, but exp(-800) underflows to 0 in floating point: use torch.logsumexp.")])


# ================================================================ chapter 04: the original GAN
def _d_star(p, q):
    return p / (p + q)


implement("4.1", "the optimal discriminator D*(x) = p_data / (p_data + p_g)", _d_star,
          lambda: [("densities on a grid (seed 0)", (_rand(7, seed=0, lo=0.01), _rand(7, seed=1, lo=0.01))),
                   ("p_g = p_data (D* = 1/2 everywhere)", (_rand(5, seed=2, lo=0.1),) * 2),
                   ("p_g = 0 where the data are", (torch.tensor([0.3, 0.2], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)))],
          mistakes=[(lambda p, q: q / (p + q), "D is the probability that x is *real*: the data density goes on top."),
                    (lambda p, q: p / q, "that is the density ratio; D* = p / (p + q) lies in [0, 1].")])


def _ns_ref(d_fake_logit):
    return F.softplus(-d_fake_logit).mean()


implement("4.2", "the non-saturating generator loss from D's logits", _ns_ref,
          lambda: [(f"{n} logits (seed {s})", (_randn(n, seed=s) * 3,)) for s, n in enumerate((8, 3))]
          + [("very negative logits (a confident D)", (torch.tensor([-800.0, -30.0], dtype=torch.float64),))],
          mistakes=[(lambda l: -F.softplus(l).mean(),
                     "that is the minimax loss E[log(1 - D(G(z)))], which saturates when D is confident; the "
                     "non-saturating loss is -E[log D(G(z))] = E[softplus(-logit)]."),
                    (lambda l: -torch.log(torch.sigmoid(l)).mean(),
                     "right formula, but log(sigmoid(-800)) underflows: write it as softplus(-logit).")])


# ================================================================ chapter 05: training GANs
def _kl_bound(v_real, v_fake):
    return divergences.variational_bound("kl", v_real, v_fake)


implement("5.1", "the f-GAN lower bound for KL(P || Q)", _kl_bound,
          lambda: [(f"critic values on {n} real and {n} generated samples (seed {s})", (_randn(n, seed=s), _randn(n, seed=s + 9)))
                   for s, n in enumerate((6, 3))],
          mistakes=[(lambda a, b: a.mean() - b.exp().mean(),
                     "the conjugate of f(u) = u log u is f*(t) = exp(t - 1), not exp(t)."),
                    (lambda a, b: a.mean() - b.mean(),
                     "that is the Wasserstein critic's difference; the f-GAN bound subtracts E_Q[f*(T(x))].")])


def _wgan_d(d_real, d_fake):
    return losses.wgan_d_loss(d_real, d_fake)[0]


implement("5.2", "the WGAN critic's loss (to minimise)", _wgan_d,
          lambda: [(f"critic values (seed {s})", (_randn(n, seed=s), _randn(n, seed=s + 3))) for s, n in enumerate((5, 8))],
          mistakes=[(lambda a, b: a.mean() - b.mean(),
                     "the critic *maximises* E[f(x)] - E[f(G(z))]; as a loss to minimise, flip the sign."),
                    (lambda a, b: -(torch.log(torch.sigmoid(a)).mean() + torch.log(1 - torch.sigmoid(b)).mean()),
                     "that is the GAN's cross-entropy; the critic's values are scores, not probabilities.")])


# ================================================================ chapter 07: EBGAN
def _ebgan_d(e_real, e_fake, m):
    return losses.ebgan_d_loss(e_real, e_fake, m)[0]


def _ebgan_cases():
    return ([(f"energies of {n} real and {n} generated samples, margin {m} (seed {s})",
              (_rand(n, seed=s, hi=2), _rand(n, seed=s + 5, hi=2), m)) for s, (n, m) in enumerate([(6, 1.0), (4, 0.5), (9, 2.0)])]
            + [("generated energies on both sides of the margin", (torch.tensor([0.1, 0.2], dtype=torch.float64),
                                                                   torch.tensor([0.2, 3.0], dtype=torch.float64), 1.0))])


implement("7.1", "EBGAN's discriminator loss", _ebgan_d, _ebgan_cases, mistakes=[
    (lambda r, f, m: r.mean() + torch.clamp(m - f.mean(), min=0),
     "is the hinge applied to each generated sample, not to the batch mean? E[[m - D(G(z))]+]: clip, then average."),
    (lambda r, f, m: r.mean() + (m - f).mean(),
     "the hinge is missing: a generated sample whose energy is already above m should add 0, not a negative number."),
    (lambda r, f, m: torch.clamp(m - f, min=0).mean() - r.mean(),
     "the discriminator *lowers* the energy of real data: + E[D(x)]."),
])


def _pt_ref(codes):
    return losses.pulling_away_term(codes)


implement("7.2", "the pulling-away term", _pt_ref,
          lambda: [(f"{n} codes of size {d} (seed {s})", (_randn(n, d, seed=s),)) for s, (n, d) in enumerate([(5, 3), (8, 4), (2, 2)])]
          + [("orthogonal codes (f_PT = 0)", (torch.eye(3, dtype=torch.float64) * torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64),))],
          mistakes=[(lambda c: ((F.normalize(c, dim=1) @ F.normalize(c, dim=1).T) ** 2).mean(),
                     "the sum runs over pairs i != j only: drop the diagonal (cos^2 = 1) and divide by N(N - 1)."),
                    (lambda c: ((F.normalize(c, dim=1) @ F.normalize(c, dim=1).T) - torch.eye(len(c), dtype=c.dtype)).sum() / (len(c) * (len(c) - 1)),
                     "the paper squares the cosine: opposite codes are as alike as identical ones."),
                    (lambda c: (((c @ c.T) ** 2).sum() - (torch.diagonal(c @ c.T) ** 2).sum()) / (len(c) * (len(c) - 1)),
                     "normalise the codes first: the term compares directions (cosines), not raw dot products.")])


# ================================================================ chapter 09: BEGAN
implement("9.1", "BEGAN's update of k_t", lambda k, lr, lf, g, lk: losses.began_k_update(k, lr, lf, g, lk),
          lambda: [("k = 0.5, L(x) = 0.2, L(G(z)) = 0.05, gamma = 0.5, lambda_k = 0.1", (0.5, 0.2, 0.05, 0.5, 0.1)),
                   ("k = 0.0 and the generator ahead (k would go below 0)", (0.0, 0.1, 0.4, 0.5, 0.1)),
                   ("k = 0.99 and a large step (k would pass 1)", (0.99, 1.0, 0.0, 1.0, 0.5)),
                   ("gamma = 0.3", (0.2, 0.3, 0.06, 0.3, 0.01))],
          mistakes=[(lambda k, lr, lf, g, lk: k + lk * (g * lr - lf),
                     "k_t is clipped to [0, 1] after every step."),
                    (lambda k, lr, lf, g, lk: min(1.0, max(0.0, k + lk * (lf - g * lr))),
                     "the sign is flipped: k grows when gamma L(x) exceeds L(G(z)) (generated samples reconstructed too well)."),
                    (lambda k, lr, lf, g, lk: min(1.0, max(0.0, k + lk * (lr - g * lf))),
                     "gamma multiplies the real data's loss: gamma L(x) - L(G(z)).")])

implement("9.2", "BEGAN's convergence measure M_global", lambda lr, lf, g: losses.began_convergence(lr, lf, g),
          lambda: [("L(x) = 0.2, L(G(z)) = 0.05, gamma = 0.5", (0.2, 0.05, 0.5)),
                   ("L(G(z)) above gamma L(x)", (0.2, 0.3, 0.5)),
                   ("in equilibrium", (0.4, 0.2, 0.5))],
          mistakes=[(lambda lr, lf, g: lr + (g * lr - lf),
                     "the distance to equilibrium is an absolute value: |gamma L(x) - L(G(z))|."),
                    (lambda lr, lf, g: abs(g * lr - lf),
                     "M_global also contains L(x): a measure that is 0 for a useless autoencoder would say nothing.")])


# ================================================================ chapter 15: semi-supervised GANs
implement("15.1", "feature matching", practice.feature_matching_loss,
          lambda: [(f"features of {n} real and {m} generated samples, {d} features (seed {s})",
                    (_randn(n, d, seed=s), _randn(m, d, seed=s + 7) + 0.5)) for s, (n, m, d) in enumerate([(6, 6, 4), (5, 3, 2)])],
          mistakes=[(lambda a, b: ((a - b) ** 2).sum(1).mean() if a.shape == b.shape else None,
                     "match the *batch means* of the features first, then take the squared distance: the generator "
                     "need not copy any one real sample."),
                    (lambda a, b: (a.mean(0) - b.mean(0)).norm(),
                     "the loss is the *squared* distance ||mean f(x) - mean f(G(z))||^2."),
                    (lambda a, b: (a.mean(0) - b.mean(0)).pow(2).mean(),
                     "sum the squared differences over the features (a squared norm), not their mean.")])


def _kplus1_ref(logits_lab, y, logits_unl, logits_fake):
    return practice.kplus1_d_loss(logits_lab, y, logits_unl, logits_fake)[0]


implement("15.2", "the (K+1)-class discriminator loss", _kplus1_ref,
          lambda: [(f"{n} labelled, {n} unlabelled and {n} generated samples, 10 classes (seed {s})",
                    (_randn(n, 10, seed=s) * 2, torch.randint(0, 10, (n,), generator=_g(s)), _randn(n, 10, seed=s + 1) * 2,
                     _randn(n, 10, seed=s + 2) * 2)) for s, n in enumerate((5, 8))],
          mistakes=[(lambda ll, y, lu, lf: F.cross_entropy(ll, y),
                     "the unlabelled and generated samples are missing: -E_unl log D(x) - E_fake log(1 - D(G(z))), "
                     "with D(x) = Z(x) / (Z(x) + 1), Z = sum_k exp l_k(x)."),
                    (lambda ll, y, lu, lf: F.cross_entropy(ll, y) - F.logsigmoid(torch.logsumexp(lu, 1)).mean()
                     - F.logsigmoid(torch.logsumexp(lf, 1)).mean(),
                     "for generated samples the term is log(1 - D(G(z))) = -softplus(lse(l)), not log D.")])

implement("15.3", "the decaying margin", practice.decaying_margin,
          lambda: [("m0 = 1, t = 0, T = 100", (1.0, 0, 100)), ("m0 = 2, t = 50, T = 100", (2.0, 50, 100)),
                   ("after the decay: t = 150, T = 100", (1.0, 150, 100))],
          mistakes=[(lambda m0, t, T: m0 * (1 - t / T),
                     "after T steps the margin stays at 0: m_t = m0 max(0, 1 - t/T)."),
                    (lambda m0, t, T: m0 * math.exp(-t / T),
                     "a linear decay to 0 at step T, not an exponential one.")])


# ================================================================ predictions and explorations
predict("4.3", "predict: the game's value at the optimum", _within(0.01),
        lambda a, actual: (f"At p_g = p_data, D* = 1/2 everywhere and V = log(1/2) + log(1/2) = -log 4 = {actual:.4f}. "
                           + ("Your prediction matches." if abs(a - actual) < 0.01 else f"You predicted {a}.")),
        context=dict(actual=-math.log(4)), solution=-1.3863,
        wrong=[(0.0, "-log 4"), (-0.6931, "-log 4")])

predict_choice("7.3", "predict: how much of the ring's plane a code-8 autoencoder calls data",
               ("under a third", "about half", "over three quarters"),
               lambda actual: _share_band(actual),
        lambda a, actual: (f"The plain autoencoder gave {100 * actual:.0f}% of the ring's box an energy as low as the "
                           f"data's (median over seeds; {_share_band(actual)}): eight tight clusters leave most of the "
                           "plane far from anything it has seen, so even with room to copy its input it does not become "
                           "the identity everywhere; how much it copies depends on the data and the seed (section 1b)."),
        context=dict(actual=0.10), solution="under a third",
        wrong=[("about half", "eight tight clusters"), ("over three quarters", "eight tight clusters")])


def _share_band(share: float) -> str:
    return "under a third" if share < 1 / 3 else ("about half" if share < 0.75 else "over three quarters")


# ================================================================ chapter 02: factor analysis and EM
from . import energy, evaluation, factor_analysis as fa, functionals, sampling  # noqa: E402


def _fa_case(N, D, K, seed):
    return (_randn(N, D, seed=seed), _randn(D, K, seed=seed + 1), _randn(D, seed=seed + 2), _rand(D, seed=seed + 3, lo=0.2, hi=2.0))


def _fa_cases():
    return [(f"{N} points in {D} dimensions, {K} factors (seed {s})", _fa_case(N, D, K, s))
            for s, (N, D, K) in enumerate([(5, 4, 2), (3, 6, 1), (4, 3, 3)])]


implement("2.1", "the E-step: the posterior of the factors", lambda x, W, mu, psi: fa.posterior(x, fa.FAParams(W, mu, psi)),
          _fa_cases, mistakes=[
              (lambda x, W, mu, psi: _post_no_psi(x, W, mu),
               "Psi is missing: S = (I + W^T Psi^-1 W)^-1 and m = S W^T Psi^-1 (x - mu); each coordinate's noise weighs it."),
              (lambda x, W, mu, psi: fa.posterior(x + mu, fa.FAParams(W, mu, psi)),
               "centre the data first: m = S W^T Psi^-1 (x - mu).")])


def _post_no_psi(x, W, mu):
    S = torch.linalg.inv(torch.eye(W.shape[1], dtype=W.dtype) + W.T @ W)
    return (x - mu) @ (S @ W.T).T, S


implement("2.2", "the log-likelihood of factor analysis", lambda x, W, mu, psi: fa.log_likelihood(x, fa.FAParams(W, mu, psi)),
          _fa_cases, mistakes=[
              (lambda x, W, mu, psi: torch.distributions.MultivariateNormal(mu, W @ W.T + torch.eye(len(mu), dtype=W.dtype)).log_prob(x),
               "the covariance is W W^T + Psi, with the private variances psi on the diagonal, not the identity."),
              (lambda x, W, mu, psi: torch.distributions.MultivariateNormal(mu, W @ W.T + torch.diag(psi)).log_prob(x).sum(),
               "one log-likelihood per point, an (N,) tensor, not their sum.")])


# ================================================================ chapter 06: energies trained with MCMC
implement("6.1", "the negative log-likelihood loss over a set of answers", functionals.nll_loss,
          lambda: [(f"{B} examples with {K} answers each, beta {b} (seed {s})",
                    (_randn(B, seed=s), _randn(B, K, seed=s + 1) * 2, b)) for s, (B, K, b) in enumerate([(4, 5, 1.0), (3, 7, 0.5), (2, 3, 4.0)])],
          mistakes=[(lambda ep, ea, b: ep + torch.logsumexp(b * ea, -1) / b,
                     "negate the energies inside the log-sum-exp: L = E(y_i) + (1/beta) log sum_y exp(-beta E(y)), where the "
                     "lowest energies count most."),
                    (lambda ep, ea, b: ep + torch.logsumexp(-b * ea, -1),
                     "the log-sum-exp is divided by beta."),
                    (lambda ep, ea, b: (ep + torch.logsumexp(-b * ea, -1) / b).mean(),
                     "one loss per example, a (B,) tensor, not the batch mean.")])


def _ula_ref(z, grad, step, noise):
    return z - step * grad + math.sqrt(2 * step) * noise


implement("6.2", "one unadjusted Langevin step", _ula_ref,
          lambda: [(f"{B} chains in {d} dimensions, step {a} (seed {s})", (_randn(B, d, seed=s), _randn(B, d, seed=s + 1), a, _randn(B, d, seed=s + 2)))
                   for s, (B, d, a) in enumerate([(4, 2, 0.1), (3, 5, 0.01), (2, 2, 0.5)])],
          mistakes=[(lambda z, g, a, n: z - a * g + math.sqrt(a) * n,
                     "the noise is sqrt(2 alpha) eps: with sqrt(alpha) the chain samples exp(-2 U), a distribution twice as cold."),
                    (lambda z, g, a, n: z + a * g + math.sqrt(2 * a) * n,
                     "the step goes *down* the energy: z - alpha grad U(z)."),
                    (lambda z, g, a, n: z - a * g,
                     "without noise this is gradient descent, which finds a minimum instead of drawing samples.")])

implement("6.3", "MALA's proposal density log q(z' | z)", sampling.log_q,
          lambda: [(f"{B} chains in {d} dimensions, step {a} (seed {s})", (_randn(B, d, seed=s), _randn(B, d, seed=s + 1), _randn(B, d, seed=s + 2), a))
                   for s, (B, d, a) in enumerate([(4, 2, 0.1), (3, 5, 0.02)])],
          mistakes=[(lambda zt, zf, g, a: -(zt - zf + a * g).pow(2).sum(1) / (2 * a),
                     "the proposal's variance is 2 alpha per coordinate, so the exponent is divided by 4 alpha."),
                    (lambda zt, zf, g, a: -(zt - zf - a * g).pow(2).sum(1) / (4 * a),
                     "the proposal's mean is z - alpha grad U(z): z' - z + alpha grad U(z) inside the square."),
                    (lambda zt, zf, g, a: -(zt - zf + a * g).pow(2).sum() / (4 * a),
                     "one value per chain, a (B,) tensor: sum over each chain's coordinates only.")])


# ================================================================ chapter 08: the loss-sensitive GAN
def _lsgan_d(e_real, e_fake, delta, lam):
    return losses.lsgan_d_loss(e_real, e_fake, delta, lam)[0]


implement("8.1", "LS-GAN's loss for the loss function", _lsgan_d,
          lambda: [(f"{n} pairs, lambda {lam} (seed {s})", (_rand(n, seed=s), _rand(n, seed=s + 1), _rand(n, seed=s + 2, hi=0.5), lam))
                   for s, (n, lam) in enumerate([(6, 1.0), (5, 0.5), (8, 2.0)])],
          mistakes=[(lambda r, f, d, lam: r.mean() + lam * torch.clamp(d.mean() + r.mean() - f.mean(), min=0),
                     "the hinge applies to each pair (x_i, G(z_i)), not to the batch means."),
                    (lambda r, f, d, lam: r.mean() + lam * torch.clamp(d - r + f, min=0).mean(),
                     "the margin asks L(G(z)) >= L(x) + Delta: the violation is Delta + L(x) - L(G(z))."),
                    (lambda r, f, d, lam: lam * torch.clamp(d + r - f, min=0).mean(),
                     "the first term, E[L(x)], is missing: the loss function must also be low on real data.")])

implement("8.2", "the distance Delta(x, G(z)) per pair", lambda a, b: losses.sample_distance(a, b, "l1"),
          lambda: [(f"{B} image pairs of shape {tuple(shape)} (seed {s})", (_rand(B, *shape, seed=s), _rand(B, *shape, seed=s + 1)))
                   for s, (B, shape) in enumerate([(4, (1, 3, 3)), (3, (2,)), (2, (1, 4, 4))])],
          mistakes=[(lambda a, b: (a - b).abs().flatten(1).sum(1),
                     "the course's Delta is the *mean* absolute difference per coordinate (Qi 2017 uses the L1 distance; "
                     "dividing by the number of pixels keeps the margin on the energies' scale)."),
                    (lambda a, b: (a - b).abs().mean(),
                     "one distance per pair, a (B,) tensor: average over each pair's pixels only.")])


# ================================================================ chapter 10: maximum-entropy generators
implement("10.1", "the JSD estimate of mutual information", lambda tj, tm: energy.mi_jsd(tj, tm)[0],
          lambda: [(f"{n} joint and {n} shuffled pairs (seed {s})", (_randn(n, seed=s) * 2, _randn(n, seed=s + 1) * 2)) for s, n in enumerate((6, 10))]
          + [("T = 0 everywhere (independent: I = 0)", (torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)))],
          mistakes=[(lambda tj, tm: -F.softplus(-tj).mean() - F.softplus(tm).mean(),
                     "add the constant 2 log 2, so that the estimate is 0 when x and z are independent (T = 0)."),
                    (lambda tj, tm: -F.softplus(tj).mean() - F.softplus(-tm).mean() + 2 * math.log(2),
                     "the signs inside the softplus are swapped: E_joint[-softplus(-T)] - E_marginal[softplus(T)].")])


class _Quadratic:
    """E(x) = 1/2 ||A x||^2 per row: an energy whose gradient A^T A x is known in closed form."""

    def __init__(self, A):
        self.A = A

    def __call__(self, x):
        return 0.5 * (x @ self.A.T).pow(2).sum(1)

    def __repr__(self):
        return f"E(x) = 1/2 ||A x||^2 with A of shape {tuple(self.A.shape)}"


def _grad(E, x):
    return x @ E.A.T @ E.A  # grad of 1/2 ||A x||^2 = A^T A x, (B, d)


implement("10.2", "the gradient penalty E_x ||grad_x E(x)||^2",
          lambda E, x: _grad(E, x).pow(2).sum(1).mean(),
          lambda: [(f"E(x) = 1/2 ||A x||^2, {B} points in {d} dimensions (seed {s})", (_Quadratic(_randn(d, d, seed=s)), _randn(B, d, seed=s + 1)))
                   for s, (B, d) in enumerate([(5, 2), (3, 4)])],
          mistakes=[(lambda E, x: _grad(E, x).norm(dim=1).mean(), "the penalty is the *squared* norm of each gradient."),
                    (lambda E, x: _grad(E, x).pow(2).sum(), "average over the points (E_x), not the sum."),
                    (lambda E, x: E(x).pow(2).mean(), "the penalty is on the *gradient* of the energy (torch.autograd.grad), not the energy.")])


# ================================================================ chapter 11: evaluation
def _probs(n, c, seed, sharp=3.0):
    return torch.softmax(_randn(n, c, seed=seed) * sharp, 1)


implement("11.1", "the Inception-Score analogue", lambda p: evaluation.classifier_score(p),
          lambda: [(f"{n} samples, {c} classes (seed {s})", (_probs(n, c, s),)) for s, (n, c) in enumerate([(20, 10), (8, 3)])]
          + [("every sample the same confident class (IS = 1)", (torch.tensor([[0.999, 0.0005, 0.0005]] * 4, dtype=torch.float64),))],
          tol=1e-4, mistakes=[
              (lambda p: float((p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean()),
               "that is E_x KL(p(y|x) || p(y)); the score is its exponential."),
              (lambda p: float(torch.exp((p.mean(0, keepdim=True) * (p.mean(0, keepdim=True).log() - p.log())).sum(1).mean())),
               "the KL runs from p(y|x) to the marginal p(y): KL(p(y|x) || p(y)) = sum_y p(y|x) log(p(y|x) / p(y)).")])


def _dg_ref(tp_a, fp_a, tp_b, fp_b, x):
    return (tp_a + x) / (tp_a + x + fp_a + x * (fp_b - fp_a) / (tp_b - tp_a))


implement("11.2", "precision between two operating points (Davis and Goadrich)", _dg_ref,
          lambda: [("A = (TP 10, FP 2), B = (TP 20, FP 22), x = 5", (10, 2, 20, 22, 5)),
                   ("A = (TP 1, FP 0), B = (TP 5, FP 12), x = 1", (1, 0, 5, 12, 1)),
                   ("x = TP_B - TP_A (at B itself)", (3, 3, 9, 15, 6))],
          mistakes=[(lambda ta, fa_, tb, fb, x: ta / (ta + fa_) + x / (tb - ta) * (tb / (tb + fb) - ta / (ta + fa_)),
                     "that is a straight line in PR space; each extra true positive brings (FP_B - FP_A)/(TP_B - TP_A) false "
                     "positives, so interpolate the counts, then take the precision."),
                    (lambda ta, fa_, tb, fb, x: (ta + x) / (ta + x + fa_),
                     "the false positives grow too, by x (FP_B - FP_A)/(TP_B - TP_A).")])


def _fd_ref(a, b):
    return evaluation.frechet_distance(a, b)


implement("11.3", "the Frechet distance between two feature sets", _fd_ref,
          lambda: [(f"{n} and {m} points with {d} features (seed {s})", (_randn(n, d, seed=s), _randn(m, d, seed=s + 1) * 1.5 + 0.3))
                   for s, (n, m, d) in enumerate([(40, 30, 3), (25, 25, 2)])],
          tol=1e-4, mistakes=[
              (lambda a, b: float(((a.mean(0) - b.mean(0)) ** 2).sum()),
               "the means are only half of it: add Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) for the covariances."),
              (lambda a, b: float(((a.mean(0) - b.mean(0)) ** 2).sum() + torch.trace(torch.cov(a.T) + torch.cov(b.T)
                                                                                        - 2 * (torch.cov(a.T) * torch.cov(b.T)).sqrt())),
               "(S_a S_b)^(1/2) is a matrix square root of the product (scipy.linalg.sqrtm), not an elementwise one.")])


# ================================================================ chapter 12: robustness over hyper-parameters
def _rank_ref(v):
    from scipy.stats import rankdata
    return torch.as_tensor(rankdata(v.numpy()), dtype=torch.float64)


implement("12.1", "ranks with ties", _rank_ref,
          lambda: [("distinct values", (torch.tensor([3.0, 1.0, 2.0, 5.0], dtype=torch.float64),)),
                   ("ties (modes covered by 8 runs)", (torch.tensor([0.0, 2.0, 2.0, 1.0, 0.0, 8.0, 2.0, 1.0], dtype=torch.float64),))],
          mistakes=[(lambda v: (torch.argsort(v) + 1).double(),
                     "argsort gives the *positions* of the sorted values, not each value's rank: rank the argsort again."),
                    (lambda v: (torch.argsort(torch.argsort(v, stable=True)) + 1).double(),
                     "tied values share the average of the ranks they occupy (two runs tied for places 2 and 3 both get 2.5).")])


def _u_ref(a, b):
    return float(sum((x > y) + 0.5 * (x == y) for x in a.tolist() for y in b.tolist()))


implement("12.2", "the Mann-Whitney U statistic", _u_ref,
          lambda: [("two sets of mode counts", (torch.tensor([3.0, 5.0, 8.0, 8.0]), torch.tensor([1.0, 5.0, 2.0]))),
                   ("no ties", (torch.tensor([0.5, 2.5, 1.5]), torch.tensor([1.0, 2.0, 3.0, 0.0])))],
          mistakes=[(lambda a, b: float(sum(x > y for x in a.tolist() for y in b.tolist())),
                     "a tie counts one half."),
                    (lambda a, b: float(sum((y > x) + 0.5 * (x == y) for x in a.tolist() for y in b.tolist())),
                     "U of the first set counts the pairs where *its* value is larger.")])


# ================================================================ chapter 13: practical GANs
implement("13.1", "the optimal discriminator for smoothed targets", practice.optimal_discriminator_smoothed,
          lambda: [("densities on a grid, targets a = 0.9, b = 0", (_rand(6, seed=0, lo=0.01), _rand(6, seed=1, lo=0.01), 0.9, 0.0)),
                   ("two-sided smoothing, a = 0.9, b = 0.1", (_rand(5, seed=2, lo=0.01), _rand(5, seed=3, lo=0.01), 0.9, 0.1))],
          mistakes=[(lambda p, q, a, b: a * p / (p + q),
                     "the fake target b counts too: D* = (a p_data + b p_model) / (p_data + p_model)."),
                    (lambda p, q, a, b: (a * p + b * q) / (a * p + b * q + q),
                     "minimise the cross-entropy pointwise: a p log D + (1 - a) p log(1 - D) + ... gives D* = (a p + b q)/(p + q).")])


def _bn_ref(x):
    return (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)


implement("13.2", "batch normalisation (without its scale and shift)", _bn_ref,
          lambda: [(f"a batch of {B} samples with {d} features (seed {s})", (_randn(B, d, seed=s) * 3 + 1,)) for s, (B, d) in enumerate([(8, 3), (5, 4)])],
          tol=1e-4, mistakes=[(lambda x: (x - x.mean(0)) / torch.sqrt(x.var(0) + 1e-5),
                               "batch norm divides by the biased variance (1/B, torch's unbiased=False)."),
                              (lambda x: (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + 1e-5),
                               "normalise each *feature* over the batch (dim 0), not each sample over its features.")])


# ================================================================ chapter 14: class-conditional GANs
def _proj_ref(phi, w, bias, embed, y):
    return phi @ w + bias + (embed[y] * phi).sum(1)


implement("14.1", "the projection discriminator's output", _proj_ref,
          lambda: [(f"{B} samples, {F_} features, {C} classes (seed {s})",
                    (_randn(B, F_, seed=s), _randn(F_, seed=s + 1), 0.3, _randn(C, F_, seed=s + 2), torch.randint(0, C, (B,), generator=_g(s))))
                   for s, (B, F_, C) in enumerate([(5, 4, 3), (6, 8, 10)])],
          mistakes=[(lambda phi, w, b, E, y: phi @ w + b + E[y].sum(1),
                     "the class embedding is *projected* on the features: <embed(y), phi(x)>, not added on its own."),
                    (lambda phi, w, b, E, y: phi @ w + b + (E[y] * phi).sum(1).mean(),
                     "one output per sample, a (B,) tensor.")])

implement("14.2", "labels as constant feature maps", lambda y, k, size: practice.label_maps(y, k, size),
          lambda: [("labels [2, 0, 1], 3 classes, 4 x 4 maps", (torch.tensor([2, 0, 1]), 3, 4)),
                   ("labels [9, 9], 10 classes, 2 x 2 maps", (torch.tensor([9, 9]), 10, 2))],
          mistakes=[(lambda y, k, s: F.one_hot(y, k).float()[:, :, None, None].expand(-1, -1, s, s).transpose(0, 1),
                     "the batch comes first: (B, K, size, size)."),
                    (lambda y, k, s: y.float()[:, None, None, None].expand(-1, 1, s, s),
                     "one map per class, one-hot: a label is not a number the network should compare by size.")])


# ================================================================ more: the numerics of the game (chapter 05)
from . import games  # noqa: E402

implement("5.3", "alternating gradient steps on V(x, y) = -x y", lambda x, y, lr: games.alternating_step(x, y, lr),
          lambda: [("(x, y) = (1, 0), lr 0.1", (1.0, 0.0, 0.1)), ("(x, y) = (0.5, -2), lr 0.3", (0.5, -2.0, 0.3)),
                   ("(x, y) = (1, 1), lr 1.5", (1.0, 1.0, 1.5))],
          mistakes=[(lambda x, y, lr: games.simultaneous_step(x, y, lr),
                     "both players stepped from the same point (simultaneous steps): in alternating steps y moves first, "
                     "then x moves against the *new* y."),
                    (lambda x, y, lr: (x + lr * y, y - lr * (x + lr * y)),
                     "the order is the discriminator y first, then the generator x against the new y.")])


# ================================================================ predictions and explorations, chapters 01-14
def _band(share: float, names=("under a third", "about half", "over two thirds")) -> str:
    return names[0] if share < 1 / 3 else (names[1] if share <= 2 / 3 else names[2])


NEGATIVES = ("viterbi", "greedy", "random")
predict_choice("1.3", "predict: which negatives leave the most mistakes", NEGATIVES,
               lambda actual: actual,
        lambda a, actual: (f"After the last epoch the most training sequences with a wrong arg max were left by the {actual!r} "
                           "negatives. A negative that already scores below the correct labelling triggers no update, so "
                           "weak negatives stop the learning early; the exact arg max keeps finding the sequences still wrong."),
        context=dict(actual="random"), solution="random", wrong=[("viterbi", "'random'"), ("greedy", "'random'")])

predict("2.3", "predict: how often EM lowers the likelihood",
        lambda a, actual: isinstance(a, (int, float)) and int(a) == actual,
        lambda a, actual: (f"The runs counted {actual} iterations that lowered the log-likelihood by more than rounding error. "
                           "Each E-step makes the bound equal to the log-likelihood, each M-step raises the bound, so the "
                           "log-likelihood can only rise (section 3)."),
        context=dict(actual=0), solution=0, wrong=[(3, "lowered the log-likelihood"), (50, "can only rise")])

SHARES = ("under a third", "about half", "over two thirds")
predict_choice("8.3", "predict: how many pairs keep the margin after training", SHARES,
               lambda actual: _band(actual),
        lambda a, actual: (f"After training the margin L(G(z)) - L(x) >= Delta held for {100 * actual:.0f}% of random pairs "
                           f"({_band(actual)}). The margin is what the hinge pushes towards, not a constraint the "
                           "training must meet; the next cells measure why it is met so rarely (the slope the loss function "
                           "would need, and how the pairs are drawn)."),
        context=dict(actual=0.02), solution="under a third", wrong=[("over two thirds", "held for 2%")])

MODE_BANDS = ("0 to 2", "3 to 5", "6 to 8")
predict_choice("9.3", "predict: how many of the ring's modes BEGAN covers", MODE_BANDS,
               lambda actual: MODE_BANDS[min(actual // 3, 2)],
        lambda a, actual: (f"The best gamma covered {actual} of the 8 modes: in the plane gamma does not trade quality for "
                           "variety here, and the printout shows what k_t did (section 1 explains the failure)." if actual <= 2 else
                           f"The best gamma covered {actual} of the 8 modes; the printout shows what k_t did."),
        context=dict(actual=1), solution="0 to 2", wrong=[("6 to 8", "covered 1 of the 8")])

predict_choice("9.4", "explore: a gamma of your own", ("yes", "no"),
               lambda actual: ("yes" if actual[1] > 2 else "no"),
        lambda a, actual: (f"With gamma = {actual[0]:g} BEGAN covered {actual[1]} of the 8 modes, so the answer is "
                           f"{'yes' if actual[1] > 2 else 'no'}."
                           + (" Like the sweep's: the failure in the plane does not come from the choice of gamma."
                              if actual[1] <= 2 else " A gamma that escapes the failure: compare its k_t with the sweep's.")),
        context=dict(actual=(0.8, 1)), solution="no", wrong=[("yes", "covered 1 of the 8")], kind="explore")

predict_choice("5.4", "explore: a learning rate for the bilinear game", ("yes", "no"),
               lambda actual: ("yes" if actual[1] <= 1 + 1e-9 else "no"),
        lambda a, actual: (f"At lr = {actual[0]:g} the alternating steps' spectral radius is {actual[1]:.4f}: "
                           + ("they circle the equilibrium for ever (radius 1), bounded but never converging; "
                              "simultaneous steps, at radius sqrt(1 + lr^2) > 1, spiral out at every lr." if actual[1] <= 1 + 1e-9 else
                              "above 1, so even alternating steps spiral out: lr >= 2 is too large.")),
        context=dict(actual=(0.5, 1.0)), solution="yes", wrong=[("no", "spectral radius is 1.0000")], kind="explore")

predict_choice("10.3", "predict: where the entropy term helps", ("all", "some", "none"),
               lambda actual: _some(actual),
        lambda a, actual: (f"By the course's rule the entropy term gave the better held-out NLL on {actual[0]} of the "
                           f"{actual[1]} targets ({_some(actual)}). "
                           + ("Without it the generator only chases low energy and shrinks onto the energy's minima; the "
                              "mutual-information term keeps its samples spread." if actual[0] else
                              "Here the term did not help on any target: see the section's figures for what the generators did.")),
        context=dict(actual=(3, 3)), solution="all", wrong=[("none", "on 3 of the")])


def _some(actual) -> str:
    k, n = actual
    return "all" if k == n else ("none" if k == 0 else "some")


FAILERS = ("GAN", "EBGAN", "the same")
predict_choice("12.3", "predict: which method fails more often on grid25", FAILERS,
               lambda actual: _more_failed(actual),
        lambda a, actual: (f"On grid25 the GAN failed (<= 1 mode) in {actual[0]} configurations and EBGAN in {actual[1]}"
                           f" ({_more_failed(actual)} more often" if actual[0] != actual[1] else
                           f"On grid25 both failed (<= 1 mode) in {actual[0]} configurations (the same")
        + "); whether the difference is more than chance is the rule's verdict below the table.",
        context=dict(actual=(6, 2)), solution="GAN", wrong=[("EBGAN", "GAN failed")])


def _more_failed(actual) -> str:
    return "the same" if actual[0] == actual[1] else ("GAN" if actual[0] > actual[1] else "EBGAN")


predict("13.3", "predict: the optimal discriminator where only the model has mass",
        lambda a, actual: isinstance(a, (int, float)) and abs(a - actual) < 0.01,
        lambda a, actual: (f"With targets a = 0.9 and b = 0.1, D*(x) = (a p_data + b p_model) / (p_data + p_model) = {actual:.3f} "
                           "where p_data = 0: the discriminator is never sure there that a sample is fake, so it pushes the "
                           "generator away from such places less (Goodfellow 2016 warns against smoothing the fake label)."),
        context=dict(actual=0.1), solution=0.1, wrong=[(0.0, "= 0.100"), (0.5, "= 0.100")])

AGREE = ("under half", "half to 90%", "over 90%")
predict_choice("14.3", "predict: does the conditional GAN draw the digit it is asked for", AGREE,
               lambda actual: _agree_band(actual),
        lambda a, actual: (f"The judge agreed with the requested digit for {100 * actual:.1f}% of the samples ({_agree_band(actual)})."),
        context=dict(actual=0.95), solution="over 90%", wrong=[("under half", "95.0%")])


def _agree_band(share: float) -> str:
    return AGREE[0] if share < 0.5 else (AGREE[1] if share <= 0.9 else AGREE[2])

IW_BANDS = ("lower", "less than 1 nat higher", "more than 1 nat higher")


def _iw_band(gap: float) -> str:
    return IW_BANDS[0] if gap < 0 else (IW_BANDS[1] if gap < 1 else IW_BANDS[2])


predict_choice("3.4", "predict: the importance-weighted bound against the ELBO", IW_BANDS,
               lambda actual: _iw_band(actual),
        lambda a, actual: (f"The bound came out {actual:.1f} nats above the ELBO ({_iw_band(actual)}). It can never be lower on "
                           "average (Jensen's inequality: the log of a mean weight is at least the mean log weight), and the "
                           "gap is what the encoder's q(z|x) misses of the true posterior."),
        context=dict(actual=5.3), solution="more than 1 nat higher", wrong=[("lower", "5.3 nats above")])

GAINS = ("not at all", "less than 5 points", "5 points or more")


def _gain_band(actual) -> str:
    gain = 100 * (actual[0] - actual[1])
    return GAINS[0] if gain <= 0 else (GAINS[1] if gain < 5 else GAINS[2])


predict_choice("15.4", "predict: how much the unlabelled digits help", GAINS,
               lambda actual: _gain_band(actual),
        lambda a, actual: (f"Test error: {100 * actual[0]:.1f}% with the labels alone, {100 * actual[1]:.1f}% with feature matching "
                           f"({_gain_band(actual)}). "
                           + ("The unlabelled digits shape the discriminator's features: to tell them from generated ones it "
                              "must learn what digits look like, which the 100 labels alone cannot teach." if actual[1] < actual[0] else
                              "Here the unlabelled digits did not help; section 3 compares the methods by the course's rule.")),
        context=dict(actual=(0.23, 0.145)), solution="5 points or more", wrong=[("not at all", "23.0% with the labels alone")])

predict_choice("7.4", "explore: a margin of your own", ("yes", "no"),
               lambda actual: ("yes" if 1.0 < actual[1] < 3.0 else "no"),
        lambda a, actual: (f"With m = {actual[0]:g} the generated energies ended at {actual[1]:.2f} m, so the answer is "
                           f"{'yes' if 1.0 < actual[1] < 3.0 else 'no'}: "
                           + ("the discriminator pushes generated samples just past the margin, whatever m is; the margin "
                              "sets the energy's scale." if 1.0 < actual[1] < 3.0 else
                              "at this margin the rule of the sweep does not hold; look at the run's energy plot.")),
        context=dict(actual=(0.5, 1.6)), solution="yes", wrong=[("no", "ended at 1.60 m")], kind="explore")

"""Many runs at once: K independent copies ("members") of one network trained side by side.

An ensemble is the network itself with every ``nn.Linear`` replaced by an ``EnsembleLinear``
that holds K weight matrices and multiplies each member's inputs by its own (one batched matrix
product, ``torch.baddbmm``). Inputs and outputs get one more leading dimension: (K, B, ...)
instead of (B, ...). Everything else (activations, the autoencoder's energy, the losses) is
elementwise or reduces over the sample dimensions, so the same code serves one network and K.

* ``ensemble_of(modules)`` stacks K networks built the usual way (so member i starts from exactly
  the weights the single run would start from); ``member(ens, i)`` gives member i back as a plain
  network, ``member_state(ens, i)`` its weights under the single network's names.
* ``MemberAdam`` / ``MemberSGD``: the optimizers, with one learning rate per member and members
  that can be stopped (a diverged member is frozen while the others go on).

The trainer (``course_lib.train.train``) takes an ensemble wherever it takes a network.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from .models import ensemble_size  # noqa: F401  (part of this module's interface: K of an ensemble, None for one network)


class EnsembleLinear(nn.Module):
    """y_k = x_k W_k^T + b_k for every member k; x (K, ..., in) -> (K, ..., out).

    Stored as ``weight_t`` = W^T, (K, in, out), and ``bias``, (K, 1, out): the layout ``torch.baddbmm``
    takes as it is (measured: no slower than ``nn.Linear`` even for K = 1). ``member_state`` gives
    member k's weights back as ``nn.Linear``'s (out, in) weight and (out,) bias.
    """

    def __init__(self, weight_t: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.weight_t = nn.Parameter(weight_t)
        self.bias = nn.Parameter(bias) if bias is not None else None

    @classmethod
    def stack(cls, layers: list) -> "EnsembleLinear":
        """One EnsembleLinear holding the weights of ``layers`` (nn.Linear of one shape), member k = layers[k]."""
        weight_t = torch.stack([l.weight.detach().t() for l in layers]).contiguous()                     # (K, in, out)
        bias = torch.stack([l.bias.detach() for l in layers]).unsqueeze(1).clone() if layers[0].bias is not None else None
        return cls(weight_t, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, d_in = self.weight_t.shape[0], self.weight_t.shape[1]
        if x.shape[0] != k or x.shape[-1] != d_in:
            raise ValueError(f"an ensemble of {k} members expects inputs of shape ({k}, ..., {d_in}), got {tuple(x.shape)}")
        flat = x if x.ndim == 3 else x.reshape(k, -1, d_in)            # (K, N, in)
        y = torch.bmm(flat, self.weight_t) if self.bias is None else torch.baddbmm(self.bias, flat, self.weight_t)
        return y if x.ndim == 3 else y.reshape(*x.shape[:-1], y.shape[-1])

    def extra_repr(self) -> str:
        k, d_in, out = self.weight_t.shape
        return f"members={k}, in_features={d_in}, out_features={out}, bias={self.bias is not None}"


_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.ELU, nn.SiLU, nn.Sigmoid, nn.Identity, nn.Sequential)


def ensemble_of(modules: list) -> nn.Module:
    """K networks of one architecture as one ensemble (inputs (K, B, ...)); the networks themselves are not changed.

    Supported: networks built from ``nn.Linear`` and elementwise activations (every MLP of the
    course). Buffers (e.g. ``EnergyMLP``'s centre) must be equal across members.
    """
    modules = list(modules)
    if not modules:
        raise ValueError("an ensemble needs at least one member (K >= 1), got an empty list")
    first = modules[0]
    if any(ensemble_size(m) for m in modules):
        raise ValueError("the members are ensembles already; stack single networks")
    for i, m in enumerate(modules[1:], 1):
        if type(m) is not type(first):
            raise ValueError(f"members must share one architecture: member 0 is a {type(first).__name__}, member {i} a {type(m).__name__}")
        a, b = first.state_dict(), m.state_dict()
        if list(a) != list(b) or any(a[k].shape != b[k].shape for k in a):
            raise ValueError(f"members must share one architecture: member {i}'s parameters differ in names or shapes from member 0's")
        for name, buf in first.named_buffers():
            if not torch.equal(buf, dict(m.named_buffers())[name]):
                raise ValueError(f"members must share their buffers; {name!r} of member {i} differs from member 0's")
    for name, sub in first.named_modules():
        if not isinstance(sub, (nn.Linear, *_ELEMENTWISE)) and any(True for _ in sub.parameters(recurse=False)):
            raise ValueError(f"ensembles support MLPs (nn.Linear and elementwise activations); "
                             f"{name or type(first).__name__} is a {type(sub).__name__} with parameters of its own")
        if isinstance(sub, (nn.BatchNorm1d, nn.BatchNorm2d, nn.Conv2d, nn.ConvTranspose2d)):
            raise ValueError(f"ensembles support MLPs only; {name} is a {type(sub).__name__}")
    linear = [name for name, sub in first.named_modules() if isinstance(sub, nn.Linear)]
    ens = EnsembleLinear.stack(modules) if linear == [""] else copy.deepcopy(first)  # a bare layer, or a network of them
    for name in (n for n in linear if n):
        parent_name, _, child = name.rpartition(".")
        parent = ens.get_submodule(parent_name)
        setattr(parent, child, EnsembleLinear.stack([m.get_submodule(name) for m in modules]))
    for sub in ens.modules():
        sub.ensemble_size = len(modules)
    template = copy.deepcopy(first).cpu()
    object.__setattr__(ens, "_member_template", template)   # a plain network, not a submodule (kept on the CPU)
    object.__setattr__(ens, "_linear", [f"{n}." if n else "" for n in linear])
    return ens


def _check_ensemble(ens: nn.Module, i: int | None = None) -> int:
    k = ensemble_size(ens)
    if not k:
        raise ValueError("expected an ensemble built by ensemble_of, got a single network")
    if i is not None and not (isinstance(i, int) and 0 <= i < k):
        raise ValueError(f"member index must be an integer in [0, {k}), got {i!r}")
    return k


def member_state(ens: nn.Module, i: int, state: dict | None = None) -> dict:
    """Member i's weights under the single network's names and shapes (from ``state``, default the ensemble's state_dict)."""
    _check_ensemble(ens, i)
    state = ens.state_dict() if state is None else state
    out = {k: v for k, v in state.items() if not any(k.startswith(p) and k[len(p):] in ("weight_t", "bias") for p in ens._linear)}
    for p in ens._linear:
        out[p + "weight"] = state[p + "weight_t"][i].t()
        if p + "bias" in state:
            out[p + "bias"] = state[p + "bias"][i, 0]
    return {k: out[k] for k in ens._member_template.state_dict()}  # the single network's order


def load_member(ens: nn.Module, i: int, state: dict) -> None:
    """Overwrite member i's weights with ``state`` (a single network's state_dict)."""
    _check_ensemble(ens, i)
    own = ens.state_dict()
    with torch.no_grad():
        for p in ens._linear:
            own[p + "weight_t"][i].copy_(state[p + "weight"].t())
            if p + "bias" in own:
                own[p + "bias"][i, 0].copy_(state[p + "bias"])


def member(ens: nn.Module, i: int) -> nn.Module:
    """Member i as a plain network (a copy, on the ensemble's device), in the ensemble's train/eval mode."""
    _check_ensemble(ens, i)
    net = copy.deepcopy(ens._member_template)
    net.load_state_dict({k: v.detach().cpu() for k, v in member_state(ens, i).items()})
    try:
        net = net.to(next(ens.parameters()).device)
    except StopIteration:
        pass
    return net.train(ens.training)


def members(ens: nn.Module) -> list:
    """Every member as a plain network."""
    return [member(ens, i) for i in range(_check_ensemble(ens))]


# ---------------------------------------------------------------- optimizers with one learning rate per member
def _per_member(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """v (K,) shaped to broadcast over a member-stacked tensor like (K, ...)."""
    return v.reshape(-1, *([1] * (like.ndim - 1)))


class _MemberOptimizer(torch.optim.Optimizer):
    """Base: parameters stacked over members (leading dimension K), ``lr`` one number per member, members that can be stopped."""

    def __init__(self, params, lr, defaults: dict):
        lr = torch.as_tensor(lr, dtype=torch.float64).flatten()
        if len(lr) < 1 or not torch.isfinite(lr).all() or (lr <= 0).any():
            raise ValueError(f"learning rates must be positive finite numbers, one per member; got {lr.tolist()}")
        super().__init__(params, dict(defaults, lr=lr))
        for group in self.param_groups:
            for p in group["params"]:
                if p.shape[0] != len(lr):
                    raise ValueError(f"{len(lr)} learning rates for parameters stacked over {p.shape[0]} members")
        self.active = torch.ones(len(lr), dtype=torch.bool)
        self._views = {}

    def _scalar_lr(self, group):
        """The learning rate as one float when every member has the same and none is stopped (the fast path), else None."""
        if "_scalar" not in group:
            lr = group["lr"]
            group["_scalar"] = float(lr[0]) if self.active.all() and bool((lr == lr[0]).all()) else None
        return group["_scalar"]

    def _lr_views(self, group, params):
        """Per parameter: lr_k (0 for stopped members) shaped (K, 1, ...) on the parameter's device."""
        out = []
        for p in params:
            key = (id(group), p.device, p.dtype, p.ndim)
            if key not in self._views:
                self._views[key] = _per_member((group["lr"] * self.active).to(p.device, p.dtype), p)
            out.append(self._views[key])
        return out

    def _grads(self, params):
        if self.active.all():
            return [p.grad for p in params]
        out = []
        for p in params:
            key = ("active", p.device, p.ndim)
            if key not in self._views:
                self._views[key] = _per_member(self.active.to(p.device), p)
            out.append(torch.where(self._views[key], p.grad, 0.0))
        return out

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update(group, params, self._grads(params))

    def _update(self, group, params, grads):
        raise NotImplementedError

    def state_dict(self) -> dict:
        """torch's optimizer state plus which members are still training (the caches derived from them left out)."""
        state = super().state_dict()
        for group in state["param_groups"]:
            group.pop("_scalar", None)
        return dict(state, active=self.active.clone())

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        active = state.pop("active", None)
        super().load_state_dict(state)
        if active is not None:
            self.active.copy_(active)
        self._views.clear()
        for group in self.param_groups:
            group.pop("_scalar", None)

    def stop(self, i: int) -> None:
        """Freeze member i: its parameters no longer move and its optimizer state is cleared."""
        self.active[i] = False
        self._views.clear()
        for group in self.param_groups:
            group.pop("_scalar", None)
            for p in group["params"]:
                for v in self.state[p].values():
                    if torch.is_tensor(v) and v.ndim and v.shape[0] == len(self.active):
                        v[i].zero_()


class MemberAdam(_MemberOptimizer):
    """Adam (Kingma & Ba 2015) with one learning rate per member, the update of ``torch.optim.Adam``:
    m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2, p <- p - lr_k / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + eps)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr, dict(betas=tuple(betas), eps=eps))

    def _update(self, group, params, grads):
        b1, b2 = group["betas"]
        for p in params:
            if not self.state[p]:
                self.state[p].update(exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        m = [self.state[p]["exp_avg"] for p in params]
        v = [self.state[p]["exp_avg_sq"] for p in params]
        group["t"] = t = group.get("t", 0) + 1
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, math.sqrt(1 - b2**t))
        torch._foreach_add_(denom, group["eps"])
        lr = self._scalar_lr(group)
        if lr is not None:
            torch._foreach_addcdiv_(params, m, denom, value=-lr / (1 - b1**t))
        else:
            step = torch._foreach_div(m, denom)
            torch._foreach_mul_(step, self._lr_views(group, params))
            torch._foreach_add_(params, step, alpha=-1 / (1 - b1**t))


class MemberSGD(_MemberOptimizer):
    """Plain gradient descent with one learning rate per member: p <- p - lr_k g."""

    def __init__(self, params, lr):
        super().__init__(params, lr, {})

    def _update(self, group, params, grads):
        lr = self._scalar_lr(group)
        if lr is not None:
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, torch._foreach_mul(grads, self._lr_views(group, params)), alpha=-1)

"""A store of trained runs: train once, load ever after.

Every run is kept under a key made of everything that defines it: the networks (architecture and
initial weights, which fix the seed), the objective and its settings, the training settings, the
data, and a fingerprint of the ``course_lib`` source that trains (``CODE_MODULES``), so a changed
loss never serves a stale run. An entry is one file, ``<root>/<key[:2]>/<key>.<sha256>.pt``, where
``<sha256>`` is the checksum of the file's own bytes: it is written to a temporary file and renamed
(a reader sees all of it or nothing; two writers of the same key each rename a whole file), and it
is read with ``torch.load(..., weights_only=True)`` only after its bytes match its name. An entry
that does not match is reported, removed and trained again; it is never used.

Entries sit in a folder named for the code fingerprint, ``<root>/<code[:16]>/<key[:2]>/...``: a
change to the training code strands every earlier entry (its key can never be asked for again), and
``prune()`` (``python -m course_lib.store prune``) removes those stranded folders, plus temporary
files left by a writer that was killed.

The folder is ``$COURSE_STORE`` (``off`` trains every time); by default ``runs/`` in the project,
which git ignores. ``train.train`` and ``evaluation.fit_mnist_classifier`` go through
``remember``; a notebook cell reads the same whether its run was trained or loaded, and the trainer
says which happened.
"""
from __future__ import annotations

import dataclasses
import dis
import functools
import hashlib
import io
import json
import math
import os
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import torch
from torch import nn

ENV = "COURSE_STORE"
CODE_MODULES = ("compare", "data", "divergences", "ebm", "energy", "ensemble", "evaluation", "factor_analysis", "functionals", "losses", "metrics", "practice",
                "models", "sampling", "store", "structured", "toys", "train", "vae")
PACKAGE = Path(__file__).resolve().parent


def store_root() -> Path | None:
    """Where runs are kept: ``$COURSE_STORE``, or ``runs/`` beside the package; None when the store is off."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("off", "0", "none", "no"):
        return None
    if value:
        return Path(value).expanduser().resolve()
    project = PACKAGE.parent
    if (project / "pyproject.toml").exists():
        return project / "runs"
    return Path.home() / ".cache" / "course_lib" / "runs"


@functools.lru_cache(maxsize=None)
def code_fingerprint(modules: tuple = CODE_MODULES) -> str:
    """sha256 over the source of the course_lib modules that define how a run is trained."""
    h = hashlib.sha256()
    for name in sorted(modules):
        h.update(name.encode() + b"\0" + (PACKAGE / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()


def _tensor_digest(t: torch.Tensor) -> str:
    t = t.detach().cpu().contiguous()
    return hashlib.sha256(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"").hexdigest()[:32]


def describe(obj, depth: int = 0):
    """A JSON-able description of ``obj`` that changes whenever anything that defines it changes.

    Numbers, strings, lists, dicts and dataclasses as themselves; tensors by shape, dtype and a hash
    of their values; modules by class, structure and every weight and buffer; random generators by
    their state; bound methods (a data set's ``sample``) by their object; a notebook's function by its code and
    the globals it reads (``course_lib``'s own are covered by the code fingerprint); other objects by
    their attributes. Raises TypeError for what it cannot describe (a run with it is not stored).
    """
    if depth > 12:
        raise TypeError("description too deep (a cycle?): this run cannot be keyed")
    d = depth + 1
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return repr(obj) if not math.isfinite(obj) else obj
    if isinstance(obj, torch.Tensor):
        return {"tensor": _tensor_digest(obj), "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, torch.Generator):
        return {"generator": _tensor_digest(obj.get_state())}
    if isinstance(obj, (torch.device, torch.dtype)):
        return str(obj)
    if isinstance(obj, nn.Module):
        return {"module": type(obj).__qualname__, "repr": repr(obj),
                "state": {k: describe(v, d) for k, v in obj.state_dict().items()}}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"dataclass": type(obj).__qualname__,
                "fields": {f.name: describe(getattr(obj, f.name), d) for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {str(k): describe(v, d) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [describe(v, d) for v in obj]
    if isinstance(obj, types.MethodType):  # a bound method (a data set's ``sample``): its object matters
        return {"method": obj.__func__.__qualname__, "self": describe(obj.__self__, d)}
    if isinstance(obj, types.FunctionType):
        if "<lambda>" in obj.__qualname__ or obj.__closure__:
            raise TypeError(f"cannot key the lambda or closure {obj.__qualname__!r}: pass a bound method or a "
                            "module-level function")
        code = obj.__code__
        out = {"function": f"{obj.__module__}.{obj.__qualname__}",
               "code": hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:32],
               "defaults": describe(obj.__defaults__, d)}
        if not str(obj.__module__).startswith(PACKAGE.name):  # a notebook's function: the globals it reads matter too
            read = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
            out["globals"] = {n: describe(obj.__globals__[n], d) for n in sorted(read)
                              if n in obj.__globals__ and not isinstance(obj.__globals__[n], types.ModuleType)}
        return out
    if isinstance(obj, functools.partial):
        return {"partial": describe(obj.func, d), "args": describe(obj.args, d), "keywords": describe(obj.keywords, d)}
    if isinstance(obj, (type, types.BuiltinFunctionType)):
        return {"callable": f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"}
    if hasattr(obj, "__dict__"):
        return {"object": type(obj).__qualname__, "vars": {k: describe(v, d) for k, v in sorted(vars(obj).items())}}
    raise TypeError(f"cannot describe a {type(obj).__qualname__} for the run store")


def key_of(spec) -> str:
    """sha256 of the run's description and of the code fingerprint."""
    text = json.dumps({"spec": describe(spec), "code": code_fingerprint()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class RunStore:
    """Entries ``<root>/<code[:16]>/<key[:2]>/<key>.<sha256 of the bytes>.pt``; see the module's docstring."""

    def __init__(self, root: str | os.PathLike, code: str | None = None):
        self.root = Path(root)
        self.code = (code or code_fingerprint())[:16]

    def _folder(self, key: str) -> Path:
        return self.root / self.code / key[:2]

    def prune(self, tmp_age_s: float = 3600.0) -> tuple[int, int]:
        """Remove what no key of the current code can reach: (files removed, bytes freed).

        That is every folder of ``root`` but the current code's (entries of earlier code, and of the
        earlier layout without a code folder), and ``.writing-*`` files older than ``tmp_age_s``
        seconds (a writer killed mid-write; younger ones may belong to a writer at work).
        """
        files = nbytes = 0
        if not self.root.is_dir():
            return 0, 0
        now = time.time()
        for path in sorted(self.root.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(self.root).parts
            stale = rel[0] != self.code and (path.suffix == ".pt" or path.name.startswith(".writing-"))
            killed = path.name.startswith(".writing-") and now - path.stat().st_mtime > tmp_age_s
            if stale or killed:
                size = path.stat().st_size
                path.unlink(missing_ok=True)
                files, nbytes = files + 1, nbytes + size
        for folder in sorted((p for p in self.root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if not any(folder.iterdir()):
                folder.rmdir()
        return files, nbytes

    def entries(self, key: str) -> list:
        """The files stored under ``key``, newest first (two writers of one key may each leave a whole file)."""
        folder = self._folder(key)
        found = []
        for path in folder.glob(f"{key}.*.pt") if folder.exists() else []:
            try:
                found.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:
                continue
        return [p for _, p in sorted(found, reverse=True)]

    def get(self, key: str):
        """The stored payload, or None. An entry whose bytes do not match its checksum is reported and removed."""
        for _ in range(5):  # a concurrent writer may replace an entry between listing and reading it
            vanished = False
            for path in self.entries(key):
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    vanished = True
                    continue
                payload = self._check(key, path, data)
                if payload is not None:
                    return payload
            if not vanished:
                return None
        return None

    def _check(self, key: str, path: Path, data: bytes):
        """The payload in ``data`` if it is whole and belongs to ``key``; otherwise warn, remove it, None."""
        if hashlib.sha256(data).hexdigest() != path.name.split(".")[1]:
            warnings.warn(f"run store: {path} is damaged (its bytes do not match its checksum); "
                          "removed, the run is trained again", RuntimeWarning, stacklevel=4)
            path.unlink(missing_ok=True)
            return None
        try:
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - a file that does not load is damaged, whatever the error
            warnings.warn(f"run store: {path} does not load ({err}); removed, the run is trained again",
                          RuntimeWarning, stacklevel=4)
            path.unlink(missing_ok=True)
            return None
        if not isinstance(payload, dict) or payload.get("key") != key:
            warnings.warn(f"run store: {path} holds another run; removed, the run is trained again",
                          RuntimeWarning, stacklevel=4)
            path.unlink(missing_ok=True)
            return None
        return payload

    def put(self, key: str, payload: dict) -> Path:
        """Write ``payload`` (tensors, numbers, strings, lists, dicts) atomically; returns the entry's path."""
        buf = io.BytesIO()
        torch.save(dict(payload, key=key), buf)
        data = buf.getvalue()
        folder = self._folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{key}.{hashlib.sha256(data).hexdigest()}.pt"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return final


def remember(spec, fit, store: RunStore | None = None):
    """``(payload, "loaded" | "trained", seconds)``: the stored payload for ``spec``, or ``fit()``'s, stored.

    ``fit()`` returns a dict of tensors, numbers, strings, lists and dicts. With the store off (or a
    spec that cannot be described) it simply trains.
    """
    if store is None:
        root = store_root()
        store = RunStore(root) if root is not None else None
    start = time.perf_counter()
    key = None
    if store is not None:
        try:
            key = key_of(spec)
        except TypeError as err:
            print(f"run store: trained without storing ({err})", file=sys.stderr)
    if key is not None:
        payload = store.get(key)
        if payload is not None:
            return payload, "loaded", time.perf_counter() - start
    payload = fit()
    if key is not None:
        store.put(key, payload)
    return payload, "trained", time.perf_counter() - start


# ---------------------------------------------------------------- what the trainer keeps
_SIMPLE = (bool, int, float, str, type(None))


def _keepable(v) -> bool:
    if isinstance(v, _SIMPLE) or torch.is_tensor(v):
        return True
    if isinstance(v, (list, tuple)):
        return all(_keepable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _keepable(x) for k, x in v.items())
    return False


def to_cpu(v):
    """Detached CPU copies of the tensors in ``v`` (a tensor, or lists/tuples/dicts of them)."""
    if torch.is_tensor(v):
        return v.detach().cpu().clone()
    if isinstance(v, (list, tuple)):
        return type(v)(to_cpu(x) for x in v)
    if isinstance(v, dict):
        return {k: to_cpu(x) for k, x in v.items()}
    return v


def _to(v, device):
    if torch.is_tensor(v):
        return v.to(device)
    if isinstance(v, (list, tuple)):
        return type(v)(_to(x, device) for x in v)
    if isinstance(v, dict):
        return {k: _to(x, device) for k, x in v.items()}
    return v


def objective_state(objective) -> dict:
    """Every attribute of an objective that is a number, string, tensor or a list/dict of them (its full state)."""
    return {k: to_cpu(v) for k, v in vars(objective).items() if _keepable(v)}


def load_objective_state(objective, state: dict, device) -> None:
    for k, v in state.items():
        setattr(objective, k, _to(v, device))


def main(argv=None) -> int:
    """``python -m course_lib.store prune``: remove the entries the current code can no longer use."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m course_lib.store", description=main.__doc__)
    ap.add_argument("command", choices=["prune"])
    ap.add_argument("--root", help="the store's folder (default: $COURSE_STORE, else runs/ in the project)")
    args = ap.parse_args(argv)
    root = Path(args.root) if args.root else store_root()
    if root is None:
        print(f"the run store is off (${ENV}=off): nothing to prune; give --root FOLDER", file=sys.stderr)
        return 2
    files, nbytes = RunStore(root).prune()
    print(f"run store {root}: removed {files} stale files, {nbytes / 2**20:.1f} MiB freed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Keys of the run store: a run's key changes whenever anything that produces the run changes.

``describe(obj)`` turns what defines a run (networks, data, objective, settings, and the code of
functions and classes defined outside ``course_lib``) into JSON; ``key_of`` hashes it together
with ``code_fingerprint()``, the sha256 of the ``course_lib`` source that trains.
"""
from __future__ import annotations

import dataclasses
import dis
import functools
import hashlib
import json
import math
import os
import sys
import sysconfig
import types
from pathlib import Path

import torch
from torch import nn

CODE_MODULES = ("anomaly", "compare", "data", "divergences", "ebm", "energy", "ensemble", "evaluation", "factor_analysis", "functionals",
                "keys", "losses", "methods", "metrics", "practice", "models", "sampling", "store", "structured", "toys", "train", "vae")
PACKAGE = Path(__file__).resolve().parent


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


_LIBRARY_ROOTS = tuple({str(Path(p).resolve()) for k, p in sysconfig.get_paths().items()
                        if k in ("stdlib", "platstdlib", "purelib", "platlib")})
_CLASS_SKIP = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__", "_abc_impl",
               "__dataclass_fields__", "__dataclass_params__", "__match_args__", "__parameters__", "__orig_bases__",
               "__slots__", "__firstlineno__", "__static_attributes__"}


@functools.lru_cache(maxsize=None)
def _origin(module: str | None) -> str:
    """Whose code a module holds: "course" (``course_lib``, keyed by the code fingerprint), "library" (installed
    packages and the standard library, keyed by name) or "user" (a notebook, a script, a test: keyed by its code)."""
    if not module:
        return "user"
    if module == PACKAGE.name or module.startswith(PACKAGE.name + "."):
        return "course"
    if module == "builtins":
        return "library"
    file = getattr(sys.modules.get(module), "__file__", None)
    if module == "__main__" or not file:
        return "user"
    return "library" if str(Path(file).resolve()).startswith(_LIBRARY_ROOTS) else "user"


def _codes(code: types.CodeType):
    """``code`` and every code object nested in it (functions, lambdas, comprehensions, classes defined inside)."""
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def _const(c):
    """A code object's constant, stable across processes: nested code recursively, sets in sorted order."""
    if isinstance(c, types.CodeType):
        return _code(c)
    if isinstance(c, (frozenset, set)):
        return {"set": sorted((_const(x) for x in c), key=repr)}
    if isinstance(c, tuple):
        return [_const(x) for x in c]
    if isinstance(c, float) and not math.isfinite(c):
        return repr(c)
    if isinstance(c, (bytes, complex, type(Ellipsis))):
        return repr(c)
    return c


def _code(code: types.CodeType) -> dict:
    """Everything a code object does: its bytecode, constants (nested code included), the names it uses and its signature."""
    return {"bytecode": hashlib.sha256(code.co_code).hexdigest()[:32], "consts": [_const(c) for c in code.co_consts],
            "names": list(code.co_names), "varnames": list(code.co_varnames), "freevars": list(code.co_freevars),
            "cellvars": list(code.co_cellvars), "args": [code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount],
            "flags": code.co_flags}


class _Describer:
    """One description; ``active`` holds the functions and classes being described, so that recursion
    (a function that calls itself, a method's ``__class__`` cell) ends in a reference instead of a loop."""

    MAX_DEPTH = 60

    def __init__(self):
        self.active = set()

    def __call__(self, obj, depth: int = 0):
        if depth > self.MAX_DEPTH:
            raise TypeError("description too deep (a cycle through plain objects?): this run cannot be keyed")
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
            user = sorted({type(m) for m in obj.modules() if _origin(type(m).__module__) == "user"}, key=lambda t: t.__qualname__)
            return {"module": type(obj).__qualname__, "repr": repr(obj),
                    "state": {k: self(v, d) for k, v in obj.state_dict().items()},
                    "classes": [self(t, d) for t in user]}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {"dataclass": self(type(obj), d),
                    "fields": {f.name: self(getattr(obj, f.name), d) for f in dataclasses.fields(obj)}}
        if isinstance(obj, dict):
            return {str(k): self(v, d) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
        if isinstance(obj, (list, tuple)):
            return [self(v, d) for v in obj]
        if isinstance(obj, (set, frozenset)):
            return {"set": sorted((self(v, d) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))}
        if isinstance(obj, types.MethodType):  # a bound method (a data set's ``sample``): its function and its object
            return {"method": self(obj.__func__, d), "self": self(obj.__self__, d)}
        if isinstance(obj, types.FunctionType):
            return self._function(obj, d)
        if isinstance(obj, functools.partial):
            return {"partial": self(obj.func, d), "args": self(obj.args, d), "keywords": self(obj.keywords, d)}
        if isinstance(obj, (staticmethod, classmethod)):
            return {type(obj).__name__: self(obj.__func__, d)}
        if isinstance(obj, property):
            return {"property": [self(f, d) for f in (obj.fget, obj.fset, obj.fdel)]}
        if isinstance(obj, type):
            return self._class(obj, d)
        if isinstance(obj, types.ModuleType):
            return self._module(obj)
        if isinstance(obj, types.BuiltinFunctionType) or callable(obj) and not hasattr(obj, "__dict__"):
            name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
            if name is None:
                raise TypeError(f"cannot describe a {type(obj).__qualname__} for the run store")
            return {"callable": f"{getattr(obj, '__module__', '')}.{name}"}
        if hasattr(obj, "__dict__"):
            out = {"object": self(type(obj), d), "vars": {k: self(v, d) for k, v in sorted(vars(obj).items())}}
            return out
        raise TypeError(f"cannot describe a {type(obj).__qualname__} for the run store")

    def _function(self, f: types.FunctionType, d: int):
        name = f"{f.__module__}.{f.__qualname__}"
        origin = _origin(f.__module__)
        if origin == "library":
            return {"callable": name}
        if id(f) in self.active:
            return {"recursion": name}
        self.active.add(id(f))
        try:
            out = {"function": name, "code": _code(f.__code__), "defaults": self(f.__defaults__, d),
                   "kwdefaults": self(f.__kwdefaults__, d)}
            if f.__closure__:
                out["closure"] = [self(_cell(c), d) for c in f.__closure__]
            if origin == "user":  # course_lib's own globals are covered by the code fingerprint
                read = sorted({i.argval for c in _codes(f.__code__) for i in dis.get_instructions(c)
                               if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")})
                out["globals"] = {n: self(f.__globals__[n], d) for n in read if n in f.__globals__}
            return out
        finally:
            self.active.discard(id(f))

    def _class(self, cls: type, d: int):
        name = f"{cls.__module__}.{cls.__qualname__}"
        if _origin(cls.__module__) != "user":
            return {"callable": name}
        if id(cls) in self.active:
            return {"recursion": name}
        self.active.add(id(cls))
        try:
            body = {k: self(v, d) for k, v in sorted(vars(cls).items()) if k not in _CLASS_SKIP}
            return {"class": name, "bases": [self(b, d) for b in cls.__bases__], "body": body}
        finally:
            self.active.discard(id(cls))

    def _module(self, module: types.ModuleType):
        """A module a function reads: a library or ``course_lib`` by name, a user's module by the hash of its source."""
        name = module.__name__
        if _origin(name) != "user":
            return {"import": name}
        file = getattr(module, "__file__", None)
        if not file or not os.path.exists(file):
            raise TypeError(f"cannot key the module {name!r}: it has no source file")
        return {"import": name, "source": hashlib.sha256(Path(file).read_bytes()).hexdigest()[:32]}


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell (a name not yet bound)
        return "<empty cell>"


def describe(obj):
    """A JSON-able description of ``obj`` that changes whenever anything that defines it changes.

    Numbers, strings, lists, dicts and dataclasses as themselves; tensors by shape, dtype and a hash
    of their values; modules by class, structure, every weight and buffer and the code of every
    class of theirs defined outside ``course_lib``; random generators by their state; bound methods
    by their function and object. Code defined outside ``course_lib`` and installed libraries (a
    notebook's function, class, objective or network) is keyed by all of it: bytecode, constants,
    the names it uses, defaults, closures, nested functions and comprehensions, the globals it reads
    (recursively), every method of a class and of its bases. ``course_lib``'s own code is covered by
    ``code_fingerprint``; libraries by name. Stable across processes (no addresses, no hash order).
    Raises TypeError for what it cannot describe (a run with it is not stored).
    """
    return _Describer()(obj)


def key_of(spec) -> str:
    """sha256 of the run's description and of the code fingerprint."""
    text = json.dumps({"spec": describe(spec), "code": code_fingerprint()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()



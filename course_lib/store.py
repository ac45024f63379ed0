"""A store of trained runs: train once, load ever after.

Every run is kept under a key made of everything that defines it: the networks (architecture and
initial weights, which fix the seed), the objective and its settings, the training settings, the
data, and a fingerprint of the ``course_lib`` source that trains (``CODE_MODULES``), so a changed
loss never serves a stale run; code from a notebook or script is keyed by all of it (``keys.py``). An entry is one file, ``<key>.<sha256>.pt`` (see below for its folder), where
``<sha256>`` is the checksum of the file's own bytes: it is written to a temporary file and renamed
(a reader sees all of it or nothing; two writers of the same key each rename a whole file), and it
is read with ``torch.load(..., weights_only=True)`` only after its bytes match its name. An entry
that does not match is reported, removed and trained again; it is never used.

Entries sit in a folder named for the code fingerprint, ``<root>/<code[:16]>/<key[:2]>/...``: a
change to the training code strands every earlier entry (its key can never be asked for again), and
``prune()`` (``python -m course_lib.store prune``) removes those stranded entries, temporary files
left by a writer that was killed, the resumable checkpoints of earlier code (``<code>/resume/<key>.pt``,
written by ``train.train`` while a run trains), and the store's folders left empty. It touches nothing else (a
file or folder not of the store's form is the user's), a writer may work meanwhile, and a path
that is not a store is an error. Entries are group-readable (mode 0o640, folders g+rx), for a store
shared in a lab.

A run the store cannot take (a read-only folder, a full disk, ``$COURSE_STORE`` naming a file) is
never lost: ``remember`` warns, says what to change, and saves it as
``<tmp>/course_lib-unsaved-runs/<key>.<sha256>.pt`` (``UNSAVED``).

``python -m course_lib.store pack --out runs-full.tar.gz`` packs a store to hand on (members
``runs/<code>/<xx>/<key>.<sha256>.pt``); ``unpack TARBALL`` adds such a tarball's entries to a
store, and nothing else: links, devices, paths outside the store and any other file are refused,
an entry is checked against its checksum, and an existing file is never overwritten.

The folder is ``$COURSE_STORE`` (``off`` trains every time; a relative path is taken from the
project's folder, so notebooks, which run in ``notebooks/``, share it with ``make``); by default
``runs/`` in the project, which git ignores. ``train.train`` and ``evaluation.fit_mnist_classifier``
go through ``remember``; a notebook cell reads the same whether its run was trained or loaded, and
the trainer says which happened.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import itertools
import os
import re
import stat
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import torch

from .keys import CODE_MODULES, code_fingerprint, describe, key_of  # noqa: F401 - the store's keys

ENV = "COURSE_STORE"
PACKAGE = Path(__file__).resolve().parent


def store_root() -> Path | None:
    """Where runs are kept: ``$COURSE_STORE``, or ``runs/`` beside the package; None when the store is off.

    A relative ``$COURSE_STORE`` is taken from the project's folder (the one holding ``pyproject.toml``
    beside the package), not from the working directory, so a notebook (run from ``notebooks/``) and
    ``make`` (run from the project) use the same store; without a project folder, from the working directory.
    """
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("off", "0", "none", "no"):
        return None
    project = PACKAGE.parent
    in_project = (project / "pyproject.toml").exists()
    if value:
        path = Path(value).expanduser()
        if not path.is_absolute() and in_project:
            path = project / path
        return path.resolve()
    if in_project:
        return project / "runs"
    return Path.home() / ".cache" / "course_lib" / "runs"


# the store's layout: <root>/<code[:16]>/<key[:2]>/<key>.<sha256>.pt, and .writing-*.tmp files of a writer at work
_CODE_DIR = re.compile(r"[0-9a-f]{16}")
_SHARD_DIR = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"([0-9a-f]{64})\.([0-9a-f]{64})\.pt")
_TMP = re.compile(r"\.writing-[A-Za-z0-9_]+\.tmp")
_RESUME = re.compile(r"[0-9a-f]{64}\.pt(\.sha256)?")          # <code>/resume/<key>.pt: a run's resumable checkpoint
_RESUME_TMP = re.compile(r"tmp[A-Za-z0-9_]+\.tmp")                  # save_checkpoint's temporary files there
_LOCK = re.compile(r"[0-9a-f]{64}\.lock")                            # <code>/locks/<key>.lock: a run being trained
_MEMBER = re.compile(r"runs/([0-9a-f]{16})/([0-9a-f]{2})/(([0-9a-f]{64})\.([0-9a-f]{64})\.pt)")
FILE_MODE = 0o640  # entries are readable by the group (a store shared in a lab), never writable but by their owner
UNSAVED = Path(tempfile.gettempdir()) / "course_lib-unsaved-runs"  # where a run goes when the store cannot take it


def _is_entry(name: str, shard: str) -> bool:
    m = _ENTRY.fullmatch(name)
    return m is not None and m.group(1)[:2] == shard


def _scan(path: Path) -> list:
    """The os.DirEntry objects in ``path`` (none if it vanished or cannot be read: a writer or pruner races us)."""
    try:
        with os.scandir(path) as it:
            return list(it)
    except OSError:
        return []


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def check_store(root: Path) -> None:
    """Raise ValueError (saying what to change) unless ``root`` is a run store's folder."""
    if not root.exists():
        raise ValueError(f"{root} does not exist: give --root (or ${ENV}) the run store's folder")
    if not root.is_dir():
        raise ValueError(f"{root} is a file, not a run store's folder: give --root (or ${ENV}) the store's folder")
    if not any(_is_dir(e) and (_CODE_DIR.fullmatch(e.name) or _SHARD_DIR.fullmatch(e.name)) for e in _scan(root)):
        raise ValueError(f"{root} is not a run store (no <16 hex digits>/ code folders in it): give --root (or "
                         f"${ENV}) the store's folder, e.g. runs/ in the project")


def _make_folders(root: Path, *parts: str) -> Path:
    """``root/parts...``, created as needed; the folders it creates are readable and searchable by the group."""
    root.mkdir(parents=True, exist_ok=True)
    path = root
    for part in parts:
        path = path / part
        try:
            path.mkdir()
        except FileExistsError:
            continue
        try:
            os.chmod(path, stat.S_IMODE(path.stat().st_mode) | 0o050)
        except OSError:
            pass  # removed under us (the caller retries), or not ours to change
    return path


def _write_new(folder: Path, name: str, data: bytes, replace: bool = True) -> Path:
    """Write ``data`` to ``folder/name`` atomically (a temporary file, then a rename), mode ``FILE_MODE``.

    With ``replace=False`` an existing file is kept and FileExistsError raised (the rename is a link).
    """
    final = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, final)
        else:
            try:
                os.link(tmp, final)  # fails if ``final`` exists: never overwrites
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if final.exists():
                    raise FileExistsError(errno.EEXIST, "already there", str(final)) from None
                os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return final


class RunStore:
    """Entries ``<root>/<code[:16]>/<key[:2]>/<key>.<sha256 of the bytes>.pt``; see the module's docstring."""

    def __init__(self, root: str | os.PathLike, code: str | None = None):
        self.root = Path(root)
        self.code = (code or code_fingerprint())[:16]

    def _folder(self, key: str) -> Path:
        return self.root / self.code / key[:2]

    def prune(self, tmp_age_s: float = 3600.0) -> tuple[int, int]:
        """Remove the entries no key of the current code can reach: (files removed, bytes freed).

        Only what the store's layout proves is its own is touched: entries
        ``<16 hex>/<2 hex>/<key>.<sha256>.pt`` of another code's folder (and ``<2 hex>/<key>.<sha256>.pt``
        of the layout before code folders), ``.writing-*.tmp`` files in such folders older than
        ``tmp_age_s`` seconds (a writer killed mid-write; younger ones may belong to a writer at work),
        then the folders of that form left empty. Anything else in ``root`` is left alone, and a writer
        at work meanwhile is fine. Raises ValueError if ``root`` is not a store (see ``check_store``).
        """
        check_store(self.root)
        files = nbytes = 0
        now = time.time()

        def sweep(folder: Path, stale: bool, resume: bool = False) -> bool:  # True if ``folder`` may now be empty
            """Remove stale entries (or resumable checkpoints) and old temporary files of one folder of the store's form."""
            nonlocal files, nbytes
            for e in _scan(folder):
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                entry = _RESUME.fullmatch(e.name) if resume else _is_entry(e.name, folder.name)
                tmp = (_RESUME_TMP if resume else _TMP).fullmatch(e.name) and now - st.st_mtime > tmp_age_s
                if (stale and entry) or tmp:
                    try:
                        os.unlink(e.path)
                    except FileNotFoundError:
                        continue
                    files, nbytes = files + 1, nbytes + st.st_size
            return stale

        def remove_if_empty(folder: Path) -> None:
            try:
                folder.rmdir()
            except OSError:  # not empty (a writer just put a file there, or not ours), or already gone
                pass

        for top in _scan(self.root):
            if not _is_dir(top):
                continue
            if _SHARD_DIR.fullmatch(top.name):  # the layout before code folders: every entry is stale
                sweep(Path(top.path), stale=True) and remove_if_empty(Path(top.path))
            elif _CODE_DIR.fullmatch(top.name):
                stale = top.name != self.code
                for shard in _scan(Path(top.path)):
                    if _is_dir(shard) and _SHARD_DIR.fullmatch(shard.name):
                        sweep(Path(shard.path), stale) and remove_if_empty(Path(shard.path))
                    elif _is_dir(shard) and shard.name == "resume":
                        sweep(Path(shard.path), stale, resume=True) and remove_if_empty(Path(shard.path))
                    elif _is_dir(shard) and shard.name == "locks" and stale:  # empty lock files of another code
                        for e in _scan(Path(shard.path)):
                            if _LOCK.fullmatch(e.name) and e.is_file(follow_symlinks=False):
                                Path(e.path).unlink(missing_ok=True)
                        remove_if_empty(Path(shard.path))
                if stale:
                    remove_if_empty(Path(top.path))
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

    def get(self, key: str, validate=None):
        """The stored payload, or None. An entry whose bytes do not match its checksum is reported and removed;
        so is one for which ``validate(payload)`` names a problem (a whole entry of the wrong structure)."""
        for _ in range(5):  # a concurrent writer may replace an entry between listing and reading it
            vanished = False
            for path in self.entries(key):
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    vanished = True
                    continue
                payload = self._check(key, path, data)
                problem = validate(payload) if payload is not None and validate is not None else None
                if problem:
                    warnings.warn(f"run store: {path} has the wrong structure for this run ({problem}); removed, "
                                  "the run is trained again", RuntimeWarning, stacklevel=4)
                    path.unlink(missing_ok=True)
                    continue
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
        name = f"{key}.{hashlib.sha256(data).hexdigest()}.pt"
        # ``prune`` may remove an (empty) folder between its mkdir and the write. Each such loss means prune
        # made progress, so a writer keeps trying (backing off a little) for as long as the root is there.
        give_up = time.monotonic() + 30.0
        for attempt in itertools.count():
            try:
                return _write_new(_make_folders(self.root, self.code, key[:2]), name, data)
            except FileNotFoundError:
                if not self.root.is_dir() or time.monotonic() > give_up:
                    raise
                time.sleep(min(0.0005 * 2 ** attempt, 0.02))


def resume_path(root: str | os.PathLike, key: str) -> Path:
    """Where a run of ``key`` keeps its resumable checkpoint while it trains: ``<root>/<code[:16]>/resume/<key>.pt``."""
    return Path(root) / code_fingerprint()[:16] / "resume" / f"{key}.pt"


_SAID = set()  # messages printed once per process


def _say_once(message: str) -> None:
    if message not in _SAID:
        _SAID.add(message)
        print(message, file=sys.stderr)


@contextlib.contextmanager
def _training(store: RunStore, key: str):
    """Hold ``<root>/<code>/locks/<key>.lock`` while a run is trained, so that two notebooks built side by side that
    need the same run train it once: the second waits, then loads it. Where files cannot be locked, nothing is held."""
    try:
        import fcntl
        folder = _make_folders(store.root, store.code, "locks")
        fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"run store: another process is training this run ({key[:12]}...); waiting for it, then loading it",
                  file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass  # a file system without locks: train all the same
        yield
    finally:
        os.close(fd)  # closing releases the lock


def remember(spec, fit, store: RunStore | None = None, validate=None, key: str | None = None):
    """``(payload, "loaded" | "trained", seconds)``: the stored payload for ``spec``, or ``fit()``'s, stored.

    ``fit()`` returns a dict of tensors, numbers, strings, lists and dicts. With the store off (or a
    spec that cannot be described: said once) it simply trains. ``validate(payload)`` may name a
    problem with a stored payload's structure; such an entry is reported, removed and trained again. ``key``:
    ``key_of(spec)`` when the caller has it already. A store that cannot be read is treated as empty; one that cannot take the run (read-only, full disk, ``$COURSE_STORE`` a file) never costs
    the run: a RuntimeWarning says what failed, and the run is saved under ``UNSAVED`` instead.
    """
    if store is None:
        root = store_root()
        store = RunStore(root) if root is not None else None
    start = time.perf_counter()
    if store is None:
        key = None
    elif key is None:
        try:
            key = key_of(spec)
        except TypeError as err:
            _say_once(f"run store: trained without storing ({err})")
    usable = key is not None and not _not_a_folder(store.root)
    if usable:
        try:
            payload = store.get(key, validate)
        except OSError as err:
            warnings.warn(f"run store: cannot read {store.root} ({err}); the run is trained (give ${ENV} a "
                          "folder you can read and write)", RuntimeWarning, stacklevel=2)
            payload = None
        if payload is not None:
            return payload, "loaded", time.perf_counter() - start
    with _training(store, key) if usable else contextlib.nullcontext():
        if usable:  # another process may have trained it while this one waited for the lock
            try:
                payload = store.get(key, validate)
            except OSError:
                payload = None
            if payload is not None:
                return payload, "loaded", time.perf_counter() - start
        payload = fit()
        _put(store, key, payload, usable)
    return payload, "trained", time.perf_counter() - start


def _put(store, key, payload, usable) -> None:
    """Store a freshly trained payload, or keep it under ``UNSAVED`` and say so when the store cannot take it."""
    if usable:
        try:
            store.put(key, payload)
        except OSError as err:
            saved = _save_unsaved(key, payload)
            where = (f"the run is saved to {saved} (move it to {store._folder(key)}/ once that is writable)"
                     if isinstance(saved, Path) else f"the run could not be saved anywhere either ({saved})")
            warnings.warn(f"run store: could not store the run in {store.root} ({err}); {where}; "
                          f"set {ENV} to a writable folder with free space (or {ENV}=off)",
                          RuntimeWarning, stacklevel=3)
    elif key is not None:  # $COURSE_STORE is a file: said once (see _not_a_folder); the run is kept all the same
        saved = _save_unsaved(key, payload)
        print(f"run store: run saved to {saved}" if isinstance(saved, Path)
              else f"run store: the run could not be saved ({saved})", file=sys.stderr)


_WARNED: set = set()


def _not_a_folder(root: Path) -> bool:
    """True if ``root`` exists but is not a folder (``$COURSE_STORE`` names a file); warns once per root."""
    try:
        if not root.exists() or root.is_dir():
            return False
    except OSError:  # cannot even look (no permission): ``get``/``put`` say what failed
        return False
    if root not in _WARNED:
        _WARNED.add(root)
        warnings.warn(f"run store: {root} is a file, not a folder: runs are trained without storing and saved "
                      f"under {UNSAVED} instead; set {ENV} to a folder (or {ENV}=off)", RuntimeWarning, stacklevel=3)
    return True


def _save_unsaved(key: str, payload: dict):
    """Save a run the store could not take to ``UNSAVED/<key>.<sha256>.pt``; its path, or the OSError."""
    buf = io.BytesIO()
    torch.save(dict(payload, key=key), buf)
    data = buf.getvalue()
    try:
        UNSAVED.mkdir(parents=True, exist_ok=True)
        return _write_new(UNSAVED, f"{key}.{hashlib.sha256(data).hexdigest()}.pt", data)
    except OSError as err:
        return err


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


# ---------------------------------------------------------------- packing a store to hand on
def pack(root: str | os.PathLike, out: str | os.PathLike) -> tuple[int, int]:
    """Pack every entry of the store ``root`` into the tarball ``out`` (written atomically): (entries, bytes).

    Members are ``runs/<code>/<xx>/<key>.<sha256>.pt``, the only form ``unpack`` accepts; an entry whose
    bytes do not match its checksum is left out (with a warning). Raises ValueError if ``root`` is not a store.
    """
    root, out = Path(root), Path(out)
    check_store(root)
    found = []
    for code in _scan(root):
        if _is_dir(code) and _CODE_DIR.fullmatch(code.name):
            for shard in _scan(Path(code.path)):
                if _is_dir(shard) and _SHARD_DIR.fullmatch(shard.name):
                    found += [(code.name, shard.name, e.name, e.path) for e in _scan(Path(shard.path))
                              if _is_entry(e.name, shard.name) and e.is_file(follow_symlinks=False)]
    n = nbytes = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
            for code, shard, name, path in sorted(found):
                try:
                    data = Path(path).read_bytes()
                except FileNotFoundError:
                    continue
                if hashlib.sha256(data).hexdigest() != name.split(".")[1]:
                    warnings.warn(f"run store: {path} is damaged (its bytes do not match its checksum); not packed",
                                  RuntimeWarning, stacklevel=2)
                    continue
                info = tarfile.TarInfo(f"runs/{code}/{shard}/{name}")
                info.size, info.mode, info.mtime = len(data), FILE_MODE, int(time.time())
                tar.addfile(info, io.BytesIO(data))
                n, nbytes = n + 1, nbytes + len(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return n, nbytes


def _what(m: tarfile.TarInfo) -> str:
    if m.issym() or m.islnk():
        return "a link"
    if not (m.isreg() or m.isdir()):
        return "a device, pipe or other special file"
    if m.name.startswith("/") or ".." in m.name.split("/"):
        return "a path outside the store"
    return "not a run store entry"


def unpack(tarball: str | os.PathLike, root: str | os.PathLike) -> tuple[list, list, list]:
    """Add the entries of a packed store (``pack``, ``make store``) to the store ``root``: (extracted, present, refused).

    Only regular files ``runs/<16 hex>/<2 hex>/<key>.<sha256>.pt`` whose bytes match their checksum are
    taken, each written atomically into ``root`` and never over an existing file (``present``: already
    there). Every other member (links, devices, absolute paths, ``..``, any other file such as a
    Makefile or a notebook) is skipped and listed in ``refused`` as ``"name: why"``; nothing is written
    outside ``root``. Nothing in the tarball is run.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    extracted, present, refused = [], [], []
    with tarfile.open(tarball, "r:*") as tar:
        for m in tar:
            match = _MEMBER.fullmatch(m.name)
            if m.isdir() and re.fullmatch(r"(\./)?runs(/[0-9a-f]{16}(/[0-9a-f]{2})?)?/?", m.name):
                continue  # the store's own folders: made as needed
            if not (m.isreg() and match and match.group(4)[:2] == match.group(2)):
                refused.append(f"{m.name}: {_what(m)}")
                continue
            code, shard, name, _, sha = match.groups()
            data = tar.extractfile(m).read()
            if hashlib.sha256(data).hexdigest() != sha:
                refused.append(f"{m.name}: its bytes do not match its checksum")
                continue
            if os.path.islink(root / code) or os.path.islink(root / code / shard):
                refused.append(f"{m.name}: {root / code} or {root / code / shard} is a link (remove it)")
                continue
            folder = _make_folders(root, code, shard)
            try:
                _write_new(folder, name, data, replace=False)
                extracted.append(m.name)
            except FileExistsError:
                present.append(m.name)
    return extracted, present, refused


def main(argv=None) -> int:
    """Look after a run store: ``prune`` the entries the current code can no longer use, ``pack`` the store into
    a tarball to hand on, ``unpack`` such a tarball into the store."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m course_lib.store", description=main.__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("prune", help="remove entries of earlier code and temporary files of killed writers")
    sub.add_parser("pack", help="pack the store's entries into a tarball").add_argument(
        "--out", required=True, help="the tarball to write, e.g. runs-full.tar.gz")
    sub.add_parser("unpack", help="add the entries of a packed store, and nothing else").add_argument(
        "tarball", help="a tarball written by pack (make store)")
    for p in sub.choices.values():
        p.add_argument("--root", help=f"the store's folder (default: ${ENV}, else runs/ in the project)")
    args = ap.parse_args(argv)
    root = Path(args.root).resolve() if args.root else store_root()
    if root is None:
        print(f"the run store is off (${ENV}=off): give --root FOLDER, or unset {ENV}", file=sys.stderr)
        return 2
    try:
        if args.command == "prune":
            files, nbytes = RunStore(root).prune()
            print(f"run store {root}: removed {files} stale files, {nbytes / 2**20:.1f} MiB freed")
        elif args.command == "pack":
            n, nbytes = pack(root, args.out)
            if n == 0:
                print(f"run store {root} holds no entries: nothing packed (train into it first, e.g. make store)",
                      file=sys.stderr)
                Path(args.out).unlink(missing_ok=True)
                return 2
            print(f"run store {root}: packed {n} entries ({nbytes / 2**20:.1f} MiB) into {args.out}")
        else:
            if root.exists() and not root.is_dir():
                raise ValueError(f"{root} is a file, not a folder: give --root (or ${ENV}) a folder for the store")
            extracted, present, refused = unpack(args.tarball, root)
            for name in refused:
                print(f"refused {name}", file=sys.stderr)
            print(f"run store {root}: extracted {len(extracted)} entries, {len(present)} already there, "
                  f"refused {len(refused)} other members of {args.tarball}")
            if not extracted and not present:
                print(f"{args.tarball} holds no run store entries: give a tarball made by `make store`", file=sys.stderr)
                return 2
    except ValueError as err:
        print(f"run store: {err}", file=sys.stderr)
        return 2
    except (OSError, tarfile.TarError) as err:
        print(f"run store: {args.command} failed: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

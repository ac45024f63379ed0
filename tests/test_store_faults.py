"""The run store under faults (issue 25): a store that cannot take a run never costs the run, a packed
store brings in run store entries and nothing else, prune touches only what is the store's own and
races a writer safely, entries are shared with the group, and a relative $COURSE_STORE means the same
folder from everywhere."""
import errno
import io
import os
import re
import tarfile
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch

from course_lib import store

SPEC = {"name": "faults", "n": 3}
MAKEFILE = (Path(store.__file__).resolve().parent.parent / "Makefile").read_text()


@pytest.fixture
def unsaved(tmp_path, monkeypatch):
    """The fallback folder of runs the store could not take, inside the test's own folder."""
    monkeypatch.setattr(store, "UNSAVED", tmp_path / "unsaved")
    monkeypatch.setattr(store, "_WARNED", set())
    return tmp_path / "unsaved"


def _fit(calls):
    def fit():
        calls.append(1)
        return {"w": torch.arange(5.0), "note": "trained"}
    return fit


def _recipe(target):
    return re.search(rf"^{target}:.*?(?=^\S|\Z)", MAKEFILE, re.S | re.M).group(0)


# ---------------------------------------------------------------- finding 3: a failed write keeps the run
@pytest.mark.parametrize("fault", ["read-only", "full disk"])
def test_finding3_a_failed_store_write_warns_and_keeps_the_run(tmp_path, monkeypatch, unsaved, fault):
    root = tmp_path / "runs"
    monkeypatch.setenv(store.ENV, str(root))
    if fault == "read-only":  # as root, chmod does not stop writes: make creating the store's folders fail
        real_mkdir = os.mkdir

        def mkdir(path, *a, **k):
            if str(path).startswith(str(root)):
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real_mkdir(path, *a, **k)
        monkeypatch.setattr(os, "mkdir", mkdir)
    else:
        real_replace = os.replace

        def replace(src, dst, *a, **k):
            if str(dst).startswith(str(root)):
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            return real_replace(src, dst, *a, **k)
        monkeypatch.setattr(os, "replace", replace)
    calls = []
    with pytest.warns(RuntimeWarning, match="could not store the run") as record:
        payload, how, _ = store.remember(SPEC, _fit(calls))
    assert how == "trained" and calls == [1] and torch.equal(payload["w"], torch.arange(5.0))
    message = str(record[0].message)
    [saved] = list(unsaved.glob("*.pt"))
    assert str(saved) in message and f"set {store.ENV} to a writable folder" in message
    assert ("Read-only" if fault == "read-only" else "No space left") in message
    back = torch.load(saved, weights_only=True)
    assert torch.equal(back["w"], payload["w"]) and back["key"] == store.key_of(SPEC)
    assert not list(root.rglob("*.tmp")) and not list(unsaved.glob(".writing-*"))  # no temporary file left


@pytest.mark.skipif(os.geteuid() == 0, reason="as root, a read-only folder does not stop writes")
def test_finding3_a_read_only_store_folder_keeps_the_run(tmp_path, monkeypatch, unsaved):
    root = tmp_path / "runs"
    root.mkdir()
    root.chmod(0o500)
    monkeypatch.setenv(store.ENV, str(root))
    try:
        with pytest.warns(RuntimeWarning, match="could not store the run"):
            payload, how, _ = store.remember(SPEC, _fit([]))
    finally:
        root.chmod(0o700)
    assert how == "trained" and len(list(unsaved.glob("*.pt"))) == 1


def test_finding3_course_store_naming_a_file_warns_once_and_keeps_the_runs(tmp_path, monkeypatch, unsaved, capfd):
    not_a_folder = tmp_path / "store.txt"
    not_a_folder.write_text("my notes")
    monkeypatch.setenv(store.ENV, str(not_a_folder))
    calls = []
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        first, how1, _ = store.remember(SPEC, _fit(calls))
        second, how2, _ = store.remember(dict(SPEC, n=4), _fit(calls))
    assert how1 == how2 == "trained" and len(calls) == 2 and torch.equal(second["w"], torch.arange(5.0))
    said = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert len(said) == 1 and "is a file, not a folder" in said[0] and str(unsaved) in said[0]
    assert f"set {store.ENV} to a folder" in said[0]
    saved = sorted(unsaved.glob("*.pt"))
    err = capfd.readouterr().err
    assert len(saved) == 2 and all(f"run saved to {p}" in err for p in saved)
    assert all(torch.load(p, weights_only=True)["note"] == "trained" for p in saved)
    assert not_a_folder.read_text() == "my notes"


def test_finding3_a_run_that_cannot_be_saved_anywhere_still_comes_back(tmp_path, monkeypatch, unsaved):
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr(store, "UNSAVED", tmp_path / "file" / "unsaved")  # the fallback cannot be written either
    monkeypatch.setenv(store.ENV, str(tmp_path / "file" / "runs"))
    with pytest.warns(RuntimeWarning, match="could not be saved anywhere"):
        payload, how, _ = store.remember(SPEC, _fit([]))
    assert how == "trained" and torch.equal(payload["w"], torch.arange(5.0))


# ---------------------------------------------------------------- finding 4: unpack takes entries, nothing else
def _add(tar, name, data=b"", **fields):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in fields.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def test_finding4_unpack_extracts_only_checked_store_entries(tmp_path, monkeypatch, capsys):
    good = store.RunStore(tmp_path / "src").put("ab" * 32, {"x": torch.ones(3)})
    good_name = f"runs/{good.parent.parent.name}/ab/{good.name}"
    code = good.parent.parent.name
    bad_sum = f"runs/{code}/cd/{'cd' * 32}.{'0' * 64}.pt"  # entry form, but its bytes do not match its name
    tarball = tmp_path / "runs-evil.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        _add(tar, "Makefile", b"course:\n\ttouch pwned\n")
        _add(tar, "notebooks/x.ipynb", b"{}")
        _add(tar, "../evil", b"evil")
        _add(tar, "/abs", b"evil")
        _add(tar, f"runs/{code}/ef/{'ef' * 32}.{'1' * 64}.pt", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        _add(tar, f"runs/{code}/ef/{'ef' * 32}.{'2' * 64}.pt", type=tarfile.LNKTYPE, linkname="../evil")
        _add(tar, f"runs/{code}/ef/{'ef' * 32}.{'3' * 64}.pt", type=tarfile.CHRTYPE)
        _add(tar, f"runs/{code}/ab/.writing-x.tmp", b"partial")
        _add(tar, bad_sum, b"not the checksum")
        _add(tar, "runs", type=tarfile.DIRTYPE)
        tar.add(good, arcname=good_name)
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "Makefile").write_text("mine")
    monkeypatch.chdir(project)
    before = {p for p in tmp_path.rglob("*") if "project" not in p.parts}
    assert store.main(["unpack", str(tarball), "--root", str(project / "runs")]) == 0
    out, err = capsys.readouterr()
    assert "extracted 1 entries" in out and "refused 9" in out and "refused Makefile" in err
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()) == [
        "Makefile", good_name]
    assert (project / "Makefile").read_text() == "mine" and not list((project / "notebooks").iterdir())
    assert {p for p in tmp_path.rglob("*") if "project" not in p.parts} == before  # nothing written outside
    assert torch.equal(store.RunStore(project / "runs", code=code).get("ab" * 32)["x"], torch.ones(3))


def test_finding4_unpack_never_overwrites_an_existing_file(tmp_path):
    good = store.RunStore(tmp_path / "src").put("ab" * 32, {"x": torch.ones(3)})
    tarball = tmp_path / "runs.tar.gz"
    assert store.main(["pack", "--out", str(tarball), "--root", str(tmp_path / "src")]) == 0
    mine = tmp_path / "dst" / good.relative_to(tmp_path / "src")
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"mine")
    extracted, present, refused = store.unpack(tarball, tmp_path / "dst")
    assert (extracted, len(present), refused) == ([], 1, []) and mine.read_bytes() == b"mine"


def test_finding4_course_from_store_unpacks_instead_of_extracting_everything():
    recipe = _recipe("course-from-store")
    assert "tar -x" not in recipe and "course_lib.store unpack" in recipe


def test_finding4_unpack_of_something_that_is_not_a_tarball_fails_clearly(tmp_path, capsys):
    (tmp_path / "x.tar.gz").write_bytes(b"not a tarball")
    assert store.main(["unpack", str(tmp_path / "x.tar.gz"), "--root", str(tmp_path / "runs")]) == 2
    assert "unpack failed" in capsys.readouterr().err


# ---------------------------------------------------------------- finding 5: prune touches only the store's own
def test_finding5_prune_leaves_user_files_and_folders_alone(tmp_path, capsys):
    root = tmp_path / "runs"
    current = store.RunStore(root)
    current.put("ab" * 32, {"x": torch.ones(2)})
    old = store.RunStore(root, code="0" * 64)
    stale = old.put("cd" * 32, {"x": torch.zeros(2)})
    mine = [root / "models" / "best_model.pt", root / "notes.txt", root / ("0" * 16) / "cd" / "my_model.pt",
            root / ("0" * 16) / "readme.txt", root / "ab" / "best.pt"]
    for p in mine:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"mine")
    (root / "empty").mkdir()
    (root / ("1" * 16) / "ef").mkdir(parents=True)  # an empty folder of the store's form: removed
    assert store.main(["prune", "--root", str(root)]) == 0
    assert "removed 1 stale files" in capsys.readouterr().out
    assert not stale.exists() and all(p.read_bytes() == b"mine" for p in mine) and (root / "empty").is_dir()
    assert not (root / ("1" * 16)).exists() and current.get("ab" * 32) is not None


def test_finding5_prune_and_a_writer_at_work_never_trip_each_other(tmp_path):
    root = tmp_path / "runs"
    store.RunStore(root).put("ab" * 32, {"x": torch.ones(2)})  # so that root is a store throughout
    writer, errors, stop = store.RunStore(root, code="0" * 64), [], threading.Event()

    def write():
        try:
            i = 0
            while not stop.is_set():
                writer.put(f"{i % 7:02x}" * 32, {"i": i})
                i += 1
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            store.RunStore(root).prune()
    finally:
        stop.set()
        thread.join()
    assert errors == []


def test_finding5_a_writer_survives_its_folder_vanishing_before_it_writes(tmp_path, monkeypatch):
    s, real = store.RunStore(tmp_path / "runs"), store.tempfile.mkstemp
    vanish = [True]

    def mkstemp(dir, **k):
        if vanish.pop() if vanish else False:
            os.rmdir(dir)  # what prune does to an empty folder, between the writer's mkdir and its mkstemp
        return real(dir=dir, **k)
    monkeypatch.setattr(store.tempfile, "mkstemp", mkstemp)
    assert s.put("ab" * 32, {"x": torch.ones(1)}).exists()


@pytest.mark.parametrize("what", ["missing", "a file", "not a store"])
def test_finding5_prune_of_what_is_not_a_store_fails_with_code_2(tmp_path, capsys, what):
    path = tmp_path / "runs"
    if what == "a file":
        path.write_text("x")
    elif what == "not a store":
        (path / "models").mkdir(parents=True)
        (path / "models" / "best_model.pt").write_text("x")
    assert store.main(["prune", "--root", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "give --root" in err
    assert what != "not a store" or (path / "models" / "best_model.pt").exists()
    with pytest.raises(ValueError):
        store.RunStore(path).prune()


# ---------------------------------------------------------------- finding 7: sharing, packing, relative paths
def test_finding7a_entries_and_their_folders_are_readable_by_the_group(tmp_path):
    old = os.umask(0o077)
    try:
        entry = store.RunStore(tmp_path / "runs").put("ab" * 32, {"x": torch.ones(1)})
        tarball = tmp_path / "r.tar.gz"
        store.pack(tmp_path / "runs", tarball)
        [unpacked] = store.unpack(tarball, tmp_path / "other")[0]
    finally:
        os.umask(old)
    for f in (entry, tmp_path / "other" / unpacked.removeprefix("runs/")):
        assert f.stat().st_mode & 0o777 == store.FILE_MODE == 0o640
        for folder in (f.parent, f.parent.parent):
            assert folder.stat().st_mode & 0o050 == 0o050, folder


def test_finding7b_pack_and_unpack_round_trip_the_store_actually_used(tmp_path, monkeypatch, capsys):
    used = tmp_path / "elsewhere"
    monkeypatch.setenv(store.ENV, str(used))
    s = store.RunStore(used)
    for i in range(2):
        s.put(f"{i:02x}" * 32, {"x": torch.full((3,), float(i))})
    (used / "notes.txt").write_text("not an entry")
    tarball = tmp_path / "runs-test.tar.gz"
    assert store.main(["pack", "--out", str(tarball)]) == 0  # no --root: $COURSE_STORE, as the notebooks used
    assert "packed 2 entries" in capsys.readouterr().out
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert len(names) == 2 and all(store._MEMBER.fullmatch(n) for n in names)
    extracted, present, refused = store.unpack(tarball, tmp_path / "student")
    assert len(extracted) == 2 and not present and not refused
    back = store.RunStore(tmp_path / "student")
    assert all(torch.equal(back.get(f"{i:02x}" * 32)["x"], torch.full((3,), float(i))) for i in range(2))
    recipe = _recipe("store")
    assert "COURSE_STORE=runs" not in recipe and "tar -c" not in recipe and "course_lib.store pack" in recipe


def test_finding7b_pack_of_an_empty_store_fails(tmp_path, capsys):
    (tmp_path / "runs" / ("0" * 16)).mkdir(parents=True)
    assert store.main(["pack", "--out", str(tmp_path / "r.tar.gz"), "--root", str(tmp_path / "runs")]) == 2
    assert "nothing packed" in capsys.readouterr().err and not (tmp_path / "r.tar.gz").exists()


def test_finding7c_a_relative_course_store_is_taken_from_the_project(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # notebooks run with their own folder as working directory
    monkeypatch.setenv(store.ENV, "my-runs")
    assert (store.PACKAGE.parent / "pyproject.toml").exists()
    assert store.store_root() == (store.PACKAGE.parent / "my-runs").resolve()
    monkeypatch.setattr(store, "PACKAGE", tmp_path / "site-packages" / "course_lib")  # installed: no project
    assert store.store_root() == (tmp_path / "notebooks" / "my-runs").resolve()

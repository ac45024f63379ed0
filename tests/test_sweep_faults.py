"""Sweeps keep finished work (issue 25, finding 6): each test names the part of the finding it covers.

6.1: a rank done long before rank 0 made the gather time out; 6.2: a missing ``--out`` folder
failed after all training; 6.3: a bad run in a later group failed after earlier groups trained;
6.4: two sweeps writing one ``--out`` shared a temporary file; 6.5: spec errors did not name the
file or the field.
"""
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib import compare, sweep

ROOT = Path(__file__).resolve().parents[1]
BASE = compare.MethodConfig(steps=5, batch_size=16, hidden=8, n_eval=200)
GOOD = [sweep.Run("ebgan", "ring8", 0), sweep.Run("gan", "ring8", 1)]


@pytest.fixture
def no_training(monkeypatch):
    """Training raises: a test using this shows that its error comes before anything trains."""
    def trained(*args, **kwargs):
        raise AssertionError("a run trained before the error was found")
    monkeypatch.setattr(compare, "run_toy_ensemble", trained)


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


@pytest.fixture
def one_rank(monkeypatch):
    """The environment torchrun gives a job of one rank, on a free port, so that ``main`` runs in this process."""
    for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=_free_port()).items():
        monkeypatch.setenv(k, v)


def _torchrun(tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "COURSE_STORE": "off"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "course_lib.sweep", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def _parts(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".part.json") or p.name.endswith(".tmp"))


def test_finding6_1_a_rank_done_long_before_rank_0_outlasting_the_process_group_timeout_loses_no_rows(tmp_path):
    # rank 0 trains run 0 (6000 steps, about 12 s here), rank 1 run 1 (5 steps): rank 1 waits for rank 0 far longer than
    # the process group's timeout of 2 s, which made the old gather_object fail (gloo: "Timed out waiting 2000ms")
    runs = [sweep.Run("ebgan", "ring8", 0, {"steps": 6000}), sweep.Run("ebgan", "ring8", 1)]
    sweep.write_spec(str(tmp_path / "sweep.json"), runs, BASE)
    proc = _torchrun(tmp_path, "--spec", "sweep.json", "--out", "rows.json", "--pg-timeout-s", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [(r["index"], r["rank"], r["seed"]) for r in rows] == [(0, 0, 0), (1, 1, 1)]
    assert rows[0]["seconds"] - rows[1]["seconds"] > 2, "rank 0 must outlast rank 1 by more than the timeout"
    assert _parts(tmp_path) == []  # the part files go once the rows are written


def test_finding6_1_rows_of_finished_ensembles_stay_in_the_part_file_when_a_rank_fails(tmp_path, monkeypatch, one_rank):
    trained = []
    real = compare.run_toy_ensemble

    def second_fails(*args, **kwargs):
        if trained:
            raise RuntimeError("out of memory (a stand-in)")
        trained.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(compare, "run_toy_ensemble", second_fails)
    out = tmp_path / "rows.json"
    with pytest.raises(RuntimeError, match="stand-in"):
        sweep.run_distributed(GOOD, BASE, out=str(out))
    (part,) = _parts(tmp_path)
    kept = json.loads((tmp_path / part).read_text())
    assert [(r["index"], r["method"]) for r in kept["rows"]] == [(0, "ebgan")] and not out.exists()


class _Board:
    """A stand-in for the ranks' key-value store."""

    def __init__(self, **values):
        self.values = {k.replace("_", "/"): v for k, v in values.items()}

    def check(self, keys):
        return all(k in self.values for k in keys)

    def get(self, key):
        return self.values[key]


def test_finding6_1_rank_0_stops_waiting_when_another_rank_reports_it_failed():
    board = _Board(failed_1=b"RuntimeError: boom")
    with pytest.raises(RuntimeError, match=r"rank 1 failed \(RuntimeError: boom\)"):
        sweep._await(board, "rows/1", [1], deadline=float("inf"), what="rank 0 waited for rank 1's rows")
    assert sweep._await(_Board(rows_1=b"x"), "rows/1", [1], float("inf"), "") == b"x"
    with pytest.raises(RuntimeError, match="--timeout-hours"):
        sweep._await(_Board(), "rows/1", [1], deadline=0.0, what="")


def test_finding6_2_out_in_a_missing_folder_fails_before_any_training(tmp_path, capsys, no_training, one_rank):
    sweep.write_spec(str(tmp_path / "sweep.json"), GOOD, BASE)
    missing = tmp_path / "results" / "rows.json"
    with pytest.raises(SystemExit):
        sweep.main(["--spec", str(tmp_path / "sweep.json"), "--out", str(missing)])
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err and "mkdir" in err
    with pytest.raises(ValueError, match="does not exist"):
        sweep.run_distributed(GOOD, BASE, out=str(missing))
    with pytest.raises(ValueError, match="is a folder"):
        sweep.check_out(str(tmp_path))


BAD_LATE = {  # a run in the last group (another method) that only failed once training reached it
    "unknown target": (sweep.Run("began", "ring9", 2),
                       r"runs\[2\]: unknown target 'ring9'; did you mean 'ring8'\?; choose one of"),
    "target without modes": (sweep.Run("began", "swissroll", 2), r"runs\[2\]: target 'swissroll' has no modes to count"),
    "negative seed": (sweep.Run("began", "ring8", -1), r"runs\[2\]: seed must be a whole number"),
    "seed as text": (sweep.Run("began", "ring8", "3"), r"runs\[2\]: seed must be a whole number"),
    "value of the wrong type": (sweep.Run("began", "ring8", 2, {"steps": "many"}),
                                r"runs\[2\]: overrides: MethodConfig field 'steps' takes one int"),
    "unknown field": (sweep.Run("began", "ring8", 2, {"lr": 1e-3}),
                      r"runs\[2\]: overrides: unknown MethodConfig fields \['lr'\]"),
}


@pytest.mark.parametrize("case", sorted(BAD_LATE))
def test_finding6_3_a_bad_run_in_a_later_group_fails_before_the_first_group_trains(case, no_training):
    run, message = BAD_LATE[case]
    with pytest.raises(ValueError, match=message):
        sweep.run_sweep(GOOD + [run], BASE, progress=False)


def test_finding6_3_the_whole_spec_is_checked_before_a_distributed_sweep_trains(tmp_path, no_training, one_rank):
    with pytest.raises(ValueError, match=r"runs\[2\]: unknown target 'ring9'"):
        sweep.run_distributed(GOOD + [sweep.Run("began", "ring9", 2)], BASE, out=str(tmp_path / "rows.json"))
    with pytest.raises(ValueError, match="max_members"):
        sweep.run_distributed(GOOD, BASE, max_members=0)
    assert _parts(tmp_path) == []


def test_finding6_3_toys_of_different_dimensions_train_as_separate_ensembles():
    # one method, one config, but 2-D and 1-D data: one ensemble could not hold both, and the sweep failed at that group
    runs = [sweep.Run("gan", "ring8", 0), sweep.Run("gan", "gaussian1d", 1), sweep.Run("gan", "grid25", 2)]
    rows = sweep.run_sweep(runs, BASE, progress=False)
    assert [(r["target"], r["index"], r["n_modes"]) for r in rows] == [("ring8", 0, 8), ("gaussian1d", 1, 1), ("grid25", 2, 25)]


def test_finding6_4_two_sweeps_writing_one_out_use_temporary_files_of_their_own(tmp_path, monkeypatch, one_rank):
    sweep.write_spec(str(tmp_path / "sweep.json"), GOOD, BASE)
    out = tmp_path / "rows.json"
    moves, replace = [], os.replace

    def recorded(src, dst):
        moves.append((os.fspath(src), os.fspath(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", recorded)
    for _ in range(2):  # two sweeps, one after the other, each a job of its own
        monkeypatch.setenv("MASTER_PORT", _free_port())
        sweep.main(["--spec", str(tmp_path / "sweep.json"), "--out", str(out)])
    temps = [src for src, dst in moves if dst == str(out)]
    assert len(temps) == 2 and temps[0] != temps[1] and str(out) + ".tmp" not in temps
    assert all(Path(t).parent == tmp_path for t in temps)  # same folder: os.replace stays atomic
    assert len(json.loads(out.read_text())["rows"]) == 2 and _parts(tmp_path) == []


def _spec_error(tmp_path, text) -> str:
    path = tmp_path / "sweep.json"
    path.write_text(text)
    with pytest.raises(ValueError) as e:
        sweep.read_spec(str(path))
    message = str(e.value)
    assert message.startswith(f"{path}: "), message
    return message[len(f"{path}: "):]


RUN = {"method": "gan", "target": "ring8", "seed": 0}
BAD_SPECS = {
    "not JSON": ('{\n "base": {},\n "runs": [\n ,]\n}', r"not valid JSON \(line 4, column 2: Expecting value\)"),
    "a list": ("[]", r"a spec is an object"),
    "no runs": ('{"base": {}}', r"lacks 'runs'"),
    "runs not a list": ('{"runs": {"method": "gan"}}', r"runs: give a list of runs"),
    "unknown spec field": (json.dumps({"runs": [RUN], "run": []}), r"unknown field 'run'"),
    "run lacks method": (json.dumps({"runs": [RUN, {"target": "ring8", "seed": 0}]}), r"runs\[1\] lacks 'method'"),
    "run not an object": (json.dumps({"runs": [RUN, "gan"]}), r"runs\[1\]: a run is an object"),
    "unknown run field": (json.dumps({"runs": [dict(RUN, overide={})]}),
                          r"runs\[0\]: unknown field 'overide'; did you mean 'overrides'"),
    "unknown base field": (json.dumps({"base": {"lr": 0.1}, "runs": [RUN]}),
                           r"base: unknown MethodConfig fields \['lr'\]; did you mean 'lr_[dg]'\?"),
    "base value": (json.dumps({"base": {"steps": "10"}, "runs": [RUN]}), r"base: MethodConfig field 'steps' takes one int"),
    "unknown target": (json.dumps({"runs": [RUN] * 3 + [dict(RUN, target="ring9")]}),
                       r"runs\[3\]: unknown target 'ring9'.*choose one of \['gaussian1d', 'grid25', 'origin', 'ring8'\]"),
    "unknown method": (json.dumps({"runs": [dict(RUN, method="sngan")]}), r"runs\[0\]: unknown method 'sngan'"),
    "overrides not an object": (json.dumps({"runs": [dict(RUN, overrides=[1])]}), r"runs\[0\]: overrides: give an object"),
    "unknown override": (json.dumps({"runs": [dict(RUN, overrides={"margn": 1})]}),
                         r"runs\[0\]: overrides: unknown MethodConfig fields \['margn'\]; did you mean 'margin'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_finding6_5_read_spec_names_the_file_and_the_field(tmp_path, case):
    text, message = BAD_SPECS[case]
    assert re.search(message, _spec_error(tmp_path, text))


def test_finding6_5_the_cli_with_a_bad_spec_exits_with_a_clear_message_before_training(tmp_path, capsys, no_training, one_rank):
    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps({"base": {"steps": 5}, "runs": [RUN, dict(RUN, target="ring9")]}))
    with pytest.raises(SystemExit) as e:
        sweep.main(["--spec", str(spec), "--out", str(tmp_path / "rows.json")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"{spec}: runs[1]: unknown target 'ring9'" in err and "Traceback" not in err
    assert not (tmp_path / "rows.json").exists() and _parts(tmp_path) == []

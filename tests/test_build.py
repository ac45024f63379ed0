"""The course build: pages that render offline, panels as pictures, navigation, loud failures."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from course_lib import build

WIDGETS = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {
    "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_dd", "IPY_MODEL_sl", "IPY_MODEL_btn", "IPY_MODEL_out"]}},
    "dd": {"model_name": "DropdownModel", "state": {"description": "target", "_options_labels": ["grid25", "ring8"], "index": 1}},
    "sl": {"model_name": "IntSliderModel", "state": {"description": "G steps", "value": 500}},
    "btn": {"model_name": "ButtonModel", "state": {"description": "train and draw"}},
    "out": {"model_name": "OutputModel", "state": {"outputs": [
        {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Image>"}, "metadata": {}}]}},
}}}


def _notebook(cells, widgets=None):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = cells
    if widgets:
        nb.metadata["widgets"] = widgets
    return nb


def test_a_panel_becomes_its_picture_and_a_line_naming_its_settings():
    cell = nbformat.v4.new_code_cell("panel")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "VBox()"})]
    nb = _notebook([cell], WIDGETS)
    assert build.panels_as_pictures(nb) == 1
    outs = nb.cells[0].outputs
    assert outs[0]["data"]["image/png"] == "iVBORw0KGgo="
    note = outs[1]["data"]["text/html"]
    assert "controls work in JupyterLab" in note and "target = ring8" in note and "G steps = 500" in note
    assert "train and draw" not in note and "widgets" not in nb.metadata   # buttons are no setting; no widget state left


TQDM = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {
    "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_left", "IPY_MODEL_p", "IPY_MODEL_right"]}},
    "left": {"model_name": "HTMLModel", "state": {"value": "GAN x6 runs: 100%"}},
    "p": {"model_name": "FloatProgressModel", "state": {"value": 2000, "max": 2000}},
    "right": {"model_name": "HTMLModel", "state": {"value": " 2000/2000 [00:50&lt;00:00, 39.6it/s]"}},
}}}


def test_a_progress_bar_becomes_its_last_text_not_a_control_panel():
    cell = nbformat.v4.new_code_cell("train()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build.WIDGET_VIEW: {"model_id": "bar"}, "text/plain": "HBox()"})]
    nb = _notebook([cell], TQDM)
    assert build.panels_as_pictures(nb) == 0   # no panel
    out = nb.cells[0].outputs
    assert len(out) == 1 and out[0]["output_type"] == "stream"
    assert out[0]["text"] == "GAN x6 runs: 100% | 2000/2000 [00:50<00:00, 39.6it/s]\n"


def test_question_and_title_come_from_the_first_markdown():
    nb = _notebook([nbformat.v4.new_markdown_cell("# 07 · BEGAN\n\n**Question.** Can a *controller* keep the game balanced? "
                                                  "More text.\n\nNext paragraph.")])
    assert build.title_of(nb) == "07 · BEGAN"
    assert build.question_of(nb) == "Can a controller keep the game balanced?"


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    """Two chapters (the first links the second and cites nothing) built into a site by the course's build."""
    from conftest import build_site

    notebooks = {}
    for i, name in enumerate(("01_a", "02_b")):
        notebooks[name] = _notebook([
            nbformat.v4.new_markdown_cell(f"# {name}\n\n**Question.** Why {i}?\n\n## 1. First part\n\ntext $x^2$"
                                          + ("\n\nNext: [chapter 2](02_b.ipynb); [the site](https://example.org/x.ipynb) "
                                             "is left alone." if i == 0 else "")),
            nbformat.v4.new_markdown_cell("## 2. Second part")])
    code, out = build_site(tmp_path_factory.mktemp("small"), notebooks)
    assert code == 0
    return out


def test_pages_link_to_each_other_and_to_their_sections_and_load_nothing_from_the_network(small_site):
    out = small_site
    first, second = (out / "01_a.html").read_text(), (out / "02_b.html").read_text()
    assert re.search(r'href="02_b.html"[^>]*class="right-next"|class="right-next"[^>]*href="02_b.html"', first)
    assert re.search(r'class="left-prev"[^>]*href="01_a.html"|href="01_a.html"[^>]*class="left-prev"', second)
    sections = re.findall(r'<section id="([^"]+)">\s*<h2>([^<]*)', first)
    assert [text.strip() for _, text in sections] == ["1. First part", "2. Second part"]
    assert all(f'href="#{hid}"' in first for hid, _ in sections)                 # the page's own table of contents
    index = (out / "index.html").read_text()
    assert 'href="01_a.html"' in index and "Why 0?" in index                    # the outline: chapters and their questions
    assert 'src="_static/mathjax/MathJax.js?config=' in first and (out / "_static" / "mathjax" / "MathJax.js").exists()
    assert build.dangling_links(out) == [] and build.network_references(out) == []


def test_a_link_to_another_chapters_notebook_becomes_a_link_to_its_page(small_site):
    body = (small_site / "01_a.html").read_text()
    assert re.search(r'href="02_b.html"[^>]*>\s*(<span[^>]*>)?chapter 2', body)
    assert 'href="https://example.org/x.ipynb"' in body


def test_a_missing_page_or_section_is_a_dangling_link(small_site, tmp_path):
    import shutil

    out = tmp_path / "html"
    shutil.copytree(small_site, out)
    page = out / "01_a.html"
    hid = re.findall(r'<section id="([^"]+)">\s*<h2>', page.read_text())[0]
    page.write_text(page.read_text().replace(f'<section id="{hid}">', '<section id="renamed">'))
    assert ("01_a.html", f"#{hid}") in build.dangling_links(out)             # the page's own contents
    (out / "02_b.html").unlink()
    assert ("01_a.html", "02_b.html") in build.dangling_links(out)


def test_network_references_are_found(tmp_path):
    (tmp_path / "p.html").write_text('<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn/y.css">'
                                     '<a href="https://arxiv.org/abs/1609.03126">a paper is a link, not a resource</a>')
    assert [u for _, u in build.network_references(tmp_path)] == ["https://cdn.example/x.js", "//cdn/y.css"]


def test_the_build_draws_figures_under_agg_and_fails_loudly_naming_the_notebook(tmp_path, monkeypatch, capsys):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    good = _notebook([nbformat.v4.new_markdown_cell("# 01 good\n\n## 1. A figure"),
                      nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"),
                      nbformat.v4.new_code_cell("from course_lib.widgets import game_playground\ngame_playground(steps=10)")])
    bad = _notebook([nbformat.v4.new_markdown_cell("# 02 bad"), nbformat.v4.new_code_cell("raise ValueError('boom')")])
    nbformat.write(good, nbdir / "01_good.ipynb")
    nbformat.write(bad, nbdir / "02_bad.ipynb")
    monkeypatch.setenv("MPLBACKEND", "Agg")   # as CI sets it: the pages must still get their figures
    out = tmp_path / "site" / "html"
    code = build.main([str(nbdir / "01_good.ipynb"), str(nbdir / "02_bad.ipynb"), "--out", str(out), "--jobs", "2", "--timeout", "120"])
    assert code == 1
    err = capsys.readouterr().err
    assert "02_bad" in err and "boom" in err
    executed = nbformat.read(tmp_path / "site" / "executed" / "01_good.ipynb", as_version=4)
    assert any("image/png" in o.get("data", {}) for o in executed.cells[1].outputs)
    page = (out / "01_good.html").read_text()
    assert re.search(r"<img [^>]*src=\"data:image/png;base64,", page)
    # the build has the panel draw its grid (3 methods x 3 step sizes), and its page shows it with sliders
    assert [build.GRID_MIME in o.get("data", {}) for o in executed.cells[2].outputs].count(True) == 1
    assert page.count('class="course-grid-picture"') == 9 and page.count('type="range"') == 2
    timings = {r["name"]: r for r in json.loads((out / "timings.json").read_text())}
    assert timings["01_good"]["status"] == "ok" and timings["02_bad"]["status"].startswith("FAILED")


def test_store_notes_print_as_text_and_real_warnings_stay_warnings():
    cell = nbformat.v4.new_code_cell("train")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="GAN x6 runs: loaded from the run store in 0.1 s\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something else\n")]
    nb = _notebook([cell])
    assert build.store_notes_as_text(nb) == 1
    assert [o["name"] for o in nb.cells[0].outputs] == ["stdout", "stderr"]


def test_a_first_build_orders_the_notebooks_longest_first_by_the_expected_seconds():
    """With no timings.json of an earlier build, the expected seconds order every notebook of the course."""
    names = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(build.EXPECTED_SECONDS) == names
    assert all(s > 0 for s in build.EXPECTED_SECONDS.values())


def _entries(root: Path) -> set:
    return {p.name for p in root.rglob("*.pt") if "resume" not in p.parts}


def test_shared_runs_are_the_ones_the_built_chapters_use():
    """Every shared run names chapters that exist; a build of chapters that share nothing trains nothing first."""
    from course_lib import compare

    numbers = {n[:2] for n in build.EXPECTED_SECONDS}
    assert all(users <= numbers for users in build.SHARED_RUNS.values())
    assert {what for kind, what in build.SHARED_RUNS if kind == "bench"} == set(compare.METHODS)  # chapter 09 compares them all
    assert {what for kind, what in build.SHARED_RUNS if kind == "judge"} == {"mnist", "fashion_mnist"}
    assert build.shared_runs(["01_structured_perceptron", "03_variational_autoencoder"]) == []
    assert build.shared_runs(["14_conditional_gans"]) == [("judge", "mnist"), ("judge", "fashion_mnist")]
    seven = build.shared_runs(["07_ebgan_and_magan"])
    assert ("bench", "gan") not in seven and {("bench", m) for m in ("ebgan", "ebgan_pt", "magan", "began")} <= set(seven)


def test_a_shared_run_trained_first_is_what_the_chapters_then_load(tmp_path, monkeypatch):
    """The warm-up trains exactly the store entries that chapter 09's call (every method at once) looks up."""
    from course_lib import compare

    monkeypatch.setenv("COURSE_STORE", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "test")
    assert build._train_shared("bench", "ebgan", 1)["status"] == "ok"
    after_one = _entries(tmp_path)
    assert after_one
    assert build._train_shared("bench", "gan", 1)["status"] == "ok"
    after_two = _entries(tmp_path)
    assert after_two > after_one
    cfg, per_run, seeds = compare.bench(("gan", "ebgan"))
    rows = compare.compare(methods=("gan", "ebgan"), targets=("ring8", "grid25"), seeds=seeds, cfg=cfg, per_run=per_run,
                           device="cpu", progress=False)
    assert len(rows) == 2 * 2 * len(seeds)
    assert _entries(tmp_path) == after_two  # nothing trained again: every run was found


def test_a_shared_run_that_fails_is_reported_not_raised(tmp_path, monkeypatch):
    """The chapters that need it then train it themselves and fail where the reader sees it."""
    monkeypatch.setenv("COURSE_STORE", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "test")
    r = build._train_shared("bench", "no_such_method", 1)
    assert r["status"].startswith("FAILED") and "no_such_method" in r["status"] and r["name"] == "bench no_such_method"


def test_an_exercise_shows_its_stub_and_folds_the_solution_with_what_its_check_said():
    import nbformat as nbf

    nb = nbf.v4.new_notebook()
    cell = nbf.v4.new_code_cell('def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\n\ncheck("1.1", f)')
    cell.outputs = [nbf.v4.new_output("stream", text="a line the cell printed\n"),
                    nbf.v4.new_output("execute_result", data={"text/plain": "Exercise 1.1: passed. right on every case."},
                                      execution_count=1)]
    nb.cells = [cell]
    assert build.solutions_folded(nb) == 1
    stub, fold = nb.cells
    assert "raise NotImplementedError" in stub.source and "return 2 * x" not in stub.source
    assert [o.output_type for o in stub.outputs] == ["stream"]  # no "passed" under the stub
    assert fold.cell_type == "markdown" and fold.source.startswith('<details class="course-solution">')
    assert "return 2 * x" in fold.source and "Exercise 1.1: passed" in fold.source and "BEGIN SOLUTION" not in fold.source


def _grid_cell(errors=None):
    """A panel's cell as the build executes it: the grid of its settings (2 targets x 3 steps) and the widget view."""
    pictures = [f"iVBORw0KGgo{i}=" for i in range(6)]
    errors = errors or [None] * 6
    grid = {"axes": [{"name": "target", "labels": ["ring8", "grid25"], "start": 1},
                     {"name": "G steps", "labels": ["100", "500", "1000"], "start": 1}],
            "pictures": [None if e else p for p, e in zip(pictures, errors)], "errors": errors}
    cell = nbformat.v4.new_code_cell("panel")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build.GRID_MIME: grid, "text/plain": "(grid)"}),
                    nbformat.v4.new_output("display_data", data={build.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "VBox()"})]
    return cell


def test_a_panel_with_a_grid_becomes_pictures_with_sliders_that_start_at_the_panels_settings():
    nb = build.for_static_page(_notebook([_grid_cell()], WIDGETS))
    outs = nb.cells[0].outputs
    assert len(outs) == 1 and build.WIDGET_VIEW not in outs[0]["data"]   # the grid stands for the panel
    page = outs[0]["data"]["text/html"]
    assert "without a kernel" in page and "6 settings" in page
    sliders = re.findall(r'<input type="range" min="0" max="(\d)" step="1" value="(\d)"', page)
    assert sliders == [("1", "1"), ("2", "1")]                  # 2 targets, 3 step counts; start: grid25, 500 steps
    shown = re.findall(r'<img class="course-grid-picture" data-point="(\d)"(?! style="display:none")[^>]*src="data:image/png;base64,([^"]*)"', page)
    assert shown == [("4", "iVBORw0KGgo4=")]                    # row-major: 1 * 3 + 1
    assert page.count('style="display:none"') == 5 and 'alt="target = ring8, G steps = 1000"' in page
    assert "function coursePanelGrid" in page and '<output>grid25</output>' in page


def test_a_grid_setting_whose_run_failed_shows_its_message():
    nb = build.for_static_page(_notebook([_grid_cell(errors=[None, "TrainingDiverged: lower the learning rate", None, None, None, None])]))
    page = nb.cells[0].outputs[0]["data"]["text/html"]
    assert re.search(r'<pre class="course-grid-error" data-point="1" style="display:none">target = ring8, G steps = 500: '
                     r'TrainingDiverged: lower the learning rate</pre>', page)
    assert page.count('class="course-grid-picture"') == 5

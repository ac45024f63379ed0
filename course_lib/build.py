"""Build the course as a site: execute every notebook (profile from $COURSE_PROFILE), several side by
side, prepare each executed notebook for a static page, and render them with Sphinx, MyST-NB (execution
off) and the book theme (``course_lib.site``): an index that is the course's outline, a sidebar,
previous / next, each page's contents, search, dark mode, each chapter's notebook to download, its
student edition and its slide deck. Used by `make course`.

    python -m course_lib.build --out build/html --jobs 2 notebooks/*.ipynb

* Offline: MathJax comes from the installed ``jupyter-server-mathjax`` package and is copied next
  to the pages; no page loads anything from the network (no require.js, no widget manager, no CDN).
* What the course needs beyond the theme is notebook preprocessing (``for_static_page``), not edits of
  the rendered HTML: panels, progress bars, run-store notes, folded solutions, citations as links.
* Figures appear whatever ``MPLBACKEND`` says in the caller's environment: the kernels run without it
  (the notebook backend draws inline).
* Control panels (ipywidgets) can be moved without a kernel: while the site is built each panel also draws a
  small grid of its settings (``widgets.GRID_VAR``), and its page shows those pictures with sliders (plain HTML
  and a few lines of JavaScript, ``panel_grids_as_html``); a panel without a grid is shown by the picture it
  drew, with a line saying that the controls work in JupyterLab.
* The index lists each notebook's title and its question in one line. Links are relative: the site
  works from ``file://`` and from any static web server.
* A notebook that fails is named and makes the build exit non-zero (its page shows where it stopped).
* Runs that several notebooks share through the run store (the digit judges, the 2-D comparison)
  are trained first, each as a task of its own, when notebooks run side by side: no notebook then
  sits on another's training lock while a core idles (``SHARED_RUNS``).
"""
from __future__ import annotations

import argparse
import html
import itertools
import json
import math
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

from . import bibliography, exercises, site, slides
from .store import store_root

GRID_VAR = "COURSE_PANEL_GRID"                       # = widgets.GRID_VAR (not imported: widgets imports torch)
GRID_MIME = "application/vnd.course.panel-grid+json"  # = widgets.GRID_MIME
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX_CONFIG = site.MATHJAX_CONFIG
PANEL_NOTE = ("<p class=\"course-panel-note\"><b>Control panel.</b> Its controls work in JupyterLab "
              "(<code>make lab</code>, then run the notebook); the picture is the one it drew when this page was built{settings}.</p>")


def title_of(nb) -> str:
    """The first Markdown heading of a notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "untitled"


def question_of(nb) -> str:
    """The notebook's question in one line: the first question after '**Question.**' (else the first sentence of the
    first paragraph after the title), as plain text."""
    text = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "**Question.**" in cell.source:
            text = cell.source.split("**Question.**", 1)[1].split("\n\n", 1)[0]
            break
    else:
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                paragraphs = [p for p in cell.source.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
                if paragraphs:
                    text = paragraphs[0]
                    break
    sentences = re.split(r"(?<=[.?!])\s+", " ".join(text.split()))
    return _plain(next((x for x in sentences if x.endswith("?")), sentences[0]))


def _plain(md: str) -> str:
    """Markdown emphasis, code marks and citation roles dropped (for one-line summaries)."""
    if bibliography.ROLE.search(md):
        md = bibliography.render_roles(md, bibliography.load(), link=None)
    return re.sub(r"[*`]", "", md)


def execute(path: Path, timeout: int | None = None) -> tuple[nbformat.NotebookNode, float, str]:
    """Run a notebook top to bottom in its own folder: (executed notebook, wall seconds, "ok" or the failure)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    status = "ok"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    saved = {k: os.environ.get(k) for k in ("MPLBACKEND", exercises.STRICT_VAR, GRID_VAR)}
    os.environ.pop("MPLBACKEND", None)  # the kernel inherits it: a caller's Agg (common in CI) would leave the pages without figures
    os.environ[GRID_VAR] = "1"          # control panels draw the grid of settings their static copy steps through
    if nb.metadata.get("course_edition") != "student":
        os.environ[exercises.STRICT_VAR] = "strict"  # the instructor edition: a solution that fails its check fails the build
    try:
        client.execute()
    except Exception as err:  # keep what ran: the page shows where it stopped
        status = f"FAILED: {type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb, time.perf_counter() - start, status


def _execute_to(args) -> dict:
    path, executed_dir, timeout = args
    nb, seconds, status = execute(Path(path), timeout)
    target = Path(executed_dir) / Path(path).name
    tmp = target.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    return dict(name=Path(path).stem, executed=str(target), seconds=seconds, status=status)


# ---------------------------------------------------------------- control panels as pictures

def _widget_outputs(state: dict, model_id: str, seen=None) -> tuple[list, list]:
    """(outputs of the Output widgets inside the widget ``model_id``, [(description, value)] of its controls)."""
    seen = seen if seen is not None else set()
    if model_id in seen or model_id not in state:
        return [], []
    seen.add(model_id)
    model = state[model_id]
    s = model.get("state", {})
    outputs, controls = [], []
    if model.get("model_name") == "OutputModel":
        outputs += s.get("outputs", [])
    elif s.get("description") and model.get("model_name") not in ("ButtonModel", "IntProgressModel"):
        if s.get("_options_labels") and s.get("index") is not None:      # Dropdown: the state holds the index
            controls.append((s["description"], s["_options_labels"][s["index"]]))
        elif "value" in s:                                               # sliders
            controls.append((s["description"], s["value"]))
    for child in s.get("children", []):
        o, c = _widget_outputs(state, str(child).replace("IPY_MODEL_", ""), seen)
        outputs += o
        controls += c
    return outputs, controls


def _progress_text(state: dict, model_id: str) -> str | None:
    """The text of a progress bar widget (tqdm's HBox of HTML, a progress bar and HTML), or None if ``model_id`` is none."""
    parts, has_bar = [], False

    def walk(mid, seen=set()):
        nonlocal has_bar
        if mid in seen or mid not in state:
            return
        seen.add(mid)
        model = state[mid]
        s = model.get("state", {})
        if model.get("model_name") in ("FloatProgressModel", "IntProgressModel"):
            has_bar = True
            parts.append("|")
        elif model.get("model_name") == "HTMLModel" and s.get("value"):
            parts.append(html.unescape(re.sub(r"<[^>]+>", "", s["value"])).strip())
        for child in s.get("children", []):
            walk(str(child).replace("IPY_MODEL_", ""), seen)

    walk(model_id, set())
    return " ".join(p for p in parts if p) if has_bar else None


_STORE_NOTE = re.compile(r"^.*loaded from the run store.*$")


def store_notes_as_text(nb) -> int:
    """stderr outputs that only say a run was loaded from the run store become plain printed text (not a warning box)."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = [l for l in out.get("text", "").splitlines() if l.strip()]
                if lines and all(_STORE_NOTE.match(l) for l in lines):
                    out["name"] = "stdout"
                    n += 1
    return n


def panels_as_pictures(nb) -> int:
    """Replace every widget view in the outputs by the picture its Output area holds and a line about the controls
    (a progress bar by its last text).

    The widget state stays out of the page (no widget manager has to load); returns the number of panels replaced."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        has_grid = any(GRID_MIME in out.get("data", {}) for out in cell.get("outputs", []))
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW) if out.get("output_type") in ("display_data", "execute_result") else None
            if view is None:
                new.append(out)
                continue
            outputs, controls = _widget_outputs(state, view.get("model_id", ""))
            progress = None if outputs or controls else _progress_text(state, view.get("model_id", ""))
            if progress is not None:  # a progress bar (tqdm), not a control panel: its last text, as printed text
                new.append(nbformat.v4.new_output("stream", name="stdout", text=progress + "\n"))
                continue
            if has_grid:  # the panel's grid of pictures (panel_grids_as_html) stands for it, its start picture included
                n += 1
                continue
            settings = "; settings: " + ", ".join(f"{html.escape(str(d))} = {html.escape(str(v))}" for d, v in controls) if controls else ""
            new += [nbformat.from_dict(o) for o in outputs]
            new.append(nbformat.v4.new_output("display_data", data={"text/html": PANEL_NOTE.format(settings=settings),
                                                                      "text/plain": "(a control panel: open the notebook in JupyterLab)"}))
            n += 1
        cell["outputs"] = new
    nb.metadata.pop("widgets", None)
    return n


GRID_NOTE = ("<p class=\"course-panel-note\"><b>Control panel, without a kernel.</b> Move the sliders: each picture "
             "was trained and drawn when this page was built ({n} settings; the panel's other controls at their start "
             "values). In JupyterLab every control works (<code>make lab</code>, then run the notebook).</p>")
# one function for every grid on a page: the sliders' positions name the picture to show
GRID_SCRIPT = """<script>
function coursePanelGrid(input) {
  var grid = input.closest(".course-grid"), index = 0;
  grid.querySelectorAll("input[data-axis]").forEach(function (s) {
    index = index * (Number(s.max) + 1) + Number(s.value);
    s.parentNode.querySelector("output").textContent = JSON.parse(s.dataset.labels)[Number(s.value)];
  });
  grid.querySelectorAll("[data-point]").forEach(function (p) {
    p.style.display = Number(p.dataset.point) === index ? "" : "none";
  });
}
</script>"""


def grid_html(grid: dict) -> str:
    """A panel's grid of pictures (``widgets.panel_grid``) as HTML: one slider per control, the picture of the sliders'
    settings shown, the others hidden (a run that failed shows its message)."""
    axes = grid["axes"]
    start = 0
    for a in axes:
        start = start * len(a["labels"]) + a["start"]
    sliders = "".join(
        f'<label class="course-grid-control">{html.escape(a["name"])} '
        f'<input type="range" min="0" max="{len(a["labels"]) - 1}" step="1" value="{a["start"]}" data-axis="{i}" '
        f'data-labels="{html.escape(json.dumps(a["labels"]))}" aria-label="{html.escape(a["name"])}" '
        f'oninput="coursePanelGrid(this)"> <output>{html.escape(a["labels"][a["start"]])}</output></label>'
        for i, a in enumerate(axes))
    points, points_labels = [], list(itertools.product(*(a["labels"] for a in axes)))  # widgets.panel_grid's order
    for i, (png, err) in enumerate(zip(grid["pictures"], grid["errors"])):
        hide = "" if i == start else ' style="display:none"'
        settings = ", ".join(f"{a['name']} = {label}" for a, label in zip(axes, points_labels[i]))
        points.append(f'<img class="course-grid-picture" data-point="{i}"{hide} alt="{html.escape(settings)}" '
                      f'src="data:image/png;base64,{png}">' if png else
                      f'<pre class="course-grid-error" data-point="{i}"{hide}>{html.escape(settings)}: {html.escape(err or "")}</pre>')
    return (f'<div class="course-grid">{GRID_NOTE.format(n=len(points))}<div class="course-grid-controls">{sliders}</div>'
            + "".join(points) + "</div>" + GRID_SCRIPT)


def panel_grids_as_html(nb) -> int:
    """Every panel grid of the outputs (``widgets.GRID_MIME``) as its HTML: pictures with sliders; returns how many."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            grid = out.get("data", {}).get(GRID_MIME)
            if grid is not None:
                out["data"] = {"text/html": grid_html(grid), "text/plain": out["data"].get("text/plain", "")}
                n += 1
    return n


# ---------------------------------------------------------------- pages

def _check_says(out) -> str | None:
    """The text of an output that is an exercise check's answer ("Exercise 7.1: passed. ..."), else None."""
    text = out.get("data", {}).get("text/plain", "") if "data" in out else out.get("text", "")
    text = "".join(text) if isinstance(text, list) else text
    return text.strip() if text.lstrip().startswith("Exercise ") else None


def solutions_folded(nb) -> int:
    """Every exercise cell shows the student's stub; its solution follows, folded away (``<details>``: a click shows it),
    with what the check said of it. Returns the number of exercises folded."""
    cells, n = [], 0
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code" or exercises.BEGIN not in cell.source:
            continue
        solution = exercises.solution_source(cell.source)
        cell.source = exercises.student_source(cell.source)
        said = [t for t in map(_check_says, cell.get("outputs", [])) if t]
        cell.outputs = [o for o in cell.get("outputs", []) if not _check_says(o)]  # the stub's cell: no "passed" under it
        verdict = "".join(f"\n\nThe check, run on this solution, says: {html.escape(t)}" for t in said)
        fold = nbformat.v4.new_markdown_cell(
            '<details class="course-solution"><summary>Show the solution</summary>\n\n```python\n'
            + solution + "\n```" + verdict + "\n\n</details>")
        fold.metadata["slideshow"] = {"slide_type": "fragment"}
        cells.append(fold)
        n += 1
    nb.cells = cells
    return n


def citations_written_out(nb, link: str | None = bibliography.PAGE) -> int:
    """Every citation role ({cite:t}`key`) of the Markdown cells as the words it stands for ("Zhao et al. (2017)"),
    each a link to its entry on ``link`` (None: plain words, e.g. in a deck); returns the number of cells changed."""
    entries, n = None, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and bibliography.ROLE.search(cell.source):
            entries = entries or bibliography.load()
            cell.source = bibliography.render_roles(cell.source, entries, link)
            n += 1
    return n


def for_static_page(nb, cite_link: str | None = bibliography.PAGE):
    """An executed notebook made ready for a static page or deck: panels as their pictures (with sliders where the panel
    drew a grid of its settings), run-store notes as text, exercises with their solutions folded away, citations
    written out (linked to ``cite_link``)."""
    panels_as_pictures(nb)
    panel_grids_as_html(nb)
    store_notes_as_text(nb)
    solutions_folded(nb)
    citations_written_out(nb, cite_link)
    return nb


_SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="(?:https?:)?//[^"]*"[^>]*>\s*</script>\s*|<script src=""></script>\s*', re.I)
_MODULE_CDN = re.compile(r'<script type="module">(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>\s*', re.S)


def offline(body: str) -> str:
    """A rendered page without the scripts it would fetch from the network (require.js, jQuery, CDN modules)."""
    return _MODULE_CDN.sub("", _SCRIPT_SRC.sub("", body))


def copy_mathjax(out: Path) -> Path:
    """MathJax 2 from the installed jupyter-server-mathjax package into ``out/mathjax`` (once; for the decks)."""
    src = site.mathjax_source()
    dest = out / "mathjax"
    if not (dest / "MathJax.js").exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)
    return dest


_LINK = re.compile(r'(?:href|src)="([^"#?]*)(?:[?#][^"]*)?"')
_ANCHOR_LINK = re.compile(r'href="((?:[\w.-]+\.html)?)#([^"]+)"')   # a page of the site (or this one) and a place in it


def dangling_links(out: Path) -> list:
    """Relative links and sources in the site's pages that point at no file, or at an anchor their page lacks:
    [(page, target)]."""
    bad, ids = [], {}
    for page in sorted(out.glob("*.html")):
        text = page.read_text()
        for target in set(_LINK.findall(text)):
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:, data:
                continue
            if not (page.parent / target).exists():
                bad.append((page.name, target))
        for target, anchor in set(_ANCHOR_LINK.findall(text)):  # a link to a place in a page must find it there
            dest = page.parent / (target or page.name)
            if dest.exists():
                ids.setdefault(dest, set(re.findall(r'\bid="([^"]+)"', dest.read_text())))
                if anchor not in ids[dest]:
                    bad.append((page.name, f"{target}#{anchor}"))
    return bad


def network_references(out: Path) -> list:
    """Things a page would load from the network to display (scripts, stylesheets, images): [(page, url)]."""
    found = []
    pattern = re.compile(r'<(?:script|img|iframe)[^>]*\bsrc="((?:https?:)?//[^"]+)"|<link[^>]*\bhref="((?:https?:)?//[^"]+)"'
                         r'|import\(\s*["\']((?:https?:)?//[^"\']+)', re.I)
    for page in sorted(out.glob("*.html")):
        for groups in pattern.findall(page.read_text()):
            found += [(page.name, u) for u in groups if u]
    return found


# real-profile seconds per notebook in CI (2 cores, two notebooks side by side, the shared runs trained first;
# CI of 869450c, 2026-12-06): they order a first build's notebooks longest first when no earlier build left its
# timings.json (later builds use their own)
EXPECTED_SECONDS = {"01_structured_perceptron": 12, "02_factor_analysis_em": 13, "03_variational_autoencoder": 55,
                    "04_original_gan": 100, "05_training_gans": 376, "06_mcmc_ebm": 185, "07_ebgan_and_magan": 620,
                    "08_loss_sensitive_gan": 250, "09_began_and_comparison": 510, "10_maximum_entropy_ebm": 450,
                    "11_evaluating_generative_models": 259, "12_hyperparameter_robustness": 405,
                    "13_practical_gans": 550, "14_conditional_gans": 513, "15_semi_supervised_gans": 557}


# Runs that several chapters load from the run store, with the chapters that use them. Built side by side,
# the first chapter to reach one trains it and the others wait on its lock with a core idle; trained first,
# each as a task of its own, they fill both cores and every chapter finds them ready.
SHARED_RUNS = {
    ("judge", "mnist"): {"06", "07", "08", "09", "11", "12", "13", "14"},
    ("judge", "fashion_mnist"): {"14"},
    **{("bench", m): {"07", "09"} for m in ("ebgan", "ebgan_pt", "magan", "began")},
    **{("bench", m): {"09"} for m in ("gan", "lsgan")},
}


def _train_shared(kind: str, what: str, threads: int) -> dict:
    """Train one of ``SHARED_RUNS`` into the run store (or find it there), exactly as the chapters call it."""
    import torch

    from .runtime import get_device, seed_everything

    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        seed_everything(0)
        device = get_device()
        if kind == "judge":
            from .evaluation import course_judge
            course_judge(what, device=device, progress=False)
        else:
            from . import compare
            cfg, per_run, seeds = compare.bench((what,))
            compare.compare(methods=(what,), targets=("ring8", "grid25"), seeds=seeds, cfg=cfg, per_run=per_run,
                            device=str(device), progress=False)
        status = "ok"
    except Exception as err:  # the chapters that need it train it themselves (and fail there, where it shows)
        status = f"FAILED: {type(err).__name__}: {err}"
    return dict(name=f"{kind} {what}", seconds=time.perf_counter() - start, status=status)


def shared_runs(names) -> list:
    """The ``SHARED_RUNS`` that the notebooks named (by stem, e.g. "09_began_and_comparison") use."""
    numbers = {n[:2] for n in names}
    return [key for key, users in SHARED_RUNS.items() if users & numbers]


def _read_timings(path: Path) -> dict:
    """The last build's records in ``path`` (timings.json) by notebook name; {} when it is missing, damaged or wrongly shaped.

    They only order the notebooks (longest first) and fill in ``--render-only``, so a bad file is
    ignored with a one-line warning instead of stopping the build.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        records = json.loads(path.read_text())
        ok = isinstance(records, list) and all(
            isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("status", "ok"), str)
            and isinstance(r.get("seconds"), (int, float)) and not isinstance(r.get("seconds"), bool)
            and math.isfinite(r["seconds"]) and r["seconds"] >= 0 for r in records)
    except (OSError, ValueError, RecursionError) as e:  # ValueError covers bad JSON and bad UTF-8
        ok, why = False, f"{type(e).__name__}: {e}"
    else:
        why = "expected a list of {name, seconds, status} records"
    if not ok:
        print(f"warning: ignoring {path} ({why}); delete it to silence this, the next build writes it afresh",
              file=sys.stderr)
        return {}
    return {r["name"]: r for r in records}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/html"))
    parser.add_argument("--executed", type=Path, default=None, help="where the executed notebooks go (default: OUT/../executed)")
    parser.add_argument("--jobs", type=int, default=0, help="notebooks executed side by side (default: the CPU cores)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds one cell may take (default 3600)")
    parser.add_argument("--render-only", action="store_true", help="render the executed notebooks already there")
    args = parser.parse_args(argv)
    profile = os.environ.get("COURSE_PROFILE", "real")
    out = args.out
    executed = args.executed or out.parent / "executed"
    out.mkdir(parents=True, exist_ok=True)
    executed.mkdir(parents=True, exist_ok=True)
    paths = sorted(args.notebooks, key=lambda p: p.name)
    timings = out / "timings.json"
    if args.render_only:
        previous = _read_timings(timings)
        runs = [previous.get(p.stem, dict(name=p.stem, seconds=0.0, status="ok")) | dict(executed=str(executed / p.name)) for p in paths]
    else:
        jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(paths)))
        print(f"executing {len(paths)} notebooks in the {profile} profile, {jobs} at a time ...", flush=True)
        # longest first (by the last build's times, else by EXPECTED_SECONDS): the side-by-side runs end together
        last = {**EXPECTED_SECONDS, **{name: r["seconds"] for name, r in _read_timings(timings).items()}}
        order = sorted(paths, key=lambda p: -last.get(p.stem, 0.0))
        done = {}
        shared = shared_runs(p.stem for p in paths) if jobs > 1 and store_root() is not None else []
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            warm = [pool.submit(_train_shared, kind, what, threads) for kind, what in shared]  # first in the queue
            futures = [pool.submit(_execute_to, (str(p), str(executed), args.timeout)) for p in order]
            for fut in as_completed(warm + futures):
                r = fut.result()
                print(f"  {r['name']}: {r['status']} in {r['seconds']:.0f} s", flush=True)
                if fut in futures:
                    done[r["name"]] = r
        runs = [done[p.stem] for p in paths]
    render_start = time.perf_counter()
    nbs = [nbformat.read(r["executed"], as_version=4) for r in runs]
    rows = [dict(name=r["name"], html=r["name"] + ".html", title=title_of(nb), question=question_of(nb),
                 seconds=r["seconds"], status=r["status"]) for r, nb in zip(runs, nbs)]
    cited_by = {}  # before the pages are prepared: that writes the citations out
    for row, nb in zip(rows, nbs):
        for key in bibliography.citations(bibliography.markdown_sources(nb)):
            cited_by.setdefault(key, set()).add(row["name"])
    # the student edition of each chapter, for download (render-only may be given executed copies alone)
    students = {p.stem: p for p in exercises.write_student_edition([p for p in paths if p.exists()], out / "student")}
    deck_problems = slides.write_decks([r["executed"] for r in runs], out / "slides")   # each chapter's deck
    for row, nb in zip(rows, nbs):
        student = f"student/{students[row['name']].name}" if row["name"] in students else None
        # (before the solutions are folded: it counts the exercises)
        site.chapter_links(nb, student, f"slides/{row['name']}.slides.html")
        row["nb"] = for_static_page(nb)
    src = out.parent / "site-src"
    site.write_sources(src, rows, profile, cited_by)
    sphinx_status = site.render(src, out)
    (out / "references.bib").write_text(bibliography.BIB.read_text())
    index = out / "index.html"
    print(f"site (Sphinx) and decks rendered in {time.perf_counter() - render_start:.1f} s (render only: the notebooks were executed)")
    for row in rows:
        row.pop("nb")
    timings.write_text(json.dumps(rows, indent=1))
    problems = [f"{p}: dangling link {t}" for p, t in dangling_links(out)] + \
               [f"{p}: loads {u} from the network" for p, u in network_references(out)] + \
               [f"slides/{p}: {t}" for p, t in deck_problems] + \
               ([f"sphinx-build exited with status {sphinx_status}"] if sphinx_status else [])
    for line in problems:
        print(line, file=sys.stderr)
    failed = [r["name"] for r in rows if r["status"] != "ok"]
    print(f"\nCourse built: open {index.resolve()}")
    if failed:
        print(f"{len(failed)} notebook(s) failed: " + "; ".join(f"{r['name']} ({r['status']})" for r in rows if r["status"] != "ok"),
              file=sys.stderr)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())

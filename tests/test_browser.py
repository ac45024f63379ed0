"""The course as a user meets it, in a real browser: headless Chromium from the system's packages,
driven by Playwright's Python API (nothing is downloaded: ``executable_path`` names the system browser).

* The site: the index opens, every notebook link resolves, math is typeset by the bundled MathJax, figures
  load, previous / next work. The site checked is ``$COURSE_SITE`` (e.g. ``build/html`` after ``make
  course``; ``.ci/run`` builds it in the real profile), else a small site built here from two notebooks.
* JupyterLab, live: started on a free port, notebook 04 opened, its cells run up to the control panel,
  a setting changed and the panel's button pressed: its picture must change. And a student's session:
  the student edition of notebook 04 opened, a wrong answer typed into an exercise and checked (the
  hint shows), then the right one (it passes).
* Exercises on the site: each solution folded away until a click, the student notebook linked for download.
* Control panels without a kernel: on every page (and in a deck) a panel's slider changes its picture.

Without Chromium the tests are skipped with what to install (in CI, where ``CI`` is set, they fail).
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_lib import bibliography, build

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 60_000
KEYS = sorted(bibliography.load())[:2]  # the fixture site's chapters cite these


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if path:
        return path
    message = ("no Chromium found: install the system's browser (Debian/Ubuntu: `apt-get install chromium`; "
               "macOS: `brew install --cask chromium`) or name it with CHROMIUM=/path/to/chrome")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev dependencies have it)")
    exe = _chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    given = os.environ.get("COURSE_SITE")
    if given:
        out = Path(given).resolve()
        assert (out / "index.html").exists(), f"COURSE_SITE={given} holds no index.html: run `make course` first"
        return out
    # two small notebooks, as the build leaves them executed, rendered by the course's own build (Sphinx)
    root = tmp_path_factory.mktemp("site")
    (root / "notebooks").mkdir()
    paths = []
    for i, name in enumerate(("01_first", "02_second")):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        md = nbformat.v4.new_markdown_cell(f"# {name}\n\n**Question.** Is $E_\\theta(x)$ low on data?\n\n"
                                           "$$\\mathcal{L}_D = D(x) + [m - D(G(z))]^+$$\n\n"
                                           "A pair $x, x'$ (a prime needs the packaged fonts).\n\n"
                                           f"As {{cite:t}}`{KEYS[i]}` put it, the pulling-away term{' and Langevin' * i}.")
        code = nbformat.v4.new_code_cell("plot")
        png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
                        nbformat.v4.new_output("display_data", data={"text/markdown": "A sentence the cell built: $W_1 = 0.5$.",
                                                                     "text/plain": "<Markdown>"})]
        if i == 0:  # a control panel as the build leaves it: the grid of its settings
            code.outputs.append(nbformat.v4.new_output("display_data", data={build.GRID_MIME: _grid(), "text/plain": "(grid)"}))
        exercise = nbformat.v4.new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n")
        exercise.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "Exercise 1.1: passed."}, execution_count=1)]
        nb.cells = [md, code, nbformat.v4.new_markdown_cell("## 1. A section"), exercise]
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
        paths.append(str(root / "notebooks" / f"{name}.ipynb"))
    out = root / "html"
    assert build.main(paths + ["--out", str(out), "--executed", str(root / "notebooks"), "--render-only"]) == 0
    return out


def _grid() -> dict:
    """A panel's grid of 2 x 3 settings, each picture a differently coloured square (valid PNGs)."""
    import base64
    import io

    from PIL import Image

    pictures = []
    for i in range(6):
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (40 * i, 200 - 30 * i, 90)).save(buf, format="PNG")
        pictures.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    return {"axes": [{"name": "target", "labels": ["ring8", "grid25"], "start": 0},
                     {"name": "learning rate", "labels": ["0.0001", "0.001", "0.01"], "start": 1}],
            "pictures": pictures, "errors": [None] * 6}


def _step_through_grids(page, where: str) -> int:
    """Move every slider of every panel grid on ``page`` one notch: the picture shown must change to the one the
    sliders name, exactly one shown at a time, and its label follow. Returns the number of grids."""
    grids = page.locator(".course-grid").all()
    for g, grid in enumerate(grids):
        for slider in grid.locator("input[type=range]").all():
            before = grid.locator("[data-point]:visible")
            assert before.count() == 1, f"{where}, panel {g}: {before.count()} pictures shown at once"
            point, src = before.get_attribute("data-point"), before.get_attribute("src")
            at_end = slider.input_value() == slider.get_attribute("max")
            slider.focus()
            page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            after = grid.locator("[data-point]:visible")
            assert after.count() == 1 and after.get_attribute("data-point") != point, f"{where}, panel {g}: no new picture"
            assert after.get_attribute("src") != src or src is None
            labels = __import__("json").loads(slider.get_attribute("data-labels"))
            assert slider.locator("xpath=following-sibling::output").inner_text() == labels[int(slider.input_value())]
            if after.evaluate("e => e.tagName") == "IMG":
                assert after.evaluate("e => e.complete && e.naturalWidth > 0"), f"{where}, panel {g}: picture did not load"
    return len(grids)


def test_a_static_panel_steps_through_its_pictures_without_a_kernel(browser, site):
    pages = [p for p in _pages(site) if 'class="course-grid"' in p.read_text()]
    if os.environ.get("COURSE_SITE"):  # the course's own site: every chapter with a control panel has its grid
        assert {p.name[:2] for p in pages} >= {"04", "05", "06", "09"}, [p.name for p in pages]
    assert pages
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    for path in pages:
        page.goto(path.as_uri(), timeout=TIMEOUT_MS)
        assert _step_through_grids(page, path.name) >= 1
    assert blocked == []
    page.close()


def _pages(site):
    return sorted(p for p in site.glob("[0-9][0-9]_*.html"))


def test_the_index_opens_and_every_notebook_link_resolves(browser, site):
    page = browser.new_page()
    page.goto(site.joinpath("index.html").as_uri(), timeout=TIMEOUT_MS)
    links = page.eval_on_selector_all("li.chapter > a", "els => els.map(e => e.getAttribute('href'))")
    assert links == [p.name for p in _pages(site)]
    for href in links:
        response = page.goto(site.joinpath(href).as_uri(), timeout=TIMEOUT_MS)
        assert response is None or response.ok
        assert page.title() and page.locator("nav.bd-links a").count() >= len(links)   # the sidebar lists every chapter
    assert build.dangling_links(site) == [] and build.network_references(site) == []
    page.close()


def test_math_is_typeset_offline_and_figures_load(browser, site):
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))  # no network at all
    for path in _pages(site):
        page.goto(path.as_uri(), timeout=TIMEOUT_MS)
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                               "document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length > 0",
                               timeout=TIMEOUT_MS)
        # math left as typed, outside code: in the chapters' text and in the sentences their cells print
        raw = page.evaluate("""() => { const found = [], walk = document.createTreeWalker(document.querySelector("main"),
                                        NodeFilter.SHOW_TEXT);
                                      while (walk.nextNode()) { const t = walk.currentNode;
                                        if (/\\$[^$\\s][^$]{0,60}\\$/.test(t.textContent) && !t.parentElement.closest("pre, code, script"))
                                          found.push(t.textContent.slice(0, 80)); }
                                      return found; }""")
        assert raw == [], f"{path.name}: math left untypeset: {raw[:3]}"
        errors = page.eval_on_selector_all(".MathJax_Error, .merror", "els => els.map(e => e.textContent.slice(0, 80))")
        assert errors == [], f"{path.name}: MathJax reports errors: {errors[:3]}"
        images = page.eval_on_selector_all("main img, .jp-OutputArea img",
                                           "els => els.map(e => e.complete && e.naturalWidth > 0)")
        assert images and all(images), f"{path.name}: {images.count(False)} of {len(images)} figures did not load"
    assert blocked == [], f"pages asked the network for {blocked[:3]}"
    page.close()


def test_no_page_asks_the_network_for_anything(browser, site):
    page = browser.new_page()
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.abort()) if not route.request.url.startswith(
        ("file:", "data:", "blob:", "about:")) else route.continue_())
    targets = ["index.html", "references.html", "search.html?q=energy", "genindex.html"] + [p.name for p in _pages(site)]
    targets += [f"slides/{d.name}" for d in sorted((site / "slides").glob("*.slides.html"))]
    for target in targets:
        page.goto(site.joinpath(target.split("?")[0]).as_uri() + ("?" + target.split("?")[1] if "?" in target else ""),
                  timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    assert len(targets) > 6 and asked == [], f"asked the network for {asked[:5]}"
    page.close()


def test_previous_and_next_walk_the_course(browser, site):
    pages = _pages(site)
    page = browser.new_page()
    page.goto(pages[0].as_uri(), timeout=TIMEOUT_MS)
    for expected in pages[1:]:
        page.locator("a.right-next").click()
        page.wait_for_load_state()
        assert page.url.endswith(expected.name)
    page.locator("a.left-prev").click()
    page.wait_for_load_state()
    assert page.url.endswith(pages[-2].name)
    page.locator("a.navbar-brand").first.click()              # the course's title in the sidebar: the index
    page.wait_for_load_state()
    assert page.url.endswith("index.html")
    page.close()


SEARCHES = {"pulling-away term": {"07", "09"}, "Langevin": {"06", "10"}}   # what the course's own site must find


def test_search_finds_chapters_by_what_they_teach(browser, site):
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    terms = SEARCHES if os.environ.get("COURSE_SITE") else {"pulling-away term": {"01", "02"}, "Langevin": {"02"}}
    for term, chapters in terms.items():
        page.goto(site.joinpath("index.html").as_uri(), timeout=TIMEOUT_MS)
        page.locator("button.search-button-field").first.click()   # the sidebar's search field, as a reader uses it
        box = page.locator("form.bd-search input[name=q]:visible").first
        box.fill(term)
        box.press("Enter")
        page.wait_for_load_state()
        assert "search.html" in page.url
        # the results come one by one; the summary says when the search has finished
        page.wait_for_function("/finished/i.test((document.querySelector('#search-results .search-summary') || {}).textContent)"
                               " && document.querySelectorAll('#search-results li').length > 0", timeout=TIMEOUT_MS)
        found = {a.split("/")[-1][:2] for a in page.eval_on_selector_all(
            "#search-results li a", "els => els.map(e => e.getAttribute('href').split('#')[0].split('?')[0])")}
        assert chapters <= found, f"searching {term!r} found {sorted(found)}, not {sorted(chapters)}"
    assert blocked == []
    page.close()


def test_dark_mode_toggles_and_each_chapter_offers_its_notebook_and_its_deck(browser, site):
    page = browser.new_page()
    for i, path in enumerate(_pages(site)):
        page.goto(path.as_uri(), timeout=TIMEOUT_MS)
        background = lambda: page.evaluate("getComputedStyle(document.body).backgroundColor")  # noqa: E731
        themes, colours = [], []
        for mode in ("dark", "light"):  # the theme's switch opens a menu: light, dark, as the system says
            page.locator("button.theme-switch-button:visible").first.click()
            page.locator(f".theme-change-button[data-mode={mode}]:visible").first.click()
            themes.append(page.evaluate("document.documentElement.dataset.theme"))
            colours.append(background())
        assert themes == ["dark", "light"] and colours[0] != colours[1], (themes, colours)
        href = page.locator("a[href$='.ipynb']").filter(has_text=".ipynb").first.get_attribute("href")
        nb = nbformat.read(site / href, as_version=4)                 # the chapter's executed notebook
        assert nb.cells and path.stem in href
        deck = page.locator("p.course-deck a")
        assert (site / deck.get_attribute("href")).exists()
        if i == 0:                                                    # the deck opens and presents, offline
            deck.click()
            page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=TIMEOUT_MS)
            assert f"/slides/{path.stem}.slides.html" in page.url and page.evaluate("Reveal.getTotalSlides()") >= 1
    page.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = _free_port()
    env = dict(os.environ, COURSE_PROFILE="test", COURSE_STORE="off", JUPYTER_CONFIG_DIR=str(tmp_path_factory.mktemp("jupyter-config")))
    env.pop("MPLBACKEND", None)
    # no autosave: the tests run notebooks of the checkout, which are stored without outputs
    settings = tmp_path_factory.mktemp("lab-settings")
    (settings / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('lab-workspaces')}",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True", "--allow-root", f"--ServerApp.root_dir={ROOT}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab did not start: {proc.stderr.read()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("JupyterLab did not open its port within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_jupyterlab_runs_notebook_04_and_its_panel_redraws(browser, lab):
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{lab}/lab/tree/notebooks/04_original_gan.ipynb")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=90_000)
    assert page.evaluate("window.jupyterapp.commands.hasCommand('RISE:preview')"), "jupyterlab-rise is not loaded: no slideshow"
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    button = page.get_by_role("button", name="train and draw")
    button.wait_for(timeout=240_000)
    panel = page.locator(".widget-vbox").filter(has=button)
    picture = panel.locator("img").first
    picture.wait_for(timeout=120_000)
    before = picture.get_attribute("src")
    panel.locator("select").first.select_option("grid25")    # another target, then retrain
    button.click()
    page.wait_for_function("([el, old]) => { const img = el.querySelector('img'); return img && img.src !== old; }",
                           arg=[panel.element_handle(), before], timeout=240_000)
    assert picture.get_attribute("src") != before
    page.close()


def test_a_static_deck_presents_offline(browser, tmp_path):
    from course_lib import slides

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    panel = nbformat.v4.new_code_cell("energy_playground()")
    panel.outputs = [nbformat.v4.new_output("display_data", data={build.GRID_MIME: _grid(), "text/plain": "(grid)"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · EBGAN\n\n**Question.** Is $E(x)$ a score?"),
                nbformat.v4.new_markdown_cell("## 1. Section\n\n$$L_D = D(x) + [m - D(G(z))]^+$$ for a pair $x, x'$"),
                nbformat.v4.new_markdown_cell("## 2. Next"), panel]
    slides.tag(nb)
    nbformat.write(nb, tmp_path / "05_deck.ipynb")
    assert slides.main([str(tmp_path / "05_deck.ipynb"), "--out", str(tmp_path / "slides")]) == 0
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    page.goto((tmp_path / "slides" / "05_deck.slides.html").as_uri(), timeout=TIMEOUT_MS)
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=TIMEOUT_MS)
    assert page.evaluate("Reveal.getTotalSlides()") == 4    # title, two sections, the panel below the second
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=TIMEOUT_MS)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 1 && MathJax.Hub.queue.pending === 0", timeout=TIMEOUT_MS)
    assert page.locator(".MathJax_Error, .merror").count() == 0 and page.locator(".present .MathJax").count() >= 2
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("Reveal.getIndices().h === 0", timeout=TIMEOUT_MS)
    for h in (1, 2):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"Reveal.getIndices().h === {h}", timeout=TIMEOUT_MS)
    page.keyboard.press("ArrowDown")
    page.wait_for_function("Reveal.getIndices().v === 1", timeout=TIMEOUT_MS)
    assert _step_through_grids(page, "deck") == 1           # the panel's slider works in the deck too
    assert blocked == []
    page.close()


def test_the_site_works_from_a_static_web_server(browser, site):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = browser.new_page()
        page.goto(f"{base}/index.html", timeout=TIMEOUT_MS)
        first = page.eval_on_selector("li.chapter > a", "e => e.getAttribute('href')")
        page.click("li.chapter > a")
        page.wait_for_load_state()
        assert page.url == f"{base}/{first}"
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=TIMEOUT_MS)
        page.close()
    finally:
        server.shutdown()


def test_a_citation_leads_to_its_entry_and_the_references_list_every_paper_once(browser, site):
    page = browser.new_page()
    page.goto(site.joinpath("index.html").as_uri(), timeout=TIMEOUT_MS)
    page.locator("p.references-link a").click()
    page.wait_for_load_state()
    entries = page.eval_on_selector_all("ol.references > li", "els => els.map(e => e.id)")
    assert sorted(entries) == sorted(bibliography.load()) and len(set(entries)) == len(entries)
    bib_href = page.locator("a[download]").get_attribute("href")
    assert (site / bib_href).read_text() == bibliography.BIB.read_text()
    for path in _pages(site):
        page.goto(path.as_uri(), timeout=TIMEOUT_MS)
        cite = page.locator("a.cite").first
        words, key = cite.inner_text(), cite.get_attribute("href").split("#")[1]
        assert "{cite" not in page.inner_text("body"), f"{path.name}: a citation role was left as it is"
        cite.click()
        page.wait_for_load_state()
        assert page.url.endswith(f"references.html#{key}")
        entry = page.locator(f"li#{key}")
        assert entry.is_visible() and page.evaluate(f"document.querySelector('li#{key}').matches(':target')")
        assert words.split(" ")[0] in entry.inner_text()                  # "Zhao et al." lands on Zhao's paper
        assert path.name in [a.get_attribute("href") for a in entry.locator("a").all()]  # and names the chapter back
    page.close()


def test_exercises_fold_their_solutions_and_link_the_student_notebook(browser, site):
    pages = [p for p in _pages(site) if 'class="course-solution"' in p.read_text()]
    assert pages, "no page of the site shows an exercise"
    page = browser.new_page()
    page.goto(pages[0].as_uri(), timeout=TIMEOUT_MS)
    fold = page.locator("details.course-solution").first
    solution = fold.locator("pre").first
    assert not solution.is_visible()  # folded away
    fold.locator("summary").click()
    solution.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "NotImplementedError" not in solution.inner_text()
    href = page.locator("p.course-student a[download]").get_attribute("href")
    student = nbformat.read(pages[0].parent / href, as_version=4)
    assert student.metadata["course_edition"] == "student"
    assert all("### BEGIN SOLUTION" not in c.source for c in student.cells)
    page.close()


OUTPUTS_JS = "JSON.stringify(window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.toJSON())"


def _wait_output(page, index: int, text: str, timeout: int = TIMEOUT_MS) -> str:
    """Wait until cell ``index``'s outputs (read from the notebook model: JupyterLab renders only the cells in view) hold ``text``."""
    page.wait_for_function(f"([i, t]) => {OUTPUTS_JS}.includes(t)", arg=[index, text], timeout=timeout)
    return page.evaluate(f"i => {OUTPUTS_JS}", index)


def test_jupyterlab_a_student_types_a_wrong_answer_reads_the_hint_then_passes(browser, lab):
    from course_lib import exercises

    exercises.write_student_edition([ROOT / "notebooks" / "04_original_gan.ipynb"], ROOT / "build" / "student")
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{lab}/lab/workspaces/student/tree/build/student/04_original_gan.ipynb")  # a workspace of its own
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.context && "
                           "window.jupyterapp.shell.currentWidget.context.path === 'build/student/04_original_gan.ipynb' && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    index = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets.findIndex(
        w => w.model.type === 'code' && w.model.sharedModel.getSource().includes('check("4.1"'))""")
    assert index >= 0
    _wait_output(page, index, "not done yet", timeout=240_000)

    def answer(lines):
        page.evaluate("i => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = i; "
                      "return nb.scrollToItem(i); }", index)
        editor = page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        for i, line in enumerate(lines):
            if i:
                page.keyboard.press("Enter")
            page.keyboard.type(line)
        page.keyboard.press("Shift+Enter")

    answer(["optimal_d = lambda p_data, p_g: p_g / (p_data + p_g)", 'check("4.1", optimal_d)'])
    out = _wait_output(page, index, "not yet right")
    assert "the data density goes on top" in out  # the hint for this mistake, not the solution
    answer(["optimal_d = lambda p_data, p_g: p_data / (p_data + p_g)", 'check("4.1", optimal_d)'])
    _wait_output(page, index, "passed")
    page.close()

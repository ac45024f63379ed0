"""The course as a user meets it, in a real browser: headless Chromium from the system's packages,
driven by Playwright's Python API (nothing is downloaded: ``executable_path`` names the system browser).

* The site: the index opens, every notebook link resolves, math is typeset by the bundled MathJax, figures
  load, previous / next work. The site checked is ``$COURSE_SITE`` (e.g. ``build/html`` after ``make
  course``; ``.ci/run`` builds it in the real profile), else a small site built here from two notebooks.
* JupyterLab, live: started on a free port, notebook 04 opened, its cells run up to the control panel,
  a setting changed and the panel's button pressed: its picture must change.

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

from course_lib import build

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 60_000


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
    out = tmp_path_factory.mktemp("site") / "html"
    out.mkdir()
    rows = []
    for i, name in enumerate(("01_first", "02_second")):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        md = nbformat.v4.new_markdown_cell(f"# {name}\n\n**Question.** Is $E_\\theta(x)$ low on data?\n\n"
                                           "$$\\mathcal{L}_D = D(x) + [m - D(G(z))]^+$$")
        code = nbformat.v4.new_code_cell("plot")
        png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
        nb.cells = [md, code, nbformat.v4.new_markdown_cell("## 1. A section")]
        rows.append(dict(name=name, html=name + ".html", title=name, question="q", seconds=1.0, status="ok", nb=nb))
    for i, r in enumerate(rows):
        body, r["sections"] = build.render(r.pop("nb"), rows[i - 1] if i else None, rows[i + 1] if i + 1 < len(rows) else None)
        (out / r["html"]).write_text(body)
    build.write_index(out, rows, "test")
    build.copy_mathjax(out)
    return out


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
        assert page.locator("nav.course-nav").count() == 2 and page.title()
    assert build.dangling_links(site) == [] and build.network_references(site) == []
    page.close()


def test_math_is_typeset_offline_and_figures_load(browser, site):
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))  # no network at all
    for path in _pages(site)[:3]:
        page.goto(path.as_uri(), timeout=TIMEOUT_MS)
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                               "document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length > 0",
                               timeout=TIMEOUT_MS)
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        assert "$$" not in text, f"{path.name}: raw $$ left in the text"
        assert page.locator(".MathJax_Error, .merror").count() == 0, f"{path.name}: MathJax reports an error"
        images = page.eval_on_selector_all("main img, .jp-OutputArea img",
                                           "els => els.map(e => e.complete && e.naturalWidth > 0)")
        assert images and all(images), f"{path.name}: {images.count(False)} of {len(images)} figures did not load"
    assert blocked == [], f"pages asked the network for {blocked[:3]}"
    page.close()


def test_previous_and_next_walk_the_course(browser, site):
    pages = _pages(site)
    page = browser.new_page()
    page.goto(pages[0].as_uri(), timeout=TIMEOUT_MS)
    for expected in pages[1:]:
        page.locator("nav.course-nav >> nth=0").locator("a[rel=next]").click()
        page.wait_for_load_state()
        assert page.url.endswith(expected.name)
    page.locator("nav.course-nav >> nth=0").locator("a[rel=prev]").click()
    page.wait_for_load_state()
    assert page.url.endswith(pages[-2].name)
    page.locator("nav.course-nav >> nth=0").locator("a[rel=index]").click()
    page.wait_for_load_state()
    assert page.url.endswith("index.html")
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
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
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
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · EBGAN\n\n**Question.** Is $E(x)$ a score?"),
                nbformat.v4.new_markdown_cell("## 1. Section\n\n$$L_D = D(x) + [m - D(G(z))]^+$$"),
                nbformat.v4.new_markdown_cell("## 2. Next")]
    slides.tag(nb)
    nbformat.write(nb, tmp_path / "05_deck.ipynb")
    assert slides.main([str(tmp_path / "05_deck.ipynb"), "--out", str(tmp_path / "slides")]) == 0
    page = browser.new_page()
    blocked = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    page.goto((tmp_path / "slides" / "05_deck.slides.html").as_uri(), timeout=TIMEOUT_MS)
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=TIMEOUT_MS)
    assert page.evaluate("Reveal.getTotalSlides()") == 3
    page.keyboard.press("ArrowRight")
    page.wait_for_function("Reveal.getIndices().h === 1", timeout=TIMEOUT_MS)
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

"""The course's site: the executed notebooks rendered by Sphinx with MyST-NB (execution off) and the book theme.

    write_sources(src, chapters, profile)   # a Sphinx project: the prepared notebooks, index, references, conf.py
    render(src, out)                        # sphinx-build -b html: the site, offline

The theme brings the sidebar, each page's contents, previous / next, search, dark mode and a button to
download the chapter's notebook. What the course adds is notebook preprocessing, done before Sphinx sees
the notebooks (``build.for_static_page``): panels as their pictures or as grids with sliders, progress
bars and run-store notes as text, solutions folded away, citations written out as links to their entries
on ``references.html``. MathJax 2 comes from the installed ``jupyter-server-mathjax`` package, copied
beside the pages: no page asks the network for anything.
"""
from __future__ import annotations

import html
import shutil
import time
from pathlib import Path

import nbformat

from . import bibliography

TITLE = "Energy-based GANs: the course"
CSS = """
.course-solution{margin:.3em 0 1em;padding:.4em .8em;border-left:3px solid #7aa7d9}
.course-solution summary{cursor:pointer;font-weight:600}
.course-panel-note{font-size:13px;padding:.4em .8em;border-radius:4px;border-left:3px solid #7aa7d9}
.course-grid-controls{display:flex;flex-wrap:wrap;gap:.4em 1.5em;margin:.4em 0;font-size:14px}
.course-grid-control input{vertical-align:middle}
.course-grid-picture{max-width:100%}
ol.chapters{list-style:none;padding:0} li.chapter{margin:0 0 1.1em} li.chapter .question{margin:.2em 0}
ol.references li{margin:0 0 .7em} ol.references li:target{outline:2px solid #e0b000}
.failed{color:#b00}
"""
# The packaged MathJax holds the STIX web fonts only: with MathJax's default (TeX) fonts a prime (z', x') is a
# "Math Processing Error". (The site's and the decks' MathJax 2 configuration.)
MATHJAX_FONTS = {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None}
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"   # MathJax 2's combined configuration (the site and the decks)
# MathJax 2 (the copy in _static/mathjax), configured for the \( \) and \[ \] that MyST writes
CONF = '''# written by course_lib.site: the course's Sphinx configuration
project = {title!r}
author = "the course's authors"
extensions = ["myst_nb"]
nb_execution_mode = "off"                  # the notebooks were executed by course_lib.build, with their profile
nb_output_stderr = "show"
nb_render_markdown_format = "myst"         # the sentences cells print (IPython Markdown) get their $math$ typeset
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_update_mathjax = False
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_theme_options = {{"use_download_button": True, "show_toc_level": 2, "home_page_in_toc": True,
                       "navigation_with_keys": True}}
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_sourcelink_suffix = ""
mathjax_path = "mathjax/MathJax.js?config={config}"
mathjax3_config = None
mathjax2_config = {{"tex2jax": {{"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]],
                                "processRefs": False, "processEnvironments": False}},
                    "HTML-CSS": {fonts!r}}}
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header", "misc.highlighting_failure"]
exclude_patterns = ["_build", "student"]
'''


def mathjax_source() -> Path:
    """MathJax 2 as the installed jupyter-server-mathjax package holds it (a folder to copy beside the pages)."""
    try:
        import jupyter_server_mathjax
    except ImportError as err:
        raise ImportError("the offline pages need MathJax from the jupyter-server-mathjax package: "
                          "`pip install -e '.[dev]'` (or `pip install jupyter-server-mathjax`)") from err
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def index_source(chapters: list, profile: str) -> str:
    """index.md: each chapter's title as a link, its question in one line, its build time; the toctree (sidebar)."""
    items = []
    for c in chapters:
        status = "" if c["status"] == "ok" else f' <b class="failed">{html.escape(c["status"])}</b>'
        items.append(f'<li class="chapter"><a href="{c["html"]}"><b>{html.escape(c["title"])}</b></a>'
                     f' <small>({c["seconds"]:.0f} s){status}</small>'
                     f'<p class="question">{html.escape(c.get("question", ""))}</p></li>')
    toctree = "\n".join(c["name"] for c in chapters)
    return f"""# Energy-based GANs &mdash; the course

From the structured perceptron to maximum-entropy energy-based models: every claim shown by an experiment that runs.
These pages were executed in the **{profile}** profile on {time.strftime("%Y-%m-%d %H:%M")}; open a notebook in
JupyterLab (`make lab`) to run it and to use its control panels. Search the course with the box in the sidebar.

<ol class="chapters">
{chr(10).join(items)}
</ol>

<p class="references-link"><b><a href="references.html">References</a></b>: every paper the course cites, in one list
with the chapters that cite it, and as a BibTeX file.</p>

```{{toctree}}
:hidden:
:maxdepth: 2

{toctree}
references
```
"""


def references_source(chapters: list, entries: dict, cited_by: dict) -> str:
    """references.md: every paper the course cites, each with an anchor (its key) and the chapters citing it."""
    return ("# References\n\n" + bibliography.references_html(chapters, entries, cited_by) + "\n")


def chapter_links(nb, student: str | None, deck: str | None) -> None:
    """A paragraph after the chapter's title: its student notebook for download (when it has exercises) and its deck."""
    from . import exercises

    n = sum(c.cell_type == "code" and exercises.BEGIN in c.source for c in nb.cells)
    parts = []
    if student and n:
        parts.append(f'<p class="course-student"><a href="{student}" download>Download the student notebook</a> '
                     f'({n} exercises to do, each with its check; open it in JupyterLab)</p>')
    if deck:
        parts.append(f'<p class="course-deck"><a href="{deck}">Present this chapter as slides</a> '
                     f'(reveal.js, offline; <kbd>s</kbd> opens the speaker notes)</p>')
    if parts:
        at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
        nb.cells.insert(at, nbformat.v4.new_markdown_cell("\n".join(parts)))


def write_sources(src: Path, chapters: list, profile: str, cited_by: dict) -> Path:
    """A Sphinx project in ``src``: each chapter's notebook (``chapter["nb"]``, already prepared for a static page),
    index.md, references.md (and the .bib), conf.py, _static (the course's CSS, MathJax)."""
    src = Path(src)
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    for c in chapters:
        nbformat.write(c["nb"], src / f"{c['name']}.ipynb")
    (src / "index.md").write_text(index_source(chapters, profile))
    (src / "references.md").write_text(references_source(chapters, bibliography.load(), cited_by))
    (src / "conf.py").write_text(CONF.format(title=TITLE, fonts=MATHJAX_FONTS, config=MATHJAX_CONFIG))
    (src / "_static" / "course.css").write_text(CSS)
    shutil.copytree(mathjax_source(), src / "_static" / "mathjax")
    return src


def render(src: Path, out: Path, quiet: bool = True) -> int:
    """sphinx-build -b html ``src`` ``out``; returns its exit status (warnings are printed, not fatal)."""
    from sphinx.cmd.build import build_main

    args = ["-b", "html", "-j", "1", str(src), str(out), "-d", str(Path(src) / ".doctrees")]
    return build_main((["-q"] if quiet else []) + args)

"""The course's one bibliography, ``references.bib``: chapters cite by key, each chapter's reference list is made from it.

A chapter's Markdown cites with MyST's roles, which read as text in JupyterLab and are what Sphinx's
sphinxcontrib-bibtex understands: {cite:t}`zhao2017energy` ("Zhao et al. (2017)") and {cite:p}`a,b`
("(Zhao et al. 2017; Metz et al. 2017)"). The paragraph that opens with ``**References.**`` at the
chapter's end is written from the keys the chapter cites (``python -m course_lib.bibliography --sync``);
a test keeps it in step. On the site every citation links to its entry on ``references.html``.
"""
from __future__ import annotations

import argparse
import codecs
import functools
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "references.bib"
ROLE = re.compile(r"\{cite:([tp])\}`([^`]+)`")
REFERENCES = "**References.**"
PAGE = "references.html"


@dataclass(frozen=True)
class Entry:
    """One paper: the key, the authors as (initials, surname) pairs, and what a reference list prints."""
    key: str
    authors: tuple
    year: str
    title: str
    venue: str
    arxiv: str

    def short(self) -> str:
        """Zhao et al. / Arjovsky & Bottou / Goodfellow: how the text names the authors."""
        last = [s for _, s in self.authors]
        if len(last) == 1:
            return last[0]
        return f"{last[0]} & {last[1]}" if len(last) == 2 else f"{last[0]} et al."

    def reference(self) -> str:
        """J. Zhao, M. Mathieu, Y. LeCun (2017), *Title*, Venue, arXiv:1609.03126."""
        names = ", ".join(f"{i} {s}".strip() for i, s in self.authors)
        parts = [f"{names} ({self.year})", f"*{self.title}*"]
        parts += [self.venue] if self.venue else []
        parts += [f"arXiv:{self.arxiv}"] if self.arxiv else []
        return ", ".join(parts) + "."


def _plain(text: str) -> str:
    """BibTeX field text as Unicode (LaTeX escapes decoded: \\& -> &, {\\"o} -> ö), without its protective braces."""
    import latexcodec  # noqa: F401  (pybtex's dependency; registers the "ulatex" codec)

    return re.sub(r"[{}]", "", codecs.decode(text, "ulatex")).strip()


def _initials(first: list) -> str:
    """['Guo-Jun'] -> 'G.-J.'; ['Diederik', 'P.'] -> 'D. P.'"""
    return " ".join("-".join(p[0] + "." for p in name.replace(".", "").split("-") if p) for name in first)


def load(path: Path | str = BIB) -> dict:
    """Every entry of a BibTeX file by key (pybtex parses; LaTeX accents become Unicode); parsed once per file version."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no bibliography at {path}: the course's references live in references.bib at the "
                                "repository's root")
    return dict(_parse(str(path.resolve()), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _parse(path: str, _version: int) -> dict:
    from pybtex.database import parse_file

    path = Path(path)
    data = parse_file(str(path), bib_format="bibtex")
    entries = {}
    for key, e in data.entries.items():
        f = e.fields
        missing = [k for k in ("title", "year") if k not in f]
        if missing or not e.persons.get("author"):
            raise ValueError(f"{path.name}: entry {key!r} lacks {', '.join(missing or ['author'])}")
        authors = tuple((_initials([_plain(n) for n in p.first_names + p.middle_names]),
                         _plain(" ".join(p.prelast_names + p.last_names))) for p in e.persons["author"])
        venue = _plain(f.get("booktitle", f.get("journal", f.get("publisher", ""))))
        if e.type == "techreport":
            venue = ", ".join(_plain(x) for x in (f"Technical report {f.get('number', '')}".strip(), f.get("institution", "")) if x)
        entries[key] = Entry(key, authors, _plain(f["year"]), _plain(f["title"]),
                             "" if venue.lower() == "arxiv preprint" else venue,
                             _plain(f.get("eprint", "")) if f.get("archiveprefix", "").lower() == "arxiv" else "")
    return entries


def citations(text: str) -> list:
    """The keys a text cites, in the order they first appear."""
    keys = []
    for _, group in ROLE.findall(text):
        keys += [k.strip() for k in group.split(",") if k.strip() and k.strip() not in keys]
    return keys


def cite_text(kind: str, keys: list, entries: dict) -> list:
    """(key, words) for each key of one role: 't' gives 'Zhao et al. (2017)', 'p' gives 'Zhao et al. 2017'."""
    unknown = [k for k in keys if k not in entries]
    if unknown:
        raise KeyError(f"cited but not in references.bib: {unknown}; add the entries there")
    return [(k, f"{entries[k].short()} ({entries[k].year})" if kind == "t" else f"{entries[k].short()} {entries[k].year}")
            for k in keys]


def render_roles(text: str, entries: dict, link: str | None = PAGE) -> str:
    """Markdown with every citation role written out, each name a link to its entry on ``link`` (None: plain text)."""
    def one(m):
        kind, keys = m[1], [k.strip() for k in m[2].split(",") if k.strip()]
        words = [f'<a class="cite" href="{link}#{k}">{html.escape(w)}</a>' if link else w
                 for k, w in cite_text(kind, keys, entries)]
        return ", ".join(words) if kind == "t" else "(" + "; ".join(words) + ")"
    return ROLE.sub(one, text)


def markdown_sources(nb) -> str:
    """The Markdown cells of a notebook without the reference paragraph itself (what a chapter cites)."""
    return _split_references(_markdown(nb))[0]


def _markdown(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _split_references(text: str) -> tuple:
    """(text before the reference paragraph, the paragraph, text after it); the paragraph ends at a blank line."""
    i = text.find(REFERENCES)
    if i < 0:
        return text, "", ""
    end = text.find("\n\n", i)
    end = len(text) if end < 0 else end
    return text[:i], text[i:end], text[end:]


def by_author(entries) -> list:
    """Entries in reference-list order: first author's surname, then year."""
    return sorted(entries, key=lambda e: (e.authors[0][1].lower(), e.year, e.key))


def reference_paragraph(keys, entries: dict) -> str:
    """The chapter's reference list: every cited entry, sorted by first author and year."""
    return REFERENCES + " " + " ".join(e.reference() for e in by_author(entries[k] for k in keys))


# ------------------------------------------------------------------ the .py twins

def _wrap(text: str, width: int = 120) -> list:
    """A paragraph as '# '-comment lines of at most ``width`` characters."""
    out, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > width and line != "#":
            out.append(line)
            line = "#"
        line += " " + word
    return out + [line]


def sync_py(path: Path | str, entries: dict | None = None) -> bool:
    """Rewrite the reference paragraph of a .py twin from the keys its Markdown cites; True if it changed."""
    import jupytext

    entries = entries if entries is not None else load()
    path = Path(path)
    keys = citations(markdown_sources(jupytext.read(path, fmt="py:percent")))
    lines = path.read_text().split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("# " + REFERENCES)), None)
    if start is None:
        raise ValueError(f"{path.name} has no paragraph that opens with {REFERENCES}: add one to its last Markdown cell")
    end = next((j for j in range(start, len(lines)) if lines[j].strip() in ("#", "")), len(lines))
    new = _wrap(reference_paragraph(keys, entries))
    if lines[start:end] == new:
        return False
    lines[start:end] = new
    path.write_text("\n".join(lines))
    return True


def problems(notebooks, entries: dict | None = None) -> list:
    """What is wrong with the citations of some notebooks: unknown keys, uncited entries, stale reference lists."""
    import nbformat

    entries = entries if entries is not None else load()
    found, cited = [], set()
    for p in map(Path, notebooks):
        before, para, _ = _split_references(_markdown(nbformat.read(p, as_version=4)))
        keys = citations(before)
        cited.update(keys)
        found += [f"{p.name}: cites {k!r}, which references.bib lacks" for k in keys if k not in entries]
        if not keys:
            found.append(f"{p.name}: cites no paper by key")
            continue
        if all(k in entries for k in keys) and " ".join(para.split()) != reference_paragraph(keys, entries):
            found.append(f"{p.name}: its reference list is not the one its citations make (run: make refs)")
    found += [f"references.bib: {k!r} is cited by no chapter" for k in sorted(set(entries) - cited)]
    return found


# ------------------------------------------------------------------ the site's page

def references_html(rows: list, entries: dict, cited_by: dict) -> str:
    """The references page's body: every paper the course cites (``<li id="key">``), with the chapters that cite it
    (``rows``: name, html, title), and the .bib to download."""
    items = []
    for e in by_author(entries.values()):
        text = html.escape(e.reference())
        text = re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)
        if e.arxiv:
            text = text.replace(f"arXiv:{e.arxiv}", f'<span class="arxiv">arXiv:{e.arxiv}</span>')
        where = ", ".join(f'<a href="{r["html"]}">{html.escape(r["title"])}</a>' for r in rows if r["name"] in cited_by.get(e.key, ()))
        items.append(f'<li id="{e.key}">{text} <small>Key <code>{e.key}</code>; cited in {where or "no chapter"}.</small></li>')
    return (f'<p>Every paper the course cites ({len(entries)}), in one list. The same list as BibTeX, to copy into a '
            f'syllabus: <a href="references.bib" download>references.bib</a>.</p>\n\n'
            f'<ol class="references">\n{chr(10).join(items)}\n</ol>')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="notebooks' .py twins (with --sync), else .ipynb files to check")
    parser.add_argument("--sync", action="store_true", help="rewrite each twin's reference paragraph from its citations")
    args = parser.parse_args(argv)
    entries = load()
    if args.sync:
        for f in args.files:
            if sync_py(f, entries):
                print(f"{f}: reference list rewritten")
        return 0
    found = problems(args.files, entries)
    print("\n".join(found) or "every citation resolves and every entry is cited")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

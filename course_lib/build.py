"""Build the course: execute every notebook (profile from $COURSE_PROFILE), render each to HTML,
and write an index page linking them. Used by `make course`.

    python -m course_lib.build --out build/html notebooks/*.ipynb
"""
from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter


def title_of(nb) -> str:
    """The first Markdown heading of a notebook."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "untitled"


def execute(path: Path, timeout: int | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in its own folder; returns the executed notebook and its wall time."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - start


def write_index(out: Path, rows: list[dict]) -> Path:
    """An index.html linking every rendered notebook, with its title and build time."""
    items = "\n".join(
        f'<tr><td><a href="{html.escape(r["html"])}">{html.escape(r["name"])}</a></td>'
        f'<td>{html.escape(r["title"])}</td><td>{r["seconds"]:.0f} s</td><td>{html.escape(r["status"])}</td></tr>'
        for r in rows
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Energy-based GANs: course notebooks</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.3em .8em;text-align:left}}</style></head>
<body><h1>Energy-based GANs &mdash; course notebooks</h1>
<p>Executed in the <b>{html.escape(os.environ.get("COURSE_PROFILE", "real"))}</b> profile on {time.strftime("%Y-%m-%d %H:%M")}.</p>
<table><tr><th>notebook</th><th>title</th><th>run time</th><th>status</th></tr>
{items}
</table></body></html>"""
    index = out / "index.html"
    index.write_text(page)
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/html"))
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: none)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    exporter, rows, failed = HTMLExporter(), [], []
    for path in args.notebooks:
        print(f"executing {path} ...", flush=True)
        status = "ok"
        try:
            nb, seconds = execute(path, args.timeout)
        except Exception as err:  # keep going: render what ran, report the failure
            nb, seconds, status = getattr(err, "nb", None) or nbformat.read(path, as_version=4), 0.0, f"FAILED: {type(err).__name__}"
            failed.append(path.name)
            print(f"  {status}: {err}", file=sys.stderr)
        body, _ = exporter.from_notebook_node(nb)
        target = args.out / (path.stem + ".html")
        target.write_text(body)
        rows.append(dict(name=path.stem, html=target.name, title=title_of(nb), seconds=seconds, status=status))
        print(f"  {status} in {seconds:.0f} s -> {target}", flush=True)
    index = write_index(args.out, rows)
    (args.out / "timings.json").write_text(json.dumps(rows, indent=1))
    print(f"\nCourse built: open {index.resolve()}")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

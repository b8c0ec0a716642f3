"""Re-execute the course's notebooks in place, deterministically.

    python -m autograd_lab.notebooks                       # every lessons/*.ipynb
    python -m autograd_lab.notebooks lessons/02_*.ipynb    # some of them

Lessons are stored executed (nbval compares against the stored outputs, and skips
cells that were never run). This runs each notebook top to bottom in a fresh
kernel, in the notebook's own folder, and writes it back so that running it again
changes nothing: no timing metadata, execution counts from 1, and widget model ids
(random UUIDs) replaced by ids derived from the notebook's name and the widget's
order. A cell that raises stops the run and leaves the file untouched.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from pathlib import Path

import nbformat

TIMEOUT = 60  # seconds per cell; a finite timeout, so a stalled kernel fails instead of hanging
_UUID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def execute(path: Path, timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` in a fresh kernel; return it executed (the file is not written)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            store_widget_state=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return _stable_widget_ids(notebook, path.stem)


def _stable_widget_ids(notebook: nbformat.NotebookNode, seed: str) -> nbformat.NotebookNode:
    """Replace each widget model id (a random UUID) by one derived from ``seed`` and its order."""
    renamed: dict[str, str] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", ()):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view and _UUID.fullmatch(view.get("model_id", "")):
                old = view["model_id"]
                if old not in renamed:
                    renamed[old] = uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{len(renamed)}").hex
                view["model_id"] = renamed[old]
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd_lab.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--timeout", type=int, default=TIMEOUT, help="seconds per cell (default %(default)s)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path("lessons").glob("*.ipynb"))
    if not paths:
        print("no notebooks given and none in lessons/ (run it from the course folder)", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            notebook = execute(path, args.timeout)
        except Exception as error:  # report it and go on with the other notebooks
            failed += 1
            print(f"FAILED {path}: {type(error).__name__}: {str(error).strip().splitlines()[-1]}", file=sys.stderr)
            continue
        nbformat.write(notebook, path)
        print(f"executed {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

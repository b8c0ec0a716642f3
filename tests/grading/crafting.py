"""The grader tests' material: paths, and crafted submissions made from the real exercises."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
ASSIGNMENTS = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def save(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def master_solution(name: str, cell_id: str) -> str:
    """The master's source of one solution cell (what a student who got everything right writes)."""
    return next(source(c) for c in load(SOLUTIONS / f"{name}.ipynb")["cells"] if c.get("id") == cell_id)


def submission(name: str, answers: dict[str, str], edit=None) -> dict:
    """The exercise ``name`` as a student hands it in: ``answers`` by solution cell id, then ``edit``."""
    notebook = load(EXERCISES / f"{name}.ipynb")
    for cell in notebook["cells"]:
        if cell.get("id") in answers:
            cell["source"] = answers[cell["id"]]
    if edit is not None:
        edit(notebook)
    return notebook

"""``autograd-lab export classroom -o build/classroom-template/``: a GitHub Classroom template repository.

    README.md                          for students: the exercises, how they are graded
    exercises/NN.ipynb                 the student notebooks
    .github/workflows/classroom.yml    Classroom's autograding: one command-grader step per public
                                       check (its points), then the grading reporter
    .github/autograding/               setup.sh (installs the pinned CPU torch and our wheel),
                                       check.sh (one check), config.sh, the wheel, and a pristine
                                       copy of the exercises (the checks grading uses)

The workflow has the form of the one Classroom writes for its own autograding: each step is a
``classroom-resources/autograding-command-grader@v1`` (passes, with its points, when its command
exits 0), and ``classroom-resources/autograding-grading-reporter@v1`` reads each step's result
from ``<STEP-ID>_RESULTS``. Hidden checks cannot live in a student's repository: the instructor
grades them with ``autograd-lab grade`` on the collected repositories.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import string
from pathlib import Path

from autograd_lab.grading.export import ExportError
from autograd_lab.grading.export.wheel import CELL_TIMEOUT, TEMPLATES, TORCH_INDEX, TORCH_SPEC, build_wheel
from autograd_lab.grading.notebook import Exercise

TIMEOUT_MINUTES = 10  # per step; the first one installs torch (a few minutes) and runs the notebook
SCRIPTS = ".github/autograding"
_CHECKOUT = """    - name: Checkout code
      uses: actions/checkout@v4
"""
_STEP = """    - name: {name}
      id: {id}
      uses: classroom-resources/autograding-command-grader@v1
      with:
        test-name: {name}
        setup-command: bash {scripts}/setup.sh
        command: {command}
        timeout: {timeout}
        max-score: {points}
"""  # name and command are JSON strings, which YAML reads as they are, whatever a check id holds


def step_id(exercise: Exercise, check_id: str) -> str:
    """A step id the reporter can turn into an environment variable: letters, digits, dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{exercise.name}-{check_id}".lower()).strip("-")
    return f"ex{slug}" if slug[:1].isdigit() else slug


def workflow(exercises: list[Exercise]) -> tuple[str, list[dict]]:
    """The text of classroom.yml, and its graded steps (id, name, command, points)."""
    steps = []
    for exercise in exercises:
        for check in exercise.checks:
            if check.points != int(check.points):
                raise ExportError(f"{exercise.path}: check {check.id!r} is worth {check.points:g} points; "
                                  "Classroom's command grader scores whole points only")
            steps.append({"id": step_id(exercise, check.id), "name": f"{exercise.name} {check.id}",
                          "command": f"bash {SCRIPTS}/check.sh exercises/{exercise.path.name} {shlex.quote(check.id)}",
                          "points": int(check.points)})
    if len({s["id"] for s in steps}) != len(steps):
        raise ExportError("two checks give the same step id; rename one of them")
    lines = ["# GitHub Classroom autograding, written by `autograd-lab export classroom`: one step per public",
             "# check, passing (with its points) when check.sh exits 0. Hidden checks are graded by the instructor.",
             "name: Autograding Tests", "'on':", "- push", "- repository_dispatch", "permissions:",
             "  checks: write", "  actions: read", "  contents: read", "jobs:", "  run-autograding-tests:",
             "    runs-on: ubuntu-latest", "    if: github.actor != 'github-classroom[bot]'", "    steps:"]
    text = "\n".join(lines) + "\n" + _CHECKOUT
    text += "".join(_STEP.format(**{**s, "name": json.dumps(s["name"]), "command": json.dumps(s["command"])},
                                 scripts=SCRIPTS, timeout=TIMEOUT_MINUTES) for s in steps)
    text += "    - name: Autograding Reporter\n      uses: classroom-resources/autograding-grading-reporter@v1\n"
    text += "      env:\n" + "".join(f'        {s["id"].upper()}_RESULTS: "${{{{steps.{s["id"]}.outputs.result}}}}"\n'
                                    for s in steps)
    text += f"      with:\n        runners: {','.join(s['id'] for s in steps)}\n"
    return text, steps


def build_template(exercises_dir: Path, output: Path, *, wheel: Path | None = None, torch: str = TORCH_SPEC,
                   torch_index: str = TORCH_INDEX, cell_timeout: float = CELL_TIMEOUT) -> list[dict]:
    """Write the template repository into ``output`` (which must be empty or absent); its graded steps."""
    paths = sorted(Path(exercises_dir).glob("*.ipynb"))
    if not paths:
        raise ExportError(f"{exercises_dir}: no exercise notebooks (run it from the course folder, or pass "
                          "--exercises)")
    if output.exists() and any(output.iterdir()):
        raise ExportError(f"{output} is not empty: give a new folder")
    exercises = [Exercise.load(p) for p in paths]
    text, steps = workflow(exercises)
    scripts = output / SCRIPTS
    (output / ".github" / "workflows").mkdir(parents=True)
    (output / ".github" / "workflows" / "classroom.yml").write_text(text, encoding="utf-8")
    (scripts / "exercises").mkdir(parents=True)
    (output / "exercises").mkdir()
    for path in paths:
        shutil.copy2(path, output / "exercises" / path.name)
        shutil.copy2(path, scripts / "exercises" / path.name)
    built = build_wheel(scripts, wheel)
    for name in ("setup.sh", "check.sh"):
        shutil.copy2(TEMPLATES / "classroom" / name, scripts / name)
        (scripts / name).chmod(0o755)
    (scripts / "config.sh").write_text("# Read by setup.sh; each value can be overridden from the environment.\n"
                                       f'TORCH_SPEC="${{TORCH_SPEC:-{torch}}}"\n'
                                       f'TORCH_INDEX="${{TORCH_INDEX:-{torch_index}}}"\n'
                                       f'CELL_TIMEOUT="${{CELL_TIMEOUT:-{cell_timeout:g}}}"\n', encoding="utf-8")
    shutil.copy2(TEMPLATES / "classroom" / "gitignore", output / ".gitignore")
    (output / "README.md").write_text(_readme(exercises, built.name, torch, torch_index), encoding="utf-8")
    return steps


def _readme(exercises: list[Exercise], wheel: str, torch: str, torch_index: str) -> str:
    public = sum(e.points for e in exercises)
    hidden = sum(e.notebook.get("metadata", {}).get("autograd_lab", {}).get("hidden_points", 0) for e in exercises)
    listing = "\n".join(f"- `exercises/{e.path.name}`: {e.points:g} points of public checks" for e in exercises)
    readme = string.Template((TEMPLATES / "classroom" / "README.md").read_text(encoding="utf-8"))
    return readme.substitute(title="Autograd exercises", exercises=listing, public_points=f"{public:g}",
                             hidden_points=f"{hidden:g}", total_points=f"{public + hidden:g}", wheel=wheel,
                             torch=torch, torch_index=torch_index, first=f"exercises/{exercises[0].path.name}")

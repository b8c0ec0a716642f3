"""``autograd-lab lab | check | grade | assign | slides | export``: the course's command line.

Each command lives in its own module, imported only when that command runs (so
``autograd-lab check`` never loads the grader, and nothing here slows ``import
autograd_lab``). A command module provides ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

COMMANDS = {
    "lab": ("autograd_lab.cli", "Open JupyterLab on the lessons."),
    "check": ("autograd_lab.grading.selfcheck", "Run an exercise notebook's public checks: a score and hints."),
    "grade": ("autograd_lab.grading.grade", "Grade a class's submissions against the master notebook."),
    "assign": ("autograd_lab.grading.assign", "Generate the student notebooks (exercises/) from the masters."),
    "slides": ("autograd_lab.slides", "Build the lessons as reveal.js slide decks that work offline."),
    "export": ("autograd_lab.grading.export", "Build a Gradescope autograder zip or a GitHub Classroom template."),
}


def _usage() -> str:
    lines = ["usage: autograd-lab COMMAND [options]", "", "commands:"]
    lines += [f"  {name:8s} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "Run `autograd-lab COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"autograd-lab: unknown command {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_text = COMMANDS[argv[0]]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"autograd-lab {argv[0]}", description=help_text)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv[1:]))


# ----- `autograd-lab lab` ----------------------------------------------------------------------
# A student lands in the course, not in the repository: JupyterLab's root is build/lab/, which holds only
# links to lessons/ and exercises/, and its settings (in build/lab-state/) turn off the news prompt and the
# update check, and keep widget state when a notebook is saved (a reopened lesson then shows its steppers).
COURSE_FOLDERS = ("lessons", "exercises")
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course folder (with lessons/ and exercises/); default: here")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--write-overrides", type=Path, metavar="PATH",
                        help="write these settings as JupyterLab's defaults into an overrides.json (merged into any "
                             "there) and exit; `make` does it for the course's venv, so plain `jupyter lab` keeps "
                             "widget state")


def run(args: argparse.Namespace) -> int:
    """JupyterLab on the course (lessons/ and exercises/ only), with the first lesson open."""
    if args.write_overrides:
        return write_overrides(args.write_overrides)
    root = args.root.resolve()
    if not sorted((root / "lessons").glob("00_*.ipynb")):
        print(f"autograd-lab lab: no lessons/00_*.ipynb under {root} (run it from the course folder, or "
              "pass --root)", file=sys.stderr)
        return 2
    command = lab_command(prepare_lab(root), args.port)
    return subprocess.call(command, cwd=root / "build" / "lab")


def prepare_lab(root: Path) -> Path:
    """Make ``build/lab/`` (links to the course folders, nothing else) and the lab's settings; return ``build/``."""
    build = root / "build"
    lab = build / "lab"
    lab.mkdir(parents=True, exist_ok=True)
    for entry in lab.iterdir():
        if entry.is_symlink() and entry.name not in COURSE_FOLDERS:
            entry.unlink()
    for name in COURSE_FOLDERS:
        link = lab / name
        if (root / name).is_dir() and not link.exists():
            link.symlink_to(Path("..", "..", name), target_is_directory=True)
    for relative, values in LAB_SETTINGS.items():
        path = build / "lab-state" / "settings" / relative
        if not path.exists():  # later changes the student makes in the lab are kept
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    return build


def write_overrides(path: Path) -> int:
    """Merge LAB_SETTINGS into a JupyterLab ``overrides.json`` (keyed by plugin id, e.g. ``…-manager:plugin``)."""
    try:
        overrides = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError) as error:
        print(f"autograd-lab lab: cannot read {path} ({error}); left it as it is", file=sys.stderr)
        return 2
    for relative, values in LAB_SETTINGS.items():
        package, _, plugin = relative.removesuffix(".jupyterlab-settings").rpartition("/")
        overrides.setdefault(f"{package}:{plugin}", {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    return 0


def lab_command(build: Path, port: int) -> list[str]:
    """The jupyter lab command line: rooted at ``build/lab``, lesson 00 open, no calls outside."""
    lab, state = build / "lab", build / "lab-state"
    first = sorted((lab / "lessons").glob("00_*.ipynb"))[0]
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={lab}", f"--port={port}",
               f"--LabApp.user_settings_dir={state / 'settings'}", f"--LabApp.workspaces_dir={state / 'workspaces'}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               first.relative_to(lab).as_posix()]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command


if __name__ == "__main__":
    sys.exit(main())

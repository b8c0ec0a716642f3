"""``autograd-lab lab | check | grade | assign | slides | export``: the course's command line.

Each command lives in its own module, imported only when that command runs (so
``autograd-lab check`` never loads the grader, and nothing here slows ``import
autograd_lab``). A command module provides ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status).
"""

from __future__ import annotations

import argparse
import importlib
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
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the course folder (with lessons/ and exercises/); default: here")
    parser.add_argument("--port", type=int, default=8888)


def run(args: argparse.Namespace) -> int:
    """JupyterLab rooted at the course folder, with the first lesson open."""
    root = args.root.resolve()
    first = sorted((root / "lessons").glob("00_*.ipynb"))
    if not first:
        print(f"autograd-lab lab: no lessons/00_*.ipynb under {root} (run it from the course folder, or "
              "pass --root)", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", f"--port={args.port}",
               str(first[0].relative_to(root))]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return subprocess.call(command, cwd=root)


if __name__ == "__main__":
    sys.exit(main())

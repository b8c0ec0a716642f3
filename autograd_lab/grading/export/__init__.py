"""``autograd-lab export gradescope|classroom``: the same grader, where a large course grades.

- ``gradescope``: an autograder zip for one assignment (``gradescope.build_zip``); inside
  Gradescope's container its ``run_autograder`` calls ``autograder`` to grade the one submission;
- ``classroom``: a GitHub Classroom template repository (``classroom.build_template``) whose
  workflow runs ``classroom_check`` once per public check.

Both carry our package as a wheel (``wheel.build_wheel``), so the service grades with exactly
the code that graded here. The scripts they ship are package data under ``templates/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_lab.grading.notebook import NotebookError


class ExportError(RuntimeError):
    """An export that cannot be built; the message says why and what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{gradescope,classroom}")
    gs = kinds.add_parser("gradescope", help="an autograder zip for one assignment",
                          description="Build a Gradescope autograder zip that grades one assignment as "
                                      "`autograd-lab grade` does.")
    gs.add_argument("master", type=Path, help="the master notebook, e.g. solutions/02_mul.ipynb")
    gs.add_argument("-o", "--output", type=Path, required=True,
                    help="the zip to write, e.g. build/gradescope/02_mul.zip")
    gs.add_argument("--seed", type=int, default=None,
                    help="secret seed from which each submission's hidden-check seed is made (default: random, "
                         "recorded in the zip)")
    gs.add_argument("--allow-unjailed", action="store_true",
                    help="where Gradescope's container cannot make a jail, run student code unjailed as the "
                         "student user (default: grade nothing there, and say why)")
    _common(gs)
    cr = kinds.add_parser("classroom", help="a GitHub Classroom template repository",
                          description="Build a GitHub Classroom template repository: the student notebooks and "
                                      "a workflow that grades their public checks on every push.")
    cr.add_argument("-o", "--output", type=Path, required=True,
                    help="the folder to write, e.g. build/classroom-template/")
    cr.add_argument("--exercises", type=Path, default=Path("exercises"),
                    help="the student notebooks (default: %(default)s)")
    _common(cr)


def _common(parser: argparse.ArgumentParser) -> None:
    from autograd_lab.grading.export.wheel import CELL_TIMEOUT, TORCH_INDEX, TORCH_SPEC

    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT,
                        help="seconds per cell there (default %(default)s: a service's CPU is slow, and the first "
                             "cell that uses torch imports it)")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="our package as a wheel (default: build one from this source tree)")
    parser.add_argument("--torch", default=TORCH_SPEC, help="the torch the service installs (default %(default)s)")
    parser.add_argument("--torch-index", default=TORCH_INDEX, help="where it comes from (default: PyTorch's CPU "
                                                                   "wheels, %(default)s)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.kind == "gradescope":
            from autograd_lab.grading.export.gradescope import build_zip

            config = build_zip(args.master, args.output, seed=args.seed, wheel=args.wheel, torch=args.torch,
                               torch_index=args.torch_index, cell_timeout=args.timeout,
                               allow_unjailed=args.allow_unjailed)
            print(f"wrote {args.output} (assignment {config['assignment']!r}, {config['points']:g} points, "
                  f"seed {config['seed']}); upload it on Gradescope's Configure Autograder page, and give it "
                  "at least 2.5 GB of memory (see README.md in the zip)")
        else:
            from autograd_lab.grading.export.classroom import build_template

            steps = build_template(args.exercises, args.output, wheel=args.wheel, torch=args.torch,
                                   torch_index=args.torch_index, cell_timeout=args.timeout)
            print(f"wrote {args.output}: {len(steps)} graded checks in .github/workflows/classroom.yml; push it as "
                  "a template repository and pick it when you create the assignment")
    except (ExportError, NotebookError, OSError) as error:
        print(f"autograd-lab export {args.kind}: {error}", file=sys.stderr)
        return 2
    return 0

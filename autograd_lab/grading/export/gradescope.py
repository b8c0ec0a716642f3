"""``autograd-lab export gradescope solutions/NN.ipynb -o NN.zip``: a Gradescope autograder for one assignment.

The zip holds, at its root (Gradescope's autograder specification):

    setup.sh          run once, as root, when Gradescope builds the image: Python, a venv, the pinned
                      CPU-only torch, our wheel, the unprivileged user that student code runs as
    run_autograder    run per submission: ``python -m autograd_lab.grading.export.autograder``
    config.sh         the torch to install and the student user (setup.sh reads it)
    autograder.json   the master's path, the seed of the hidden checks, the limits
    master/NN.ipynb   the master (root-only once installed)
    wheels/autograd_lab-*.whl
    README.md         for the instructor: how to upload it, which settings it needs

The seed recorded here is a secret (the zip's files are root's alone once installed): each
submission's hidden checks use a seed made from it and Gradescope's submission id, which the
autograder output gives, so ``autograd-lab grade --seed N`` scores that submission the same.
``allow_unjailed`` records that the instructor accepts unjailed kernels where the container
cannot make a jail; without it such a container grades nothing and says why.
"""

from __future__ import annotations

import json
import secrets
import string
import tempfile
import zipfile
from pathlib import Path

from autograd_lab.grading.export.autograder import CONFIG, STUDENT_USER
from autograd_lab.grading.export.wheel import CELL_TIMEOUT, TEMPLATES, TORCH_INDEX, TORCH_SPEC, build_wheel
from autograd_lab.grading.grade import Grader
from autograd_lab.grading.sandbox import MEMORY_MB

TIME_LIMIT = 600  # seconds: Gradescope's default limit per submission


def build_zip(master: Path, output: Path, *, seed: int | None = None, wheel: Path | None = None,
              torch: str = TORCH_SPEC, torch_index: str = TORCH_INDEX, cell_timeout: float = CELL_TIMEOUT,
              allow_unjailed: bool = False) -> dict:
    """Write the autograder zip for ``master`` to ``output``; the configuration it records.

    The master is run once first (``Grader``): a master that fails its own checks is refused here,
    not discovered at the first student's submission.
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    with Grader(master, seed=seed, cell_timeout=cell_timeout) as grader:
        exercise = grader.exercise
    config = {"assignment": exercise.name, "master": f"master/{Path(master).name}", "points": exercise.points,
              "seed": seed, "cell_timeout": cell_timeout, "memory_mb": MEMORY_MB, "time_limit": TIME_LIMIT,
              "allow_unjailed": allow_unjailed}
    shell = (f'TORCH_SPEC="${{TORCH_SPEC:-{torch}}}"\nTORCH_INDEX="${{TORCH_INDEX:-{torch_index}}}"\n'
             f'STUDENT_USER="${{STUDENT_USER:-{STUDENT_USER}}}"\n')
    readme = string.Template((TEMPLATES / "gradescope" / "README.md").read_text(encoding="utf-8"))
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograd-lab-export-") as tmp:
        built = build_wheel(Path(tmp), wheel)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("setup.sh", "run_autograder"):
                _add(archive, name, (TEMPLATES / "gradescope" / name).read_bytes(), 0o755)
            _add(archive, "config.sh", b"# Read by setup.sh; each value can be overridden from the environment.\n"
                 + shell.encode())
            _add(archive, CONFIG, json.dumps(config, indent=2).encode() + b"\n")
            _add(archive, config["master"], Path(master).read_bytes())
            _add(archive, f"wheels/{built.name}", built.read_bytes())
            _add(archive, "README.md", readme.substitute(config, torch=torch, torch_index=torch_index,
                                                         allow_unjailed="yes" if allow_unjailed else "no").encode())
    return config


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    """A file in the zip with Unix permissions (Gradescope runs the scripts as they are unpacked)."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr, info.compress_type = (0o100000 | mode) << 16, zipfile.ZIP_DEFLATED
    archive.writestr(info, data)

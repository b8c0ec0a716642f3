"""Our package as a wheel, and the torch a service installs next to it.

An export carries the wheel of the code that graded locally, so Gradescope and Classroom give
the same scores as ``autograd-lab grade``. It is built from this source tree (a copy of it, so
two exports at once do not share a build folder), or taken from ``--wheel``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograd_lab.grading.export import ExportError

# The torch the tests here run against (the Makefile's TORCH), from PyTorch's CPU-only index: a bare
# `torch` from the default index is a multi-GB CUDA build, useless in a grading container.
TORCH_SPEC = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# Seconds per cell on a service: Gradescope gives half a CPU by default, where importing torch in the
# first check cell alone can take 10 s (the local grader's 10 s would fail honest work there).
CELL_TIMEOUT = 30.0
TEMPLATES = Path(__file__).resolve().parent / "templates"
_PROJECT = Path(__file__).resolve().parents[3]


def build_wheel(dest: Path, wheel: Path | None = None) -> Path:
    """Copy ``wheel`` into ``dest``, or build ours there; the wheel's path in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if wheel is not None:
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise ExportError(f"{wheel}: not a wheel file")
        return Path(shutil.copy2(wheel, dest))
    if not (_PROJECT / "pyproject.toml").is_file():
        raise ExportError("autograd_lab is installed without its source tree, so no wheel can be built here: "
                          "pass --wheel autograd_lab-VERSION-py3-none-any.whl")
    with tempfile.TemporaryDirectory(prefix="autograd-lab-wheel-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(_PROJECT / name, source / name)
        shutil.copytree(_PROJECT / "autograd_lab", source / "autograd_lab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                   "-w", str(Path(tmp) / "dist"), str(source)]
        try:
            import setuptools  # noqa: F401  (present: build offline, without an isolated build environment)

            command.insert(4, "--no-build-isolation")
        except ImportError:
            pass
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        built = sorted((Path(tmp) / "dist").glob("autograd_lab-*.whl"))
        if done.returncode != 0 or len(built) != 1:
            raise ExportError(f"building our wheel failed: {(done.stderr or done.stdout).strip()[-2000:]}")
        return Path(shutil.copy2(built[0], dest))

"""autograd-lab export gradescope: the zip, installed and run here as Gradescope would, on crafted submissions.

The zip is built once (exercise 02, seed 42) and unpacked into a temporary folder laid out as
/autograder (the scripts take it from AUTOGRADER_ROOT). setup.sh runs with this project's venv
as the prepared venv (so no apt and no torch download; our wheel from the zip is installed) and
``nobody`` as the student user (so no user is added to this machine). Then, as Gradescope's
harness does, each submission goes into submission/ and run_autograder runs as root in the
root folder. Every results.json is validated against a JSON Schema written from Gradescope's
specification, and each score is compared with a local ``autograd-lab grade`` of the same file
with the same seed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograd_lab.cli import main
from autograd_lab.grading.export import autograder
from tests.grading.crafting import SOLUTIONS, submission
from tests.grading.test_grade import FORGE_MEASUREMENTS

MASTER = SOLUTIONS / "02_mul.ipynb"
SEED = 42
TIMEOUT = "60"  # seconds per cell, there and in the local grade: generous, so a busy machine cannot time a cell out
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
STUDENT_USER = "nobody"  # exists here: setup.sh adds no user
GRADED_LOCALLY = ("full", "blank", "wrong", "corrupt", "reads_the_master", "forges_measurements")

# The student who can read the master gets the right answer (here: its Mul); one who cannot keeps the wrong one.
# It also tries to leave a file in results/. (codecs.open: the review holds the builtin open, and this tests the jail.)
READ_THE_MASTER = """
import codecs
try:
    leaked = codecs.open({master!r}).read()
except OSError:
    leaked = None
try:
    codecs.open({forged!r}, "w").write('{{"score": 100}}')
except OSError:
    pass
if leaked is not None:
{correct}
"""


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "02_mul.zip"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["export", "gradescope", str(MASTER), "-o", str(out), "--seed", str(SEED), "--timeout",
                     TIMEOUT]) == 0
    return out


def unpack(archive: Path, folder: Path) -> None:
    """Unpack as Gradescope does, with the permissions recorded in the zip."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            z.extract(info, folder)
            if info.external_attr >> 16:
                (folder / info.filename).chmod((info.external_attr >> 16) & 0o777)


def install(archive: Path, extra_env: dict[str, str] | None = None):
    """A folder laid out as /autograder (readable by others, as / is) with setup.sh run; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-root-"))
    folder.chmod(0o755)
    unpack(archive, folder / "source")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "AUTOGRADER_ROOT": str(folder),
           "AUTOGRADER_BASE_VENV": sys.prefix, "STUDENT_USER": STUDENT_USER, **(extra_env or {})}
    done = subprocess.run(["bash", str(folder / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    shutil.copy2(folder / "source" / "run_autograder", folder / "run_autograder")  # the harness does this
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def root(gradescope_zip):
    yield from install(gradescope_zip)


def run_autograder(root: Path, files: dict[str, bytes], extra_env: dict[str, str] | None = None) -> dict:
    """One Gradescope run: a fresh submission/ and results/, run_autograder as root; what it left."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    for name, data in files.items():
        (root / "submission" / name).write_bytes(data)
    (root / "submission_metadata.json").write_text(json.dumps({"id": 1, "users": [{"name": "A Student"}]}))
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "AUTOGRADER_ROOT": str(root), "STUDENT_USER": STUDENT_USER,
           **(extra_env or {})}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    results = json.loads((root / "results" / "results.json").read_text())
    return {"results": results, "stdout": done.stdout + done.stderr, "status": done.returncode,
            "left": sorted(p.name for p in (root / "results").iterdir())}


def notebook(answer: str | None) -> bytes:
    return json.dumps(submission("02_mul", {} if answer is None else {"mul": answer})).encode()


@pytest.fixture(scope="module")
def cases(root, mul_correct, mul_wrong) -> dict[str, bytes | dict[str, bytes]]:
    attack = mul_wrong + READ_THE_MASTER.format(master=str(root / "source" / "master" / "02_mul.ipynb"),
                                                forged=str(root / "results" / "forged.json"),
                                                correct=textwrap.indent(mul_correct, "    "))
    return {"full": notebook(mul_correct), "blank": notebook(None), "wrong": notebook(mul_wrong),
            "corrupt": notebook(mul_correct)[:500], "reads_the_master": notebook(attack),
            "forges_measurements": notebook(mul_wrong + FORGE_MEASUREMENTS),
            "two_notebooks": {"02_mul.ipynb": notebook(mul_correct), "02_mul (1).ipynb": notebook(mul_wrong)},
            "no_notebook": {"mul.py": mul_correct.encode()}}


@pytest.fixture(scope="module")
def runs(root, cases) -> dict[str, dict]:
    return {name: run_autograder(root, files if isinstance(files, dict) else {"02_mul.ipynb": files})
            for name, files in cases.items()}


@pytest.fixture(scope="module")
def local(cases, tmp_path_factory) -> dict[str, float]:
    """``autograd-lab grade`` here, same files, same seed: the total per submission."""
    folder = tmp_path_factory.mktemp("local")
    paths = [folder / f"{name}.ipynb" for name in GRADED_LOCALLY]
    for path in paths:
        path.write_bytes(cases[path.stem])
    out, stderr = folder / "out", io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(MASTER), *map(str, paths), "-o", str(out), "--seed", str(SEED), "-j", "2",
                       "--timeout", TIMEOUT])
    assert status == 0, stderr.getvalue()
    with (out / "grades.csv").open() as f:
        return {r["student"]: float(r["total"]) for r in csv.DictReader(f) if r["student"] != "POINTS POSSIBLE"}


def test_the_zip_has_the_two_scripts_at_its_root_executable(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as z:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        wheel = next(n for n in modes if n.startswith("wheels/autograd_lab-") and n.endswith(".whl"))
        with zipfile.ZipFile(io.BytesIO(z.read(wheel))) as w:
            packaged = set(w.namelist())
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {"autograder.json", "config.sh", "README.md", "master/02_mul.ipynb"} <= set(modes)
    # the scripts the exports ship are package data: an installed wheel can export too
    assert {f"autograd_lab/grading/export/templates/{t}" for t in ("gradescope/setup.sh", "classroom/check.sh")} \
        <= packaged


def test_the_readme_says_torch_needs_more_memory_than_the_default(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as z:
        readme = z.read("README.md").decode()
    assert "768 MB" in readme and "2.5 GB" in readme


@pytest.mark.parametrize("case", [*GRADED_LOCALLY, "two_notebooks", "no_notebook"])
def test_every_run_writes_a_results_json_that_follows_gradescopes_format(runs, case):
    jsonschema.validate(runs[case]["results"], SCHEMA)
    assert runs[case]["status"] == 0 and runs[case]["left"] == ["results.json"]


@pytest.mark.parametrize("case", GRADED_LOCALLY)
def test_each_score_equals_the_local_grade_of_the_same_submission_with_the_same_seed(runs, local, case):
    assert runs[case]["results"]["score"] == local[case]


def test_the_master_answer_earns_everything_and_the_blank_exercise_nothing(runs):
    assert (runs["full"]["results"]["score"], runs["blank"]["results"]["score"]) == (10, 0)
    assert 0 < runs["wrong"]["results"]["score"] < 10


def test_one_test_per_check_with_hidden_checks_shown_after_publishing(runs):
    tests = runs["wrong"]["results"]["tests"]
    assert [(t["name"], t["max_score"], t["visibility"]) for t in tests] == [
        ("mul-forward", 1, "visible"), ("mul-backward", 3, "visible"), ("mul-flag", 2, "visible"),
        ("mul-hidden-shapes (hidden check)", 2, "after_published"),
        ("mul-hidden-flag (hidden check)", 2, "after_published")]
    assert all(t["status"] == ("passed" if t["score"] == t["max_score"] else "failed") for t in tests)
    assert runs["wrong"]["results"]["stdout_visibility"] == "hidden"


@pytest.mark.parametrize(("case", "message"), [
    ("no_notebook", "there is no notebook (.ipynb) in your submission: upload your 02_mul.ipynb"),
    ("two_notebooks", "your submission has 2 notebooks (02_mul (1).ipynb, 02_mul.ipynb): upload only your "
                      "02_mul.ipynb"),
    ("corrupt", "02_mul.ipynb is not a notebook (invalid JSON")])
def test_a_submission_that_cannot_be_graded_says_why_and_scores_zero(runs, case, message):
    results = runs[case]["results"]
    assert results["score"] == 0 and message in results["output"]
    assert len(results["tests"]) == 5 and all(message in t["output"] for t in results["tests"])


def test_student_code_can_neither_read_the_master_nor_write_the_results(runs, local):
    # reading the master would have given it the right Mul (10 points); it keeps the wrong one's score
    assert runs["reads_the_master"]["results"]["score"] == runs["wrong"]["results"]["score"] < 10
    assert runs["reads_the_master"]["left"] == ["results.json"]  # no forged.json beside it


def test_student_code_runs_in_the_jail_as_the_student_user_where_the_host_allows_it(runs):
    assert f"kernels run in a bubblewrap jail as user {STUDENT_USER}" in runs["full"]["stdout"]


def test_without_user_namespaces_kernels_run_unjailed_as_the_student_user(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_LAB_BWRAP", "/bin/false")  # a bwrap that cannot make a jail
    with contextlib.redirect_stdout(io.StringIO()) as said:
        jail, account = autograder.kernel_confinement(STUDENT_USER, allow_unjailed=True)
    nobody = pwd.getpwnam(STUDENT_USER)
    assert (jail, account) == (None, (nobody.pw_uid, nobody.pw_gid))
    assert f"kernels run unjailed as {STUDENT_USER}" in said.getvalue()


def others_can_run(path: Path) -> bool:
    """Can a user with no rights of its own run this file (every folder above it searchable by others)?"""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def system_python() -> Path | None:
    """A Python of this version that every user can run (as Gradescope's /usr/bin/python3 is), if there is one."""
    for folder in ("/usr/bin", "/usr/local/bin"):
        python = Path(folder) / f"python{sys.version_info.major}.{sys.version_info.minor}"
        if python.exists() and others_can_run(python):
            return python
    return None


@pytest.fixture(scope="module")
def unjailed_root(gradescope_zip):
    """A second /autograder whose venv runs a system Python, so that an unprivileged, unjailed kernel can start."""
    python = system_python()
    if python is None:
        pytest.skip(f"no python{sys.version_info.major}.{sys.version_info.minor} that other users can run here: an "
                    "unprivileged kernel cannot start without the jail (on Gradescope, Python is /usr/bin/python3)")
    for folder in install(gradescope_zip, {"AUTOGRADER_PYTHON": str(python)}):
        config = folder / "source" / autograder.CONFIG  # as exported with --allow-unjailed
        config.write_text(json.dumps({**json.loads(config.read_text()), "allow_unjailed": True}))
        yield folder


def test_unjailed_the_student_user_still_cannot_read_the_master(unjailed_root, root, cases, runs):
    attack = cases["reads_the_master"].replace(str(root).encode(), str(unjailed_root).encode())  # its master
    run = run_autograder(unjailed_root, {"02_mul.ipynb": attack}, {"AUTOGRAD_LAB_BWRAP": "/bin/false"})
    assert f"kernels run unjailed as {STUDENT_USER}" in run["stdout"]
    jsonschema.validate(run["results"], SCHEMA)
    assert run["results"]["score"] == runs["wrong"]["results"]["score"] and run["left"] == ["results.json"]


def test_code_that_tampers_with_the_checker_is_held_for_review_with_its_flags_for_the_instructor(runs):
    run = runs["forges_measurements"]
    assert run["results"]["score"] == 0 and "held for review" in run["results"]["output"]
    assert "review: solution cell 1, line" in run["stdout"] and "measure_function" in run["stdout"]


def test_the_master_and_the_results_are_roots_alone(root, runs):
    assert (root / "source").stat().st_mode & 0o077 == 0
    assert (root / "results").stat().st_mode & 0o077 == 0


def test_when_grading_breaks_the_result_is_still_valid_and_says_so(tmp_path):
    (tmp_path / "submission").mkdir()  # no source/: nothing to grade with
    with contextlib.redirect_stdout(io.StringIO()):
        assert autograder.main(["--root", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0 and results["tests"][0]["name"] == "autograder error"


def test_when_python_cannot_even_start_run_autograder_still_writes_a_valid_result(root, tmp_path):
    shutil.copy2(root / "run_autograder", tmp_path / "run_autograder")  # a root without source/ and venv/
    env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(tmp_path)}
    done = subprocess.run([str(tmp_path / "run_autograder")], cwd=tmp_path, env=env, capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["tests"][0]["name"] == "autograder error"


def test_run_time_is_reported(runs):
    assert all(isinstance(r["results"]["execution_time"], int) for r in runs.values())


def test_the_command_refuses_a_master_it_cannot_read(tmp_path):
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        assert main(["export", "gradescope", str(tmp_path / "missing.ipynb"), "-o", str(tmp_path / "x.zip")]) == 2
    assert "missing.ipynb: cannot read it" in stderr.getvalue() and not (tmp_path / "x.zip").exists()

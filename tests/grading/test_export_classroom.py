"""autograd-lab export classroom: the template repository, its workflow, and the workflow run here as Classroom would.

The template is exported once. Its workflow is parsed and checked against the contracts of
Classroom's actions (autograding-command-grader: a step passes, with its max-score, when its
command exits 0; autograding-grading-reporter: reads each step's result from <ID>_RESULTS).
Then each step's setup-command and command run as the command grader runs them: /bin/sh in the
repository, an environment of only PATH and HOME. PATH leads to this project's venv, so
setup.sh finds torch there and installs only the template's wheel (offline). Three student
repositories, run for two exercises (each exercise's notebook runs once per push, a few seconds):
both done (the masters' answers), none done, and exercise 02 half right.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograd_lab.cli import main
from autograd_lab.grading.notebook import Exercise
from tests.grading.crafting import EXERCISES, SOLUTIONS, master_solution, save, submission

NAMES = sorted(p.stem for p in EXERCISES.glob("*.ipynb"))
GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
SEED = 42
TIMEOUT = "60"  # seconds per cell, there and in the local grade: generous, so a busy machine cannot time a cell out
SIMULATED = sorted({"02_mul", NAMES[-1]})  # the exercises whose steps are run


def full_answers(name: str) -> dict[str, str]:
    master = Exercise.load(SOLUTIONS / f"{name}.ipynb")
    ids = [master.cells[i]["id"] for i in master.solution_cells]
    return {cell_id: master_solution(name, cell_id) for cell_id in ids}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "classroom-template"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["export", "classroom", "-o", str(out), "--exercises", str(EXERCISES), "--timeout", TIMEOUT]) == 0
    return out


@pytest.fixture(scope="module")
def workflow(template) -> dict:
    return yaml.safe_load((template / ".github" / "workflows" / "classroom.yml").read_text())


@pytest.fixture(scope="module")
def steps(workflow) -> list[dict]:
    return workflow["jobs"]["run-autograding-tests"]["steps"]


def graded(steps: list[dict]) -> list[dict]:
    return [s for s in steps if s.get("uses") == GRADER]


def run_like_the_command_grader(step: dict, repo: Path, home: Path) -> str:
    """What the command grader puts in its `result` output: base64 of its JSON (pass/fail by exit code)."""
    inputs = step["with"]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}
    status, output = "pass", ""
    for command in (inputs.get("setup-command"), inputs["command"]):
        if not command:
            continue
        done = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=float(inputs["timeout"]) * 60, check=False)
        output += done.stdout + done.stderr
        if done.returncode != 0:
            status = "fail"
            break
    max_score = int(inputs["max-score"])
    result = {"version": 1, "status": status, "max_score": max_score,
              "tests": [{"name": inputs["test-name"], "status": status, "score": max_score if status == "pass" else 0,
                         "message": output, "test_code": inputs["command"], "filename": "", "line_no": 0,
                         "duration": 0}]}
    return base64.b64encode(json.dumps(result).encode()).decode()


def report_like_the_reporter(reporter: dict, outputs: dict[str, str]) -> dict[str, dict]:
    """The reporter's reading: for each runner id, the JSON in the env var its step's output went to."""
    results = {}
    for runner in reporter["with"]["runners"].split(","):
        reference = reporter["env"][f"{runner.strip().upper()}_RESULTS"]
        assert reference == f"${{{{steps.{runner}.outputs.result}}}}"
        results[runner] = json.loads(base64.b64decode(outputs[runner]))
    return results


@pytest.fixture(scope="module")
def repositories(template, steps, tmp_path_factory, mul_wrong) -> dict[str, dict[str, dict]]:
    """Three students' repositories made from the template, their chosen exercises' steps run; the reporter's view."""
    home = tmp_path_factory.mktemp("runner-home")  # one runner: the venv setup.sh installs serves every run
    contents = {"full": {n: full_answers(n) for n in SIMULATED}, "blank": {},
                "wrong_mul": {"02_mul": {"mul": mul_wrong}}}
    chosen = {"full": SIMULATED, "blank": SIMULATED, "wrong_mul": ["02_mul"]}
    reports = {}
    for student, answers in contents.items():
        repo = tmp_path_factory.mktemp(student) / "repo"
        shutil.copytree(template, repo)
        for name, cells in answers.items():
            save(submission(name, cells), repo / "exercises" / f"{name}.ipynb")
        ran = [s for s in graded(steps) if notebook(s).stem in chosen[student]]
        outputs = {s["id"]: run_like_the_command_grader(s, repo, home) for s in ran}
        reporter = {**steps[-1], "with": {"runners": ",".join(s["id"] for s in ran)}}
        reports[student] = report_like_the_reporter(reporter, outputs)
    return reports


def notebook(step: dict) -> Path:
    return Path(step["with"]["command"].split()[-2])


def points(results: dict) -> float:
    return sum(t["score"] for t in results["tests"])


# ----- the workflow's form -----------------------------------------------------------------------------
def test_the_workflow_runs_on_push_with_classrooms_permissions(workflow):
    assert "push" in workflow["on"]
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert list(workflow["jobs"]) == ["run-autograding-tests"]


def test_the_repository_is_checked_out_first_and_the_reporter_runs_last(steps):
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[-1]["uses"] == REPORTER
    assert all(s["uses"] == GRADER for s in steps[1:-1])


def test_there_is_one_step_per_public_check_with_its_points(steps):
    expected = [(f"exercises/{n}.ipynb", c.id, c.points) for n in NAMES
                for c in Exercise.load(EXERCISES / f"{n}.ipynb").checks]
    found = [(s["with"]["command"].split()[-2], s["with"]["command"].split()[-1], s["with"]["max-score"])
             for s in graded(steps)]
    assert found == expected
    assert all(isinstance(s["with"]["max-score"], int) for s in graded(steps))  # the grader reads it with parseInt


def test_each_step_has_the_command_graders_inputs(steps):
    for step in graded(steps):
        assert set(step["with"]) <= {"test-name", "setup-command", "command", "timeout", "max-score"}
        assert {"test-name", "command", "timeout", "max-score"} <= set(step["with"])
        assert 0 < float(step["with"]["timeout"]) <= 360  # minutes; the grader's limit is 6 hours


def test_the_reporter_reads_every_steps_result_under_its_id(steps):
    ids = [s["id"] for s in graded(steps)]
    reporter = steps[-1]
    assert len(set(ids)) == len(ids)
    assert reporter["with"]["runners"].split(",") == ids
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids}


def test_no_hidden_check_is_in_the_template(template):
    for path in template.rglob("*.ipynb"):
        assert not any(c.hidden for c in Exercise.load(path).checks), path
    for name in NAMES:
        assert (template / "exercises" / f"{name}.ipynb").read_bytes() == (EXERCISES / f"{name}.ipynb").read_bytes()


def test_the_readme_tells_students_who_grades_the_hidden_checks(template):
    readme = (template / "README.md").read_text()
    assert "Hidden checks" in readme and "autograd-lab grade" in readme
    assert all(f"exercises/{n}.ipynb" in readme for n in NAMES)


# ----- the workflow, run -------------------------------------------------------------------------------
def test_every_result_has_the_shape_the_reporter_reads(repositories):
    for results in (r for student in repositories.values() for r in student.values()):
        assert results["version"] == 1 and results["status"] in ("pass", "fail")
        assert isinstance(results["max_score"], int) and len(results["tests"]) == 1
        assert {"name", "status", "score", "message", "test_code"} <= set(results["tests"][0])


def test_a_repository_with_every_exercise_done_earns_every_public_point(repositories):
    full = repositories["full"]
    assert all(r["status"] == "pass" for r in full.values()), \
        {k: r["tests"][0]["message"] for k, r in full.items() if r["status"] != "pass"}
    assert sum(points(r) for r in full.values()) == sum(Exercise.load(EXERCISES / f"{n}.ipynb").points
                                                        for n in SIMULATED)


def test_the_untouched_template_earns_nothing(repositories):
    blank = repositories["blank"]
    assert all(r["status"] == "fail" for r in blank.values())
    assert sum(points(r) for r in blank.values()) == 0
    assert "not done yet" in next(iter(blank.values()))["tests"][0]["message"]


def test_each_step_passes_exactly_when_local_grade_gives_that_check_its_points(repositories, mul_wrong, tmp_path):
    # exercise 02 half right: some public checks pass, some fail; grade the same notebook locally
    notebook = save(submission("02_mul", {"mul": mul_wrong}), tmp_path / "wrong_mul.ipynb")
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(SOLUTIONS / "02_mul.ipynb"), str(notebook), "-o", str(tmp_path / "out"),
                       "--seed", str(SEED), "--timeout", TIMEOUT])
    assert status == 0, stderr.getvalue()
    with (tmp_path / "out" / "grades.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["student"] == "wrong_mul")
    classroom = {r["tests"][0]["name"].split()[-1]: points(r) for r in repositories["wrong_mul"].values()}
    assert classroom == {check: float(row[check]) for check in classroom}
    assert 0 < sum(classroom.values()) < sum(r["max_score"] for r in repositories["wrong_mul"].values())


# ----- what the command refuses ------------------------------------------------------------------------
def test_the_command_refuses_a_folder_that_is_not_empty_and_one_without_exercises(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    (tmp_path / "no-exercises").mkdir()
    for output, exercises, says in ((tmp_path / "used", EXERCISES, "is not empty"),
                                    (tmp_path / "new", tmp_path / "no-exercises", "no exercise notebooks")):
        stderr = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            assert main(["export", "classroom", "-o", str(output), "--exercises", str(exercises)]) == 2
        assert says in stderr.getvalue()
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine" and not (tmp_path / "new").exists()

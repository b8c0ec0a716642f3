"""The jail ``autograd-lab grade`` runs kernels in: the threat catalogue (issue 9), as an attacker who read our source.

Two kinds of evidence. ``probe`` runs one jailed kernel whose cells look around and report what
they saw (files, processes, network, limits), so a test can compare it with the host. ``batch``
grades crafted submissions of exercise 02_mul through the command line, once: each attack is a
solution cell, and the test looks at the gradebook and at the host afterwards (files, processes,
a listening socket). The same thief, graded with ``--no-jail``, scores full marks: the jail, not
luck, is what stops it. Attacks that could hurt this machine if the jail were missing (killing
every process, a fork bomb) first check that they are in a small PID namespace.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograd_lab.cli import main
from autograd_lab.grading import jail as jail_module
from autograd_lab.grading.jail import FILE_MB, PROCESSES, SCRATCH_MB, Jail, JailError
from autograd_lab.grading.sandbox import run_cells
from tests.grading.crafting import ROOT, SOLUTIONS, save, submission

MASTER = SOLUTIONS / "02_mul.ipynb"
MARKER = f"autograd-lab-jail-test-{os.getpid()}"
IN_A_JAIL = "len([p for p in os.listdir('/proc') if p.isdigit()]) < 20"  # safety net: never on the real machine

THIEF = """
import codecs, contextlib, glob, json, os
def _notebooks():
    yield from CANDIDATES  # the real absolute paths, as someone who read our source would guess them
    for cmdline in glob.glob("/proc/*/cmdline"):  # the grader's command line names the master
        with contextlib.suppress(OSError):
            yield from (a for a in codecs.open(cmdline, "r", "latin-1").read().split("\\0") if a.endswith(".ipynb"))
    for top in os.listdir("/"):
        if top not in ("proc", "dev", "sys", "usr"):
            for folder, subfolders, files in os.walk("/" + top):
                subfolders[:] = [s for s in subfolders if s not in ("site-packages", "lib", "include")]
                yield from (os.path.join(folder, f) for f in files if f.endswith(".ipynb"))
def _steal():
    for path in _notebooks():
        try:
            cells = json.loads(codecs.open(path, "r", "utf-8").read())["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for cell in cells:
            text = "".join(cell.get("source", ""))
            if cell.get("id") == "mul" and "def backward" in text and "NotImplementedError" not in text:
                with codecs.open("stolen.py", "w", "utf-8") as f:
                    f.write("from autograd_lab.autograd import Function\\n" + text)
                return True
    return False
if _steal():
    import stolen  # the kernel's folder is on its path (runpy would be held by the review: this tests the jail)
    Mul = stolen.Mul
"""
VANDAL = """
import codecs, glob
for path in glob.glob(FOLDER + "/*.ipynb") + glob.glob("/proc/*/cwd/*.ipynb"):
    if "vandal" not in path:
        try:
            codecs.open(path, "w", "utf-8").write("{}")
        except OSError:
            pass
"""
KILLER = """
import os, signal
for pid in (GRADER_PID, os.getppid()):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
if IN_A_JAIL:
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os.kill(-1, signal.SIGKILL)  # everything it may signal, itself included
"""
ORPHAN = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", MARKER])
    os._exit(0)
os.wait()
"""
WRITER = """
import codecs
for path in TARGETS:
    try:
        codecs.open(path, "w", "utf-8").write("written from a kernel")
    except OSError:
        pass
"""
NETWORK = """
import socket
for address in (("127.0.0.1", PORT), ("1.1.1.1", 80)):
    try:
        socket.create_connection(address, timeout=2).sendall(b"hello")
    except OSError:
        pass
"""
FORK_BOMB = """
import os, time
if IN_A_JAIL:
    try:
        while True:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
    except OSError:
        pass
"""
FILLER = """
import codecs
for path in ("/scratch/fill", "/tmp/fill"):
    try:
        with codecs.open(path, "wb") as f:
            for _ in range(10_000):
                f.write(b"x" * 2**20)
    except OSError:
        pass
"""


def attack(code: str, **values) -> str:
    for name, value in values.items():
        code = code.replace(name, repr(value) if name != "IN_A_JAIL" else value)
    return code


def stub() -> str:
    """The solution cell as students get it: an attack built on it scores only what it steals."""
    return next("".join(c["source"]) for c in submission("02_mul", {})["cells"] if c.get("id") == "mul")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def live_processes_with(text: str, wait: float = 5.0) -> list[str]:
    """Host processes whose command line contains ``text``, after giving dying jails ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                if text in cmdline and entry.name != str(os.getpid()):
                    found.append(f"{entry.name}: {cmdline[:200]}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture(scope="module")
def jail() -> Jail:
    return Jail.find()


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback: records every connection a kernel manages to make."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    connections: list[str] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connections.append(str(server.accept()[1]))

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


# ----- what a jailed kernel sees and may do ---------------------------------------------------------
LOOK_AROUND = [
    "import json, os, socket\n"
    "try:\n"
    "    init = open('/proc/1/environ').read()  # bwrap's own environment\n"
    "except OSError:\n"
    "    init = ''\n"
    "print(json.dumps({'uid': os.getuid(), 'cwd': os.getcwd(), 'home': os.environ['HOME'], 'init': init,\n"
    "                  'processes': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),\n"
    "                  'environment': dict(os.environ)}))",
    "seen = {'notebooks': [], 'course': [], 'package': False}\n"
    "for folder, subfolders, names in os.walk('/'):\n"
    "    if folder in ('/proc', '/dev'):\n"
    "        subfolders[:] = []\n"
    "    for path in [os.path.join(folder, n) for n in subfolders + names]:\n"
    "        seen['package'] |= path == ROOT + '/autograd_lab/__init__.py'\n"
    "        if path.endswith('.ipynb'):\n"
    "            seen['notebooks'].append(path)\n"
    "        if path.startswith(ROOT + '/') and not path.startswith((ROOT + '/autograd_lab', ROOT + '/.venv')):\n"
    "            seen['course'].append(path)\n"
    "print(json.dumps(seen))",
    "import sys\n"
    "connection = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
    "written = []\n"
    "for path in [*TARGETS, os.path.join(connection, 'x')]:  # the connection folder is the host's too\n"
    "    try:\n"
    "        open(path, 'w').write('x')\n"
    "        written.append(path)\n"
    "    except OSError:\n"
    "        pass\n"
    "print(json.dumps({'written': written, 'connection': os.path.join(connection, 'x')}))",
    "connected = []\n"
    "for address in (('127.0.0.1', PORT), ('1.1.1.1', 80)):\n"
    "    try:\n"
    "        socket.create_connection(address, timeout=2)\n"
    "        connected.append(address)\n"
    "    except OSError as error:\n"
    "        pass\n"
    "print(json.dumps(connected))",
    "sizes = {}\n"
    "for path in ('/scratch/fill', '/tmp/fill', '/scratch/many'):\n"
    "    written = 0\n"
    "    try:\n"
    "        if path.endswith('many'):\n"
    "            for k in range(1000):\n"
    "                with open(f'{path}{k}', 'wb') as f:\n"
    "                    f.write(b'x' * 2**20)\n"
    "                written += 2**20\n"
    "        else:\n"
    "            with open(path, 'wb') as f:\n"
    "                for _ in range(1000):\n"
    "                    written += f.write(b'x' * 2**20)\n"
    "    except OSError:\n"
    "        pass\n"
    "    sizes[path] = written\n"
    "print(json.dumps(sizes))",
    "import sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', MARKER])\n"
    "    os._exit(0)\n"
    "os.wait()\n"
    "children = 0\n"
    "try:\n"
    "    while IN_A_JAIL:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(20)\n"
    "            os._exit(0)\n"
    "        children += 1\n"
    "except OSError:\n"
    "    pass\n"
    "print(children)",
]


@pytest.fixture(scope="module")
def probe(jail, listener, tmp_path_factory):
    """One jailed kernel's report of what it saw and did, cell by cell, and the host folder it aimed at."""
    host = tmp_path_factory.mktemp("host")
    targets = [str(host / "written"), str(SOLUTIONS / MARKER), str(ROOT / "autograd_lab" / MARKER),
               f"{sys.prefix}/{MARKER}", f"/{MARKER}", f"/etc/{MARKER}"]
    cells = [attack(c, TARGETS=targets, PORT=listener[0], MARKER=MARKER, ROOT=str(ROOT), IN_A_JAIL=IN_A_JAIL)
             for c in LOOK_AROUND]
    run = run_cells(cells, cell_timeout=60, jail=jail)
    assert run.problem is None and all(c.error is None for c in run.cells), [c.error for c in run.cells]
    return {"run": run, "host": host, "targets": targets, "outputs": [c.text for c in run.cells]}


def test_the_kernel_runs_as_an_unprivileged_user_in_an_empty_scratch_folder(probe):
    seen = json.loads(probe["outputs"][0])
    assert seen["uid"] != 0 and seen["cwd"] == seen["home"] == "/scratch"


def test_the_kernel_sees_only_its_own_processes(probe):
    assert len(json.loads(probe["outputs"][0])["processes"]) <= 3  # bwrap's init, the kernel, maybe a child


def test_the_kernel_inherits_none_of_the_graders_environment(probe):
    seen = json.loads(probe["outputs"][0])
    assert not any(str(MASTER) in v or "PYTEST" in k for k, v in seen["environment"].items())
    assert "PYTEST" not in seen["init"]


def test_no_notebook_nor_course_folder_is_visible_anywhere_in_the_jail(probe):
    seen = json.loads(probe["outputs"][1])
    assert seen["package"]  # the walk does reach the course folder's package, which the kernel needs
    assert (seen["notebooks"], seen["course"]) == ([], [])


def test_writes_outside_the_scratch_folder_fail_and_reach_nothing_on_the_host(probe):
    report = json.loads(probe["outputs"][2])
    # A grader that is not root shares its user with its kernels, which may write in their connection folder.
    assert report["written"] == ([] if os.geteuid() == 0 else [report["connection"]])
    assert [t for t in probe["targets"] if os.path.exists(t)] == []


def test_the_network_is_unreachable(probe, listener):
    assert json.loads(probe["outputs"][3]) == []
    assert listener[1] == []


def test_filling_the_disk_stops_at_the_scratch_size(probe):
    sizes = json.loads(probe["outputs"][4])
    assert 0 < sizes["/scratch/fill"] <= FILE_MB * 2**20  # one file: RLIMIT_FSIZE
    assert 0 < sizes["/tmp/fill"] <= SCRATCH_MB * 2**20
    assert sizes["/scratch/fill"] + sizes["/scratch/many"] <= SCRATCH_MB * 2**20  # many files: the tmpfs size


def test_a_fork_bomb_is_bounded(probe):
    assert 0 < int(probe["outputs"][5]) < PROCESSES


def test_no_process_started_in_the_jail_outlives_it(probe):
    assert live_processes_with(MARKER) == []


def test_run_as_names_the_host_user_the_kernel_runs_as():
    if os.geteuid() != 0:
        pytest.skip("--run-as needs a grader running as root")  # this machine's tests run as root
    import pwd

    daemon = pwd.getpwnam("daemon")
    run = run_cells(["import os; print(os.getuid(), os.getgid(), os.getgroups())"], jail=Jail.find(run_as="daemon"))
    assert run.cells[0].text == f"{daemon.pw_uid} {daemon.pw_gid} []\n"


def test_run_as_refuses_root_and_unknown_users():
    if os.geteuid() != 0:
        pytest.skip("--run-as needs a grader running as root")
    with pytest.raises(JailError, match="must not run as root"):
        Jail.find(run_as="root")
    with pytest.raises(JailError, match="no user named"):
        Jail.find(run_as="no-such-user-here")


AS_ANOTHER_USER = """
import os, subprocess, sys, tempfile
sys.path.insert(0, GRADING)
import jail
found = jail.Jail.find()
bomb = ("import os, time\\nn = 0\\ntry:\\n    while IN_A_JAIL and n < 200:\\n        if os.fork() == 0:\\n"
        "            time.sleep(3)\\n            os._exit(0)\\n        n += 1\\nexcept OSError:\\n    pass\\n"
        "print(os.getuid(), os.getcwd(), n)")
with tempfile.TemporaryDirectory() as folder:
    launch = jail.Launch(found, [sys.executable, "-c", bomb], folder, memory_mb=512, cpu_seconds=20)
    print(found.uid, subprocess.run(launch.argv, pass_fds=launch.pass_fds, capture_output=True, text=True).stdout)
"""


def world_readable(path: Path) -> bool:
    return all(p.stat().st_mode & 0o005 == 0o005 for p in [path, *path.parents])


def test_a_grader_that_is_not_root_jails_kernels_as_itself_with_the_process_cap(jail):
    """Run the jail from the system's Python as ``nobody``: bwrap then maps that user itself."""
    python, setpriv = Path("/usr/bin/python3"), shutil.which("setpriv")
    grading = Path(jail_module.__file__).parent
    if os.geteuid() != 0 or not setpriv or not python.exists() or not world_readable(grading) or \
            not world_readable(Path(jail.bwrap)):
        pytest.skip("needs root, setpriv, /usr/bin/python3, and this checkout and bwrap readable by everyone")
    code = attack(AS_ANOTHER_USER, GRADING=str(grading), IN_A_JAIL=IN_A_JAIL)
    done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(python), "-c", code],
                          check=False, capture_output=True, text=True, cwd="/", timeout=120,
                          env={"AUTOGRAD_LAB_BWRAP": jail.bwrap})
    assert done.returncode == 0, done.stderr
    mapped_by, uid, cwd, forks = done.stdout.split()
    assert (mapped_by, uid, cwd) == ("None", "65534", "/scratch")  # bwrap's own mapping: the grader's user
    assert 0 < int(forks) < PROCESSES


# ----- the threat catalogue: crafted submissions graded through the command line ---------------------
def grade(*args: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(MASTER), *args])
    return status, stdout.getvalue(), stderr.getvalue()


def rows(out: Path) -> dict[str, dict]:
    with (out / "grades.csv").open() as f:
        return {r["student"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, mul_correct, mul_wrong, listener):
    folder = tmp_path_factory.mktemp("submissions")
    host = tmp_path_factory.mktemp("host")
    targets = [str(host / "written"), str(folder / "written"), str(SOLUTIONS / MARKER), f"/tmp/{MARKER}",
               str(Path.home() / MARKER)]
    correct_path = folder / "correct.ipynb"
    answers = {
        "correct": mul_correct, "wrong": mul_wrong,
        "thief": stub() + attack(THIEF, CANDIDATES=[str(MASTER), str(ROOT / "solutions" / "02_mul.ipynb")]),
        "reader": stub() + attack(THIEF, CANDIDATES=[str(correct_path)]),
        "vandal": mul_correct + attack(VANDAL, FOLDER=str(folder)),
        "killer": mul_correct + attack(KILLER, GRADER_PID=os.getpid(), IN_A_JAIL=IN_A_JAIL),
        "orphan": mul_correct + attack(ORPHAN, MARKER=MARKER),
        "writer": mul_correct + attack(WRITER, TARGETS=targets),
        "network": mul_correct + attack(NETWORK, PORT=listener[0]),
        "fork_bomb": mul_correct + attack(FORK_BOMB, IN_A_JAIL=IN_A_JAIL),
        "filler": mul_correct + attack(FILLER),
    }
    paths = [save(submission("02_mul", {"mul": code}), folder / f"{name}.ipynb") for name, code in answers.items()]
    before = {p.name: digest(p) for p in paths}
    out = tmp_path_factory.mktemp("out")
    status, stdout, stderr = grade(*map(str, paths), "-o", str(out), "-j", "2", "--seed", "3", "--timeout", "20")
    assert status == 0, stderr
    return {"rows": rows(out), "out": out, "stdout": stdout, "paths": paths, "before": before,
            "targets": targets, "host": host}


def test_grade_says_which_bwrap_jails_the_kernels(batch):
    assert "kernels run in a bubblewrap jail as user" in batch["stdout"] and "bwrap: " in batch["stdout"]


def test_the_honest_submissions_score_as_without_attackers(batch):
    assert (float(batch["rows"]["correct"]["total"]), float(batch["rows"]["wrong"]["total"])) == (10, 5)


def test_every_submission_gets_a_graded_row_whatever_the_others_did(batch):
    assert {name: r["status"] for name, r in batch["rows"].items() if name != "POINTS POSSIBLE"} == \
        {p.stem: "graded" for p in batch["paths"]}


def test_a_thief_finds_no_master_and_scores_zero(batch):
    assert float(batch["rows"]["thief"]["total"]) == 0


def test_reading_another_submission_finds_nothing_and_scores_zero(batch):
    assert float(batch["rows"]["reader"]["total"]) == 0


def test_a_vandal_changes_no_other_submission(batch):
    assert {p.name: digest(p) for p in batch["paths"]} == batch["before"]


def test_a_killer_reaches_neither_the_grader_nor_the_batch(batch):
    assert os.getpid() and len(batch["rows"]) == len(batch["paths"]) + 1  # we are the grader: still here


def test_no_process_a_submission_started_outlives_the_batch(batch):
    assert live_processes_with(MARKER) == []


def test_files_written_outside_the_scratch_folder_appear_nowhere_on_the_host(batch):
    assert [t for t in batch["targets"] if os.path.exists(t)] == []


def test_no_connection_reaches_the_host(batch, listener):
    assert listener[1] == []


def test_a_fork_bomb_and_a_disk_filler_cost_only_their_own_marks(batch):
    for name in ("fork_bomb", "filler"):
        assert batch["rows"][name]["status"] == "graded"


# ----- without a jail, and where there can be none -----------------------------------------------------
def test_no_jail_warns_marks_the_gradebook_and_the_thief_then_succeeds(tmp_path, mul_correct):
    thief = save(submission("02_mul", {"mul": stub() + attack(THIEF, CANDIDATES=[str(MASTER)])}),
                 tmp_path / "thief.ipynb")
    status, _, stderr = grade(str(thief), "-o", str(tmp_path / "out"), "--seed", "3", "--timeout", "30", "--no-jail")
    assert status == 0 and "WARNING: --no-jail" in stderr
    row = rows(tmp_path / "out")["thief"]
    assert row["status"] == "graded without a jail"
    assert float(row["total"]) == 10  # the same attack the jail stops: it is the jail that stops it
    assert "Graded without a jail" in (tmp_path / "out" / "review.md").read_text()


BLOCKED_BWRAP = """#!/bin/sh
echo 'bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged \
user namespaces.' >&2
exit 1
"""


def test_a_host_without_user_namespaces_is_refused_with_how_to_enable_them(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text(BLOCKED_BWRAP)
    fake.chmod(0o755)
    monkeypatch.setenv("AUTOGRAD_LAB_BWRAP", str(fake))
    status, _, stderr = grade(str(MASTER), "-o", str(tmp_path / "out"))
    assert status == 2
    assert "does not allow non-privileged user namespaces" in stderr
    assert "sysctl -w user.max_user_namespaces" in stderr and "--no-jail" in stderr
    assert not (tmp_path / "out").exists()


# ----- Ctrl-C -------------------------------------------------------------------------------------
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_writes_a_partial_gradebook_and_leaves_no_process_nor_temporary_folder(tmp_path, mul_correct, stop):
    slow = mul_correct + "\nimport time\ntime.sleep(60)\n"
    paths = [save(submission("02_mul", {"mul": mul_correct}), tmp_path / "a_fast.ipynb")]
    paths += [save(submission("02_mul", {"mul": slow}), tmp_path / f"b_slow_{k}.ipynb") for k in range(3)]
    temporary = Path(tempfile.mkdtemp(prefix="al-"))  # short: ipc socket paths have a length limit
    grader = subprocess.Popen([sys.executable, "-m", "autograd_lab.cli", "grade", str(MASTER), *map(str, paths),
                               "-o", str(tmp_path / "out"), "--seed", "3", "--timeout", "90"],
                              env={**os.environ, "TMPDIR": str(temporary)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, cwd=ROOT)
    progress = b""
    deadline = time.monotonic() + 240
    while b"grading    1/4" not in progress and time.monotonic() < deadline and grader.poll() is None:
        if select.select([grader.stderr], [], [], 1)[0]:
            progress += os.read(grader.stderr.fileno(), 4096)
    time.sleep(2)  # the next submission's kernel is running now
    grader.send_signal(stop)
    stdout, stderr = grader.communicate(timeout=60)
    assert grader.returncode == 130, (progress + stderr).decode()
    table = rows(tmp_path / "out")
    assert table["a_fast"]["status"] == "graded" and float(table["a_fast"]["total"]) == 10
    for k in range(3):
        assert table[f"b_slow_{k}"]["status"].startswith("could not grade: the grading was interrupted")
    assert "b_slow_2" in (tmp_path / "out" / "review.md").read_text()
    assert live_processes_with(str(temporary)) == []
    assert list(temporary.iterdir()) == []
    temporary.rmdir()

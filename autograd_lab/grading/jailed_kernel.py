"""Inside the jail, before the kernel: become the jailed user, take the limits, then become the kernel.

bwrap runs ``python -I -S jailed_kernel.py SPEC KERNEL...`` (``grading.jail.Launch``). It imports
only what it needs, so a jailed start costs little more than bwrap's own. SPEC says who to become
(when the grader is root, this process is the namespace's root, which only sets the jail up),
the scratch and connection folders, and the resource limits.
"""

import json
import os
import resource
import sys


def enter(spec: dict, command: list[str]) -> None:
    """Become the jailed user (handing it the scratch folders), take the limits, run ``command``."""
    if spec["uid"] is not None:
        uid, gid = spec["uid"], spec["gid"]
        for path in (spec["scratch"], "/tmp"):
            os.chown(path, uid, gid)
        # The connection folder stays root's: the kernel may add its sockets until it is ready, and
        # then `Launch.ready` closes it, so the kernel cannot fill the host's disk through it.
        folder = spec["connection_dir"]
        os.chmod(folder, 0o733)
        for name in os.listdir(folder):
            if os.path.isfile(os.path.join(folder, name)):
                os.chmod(os.path.join(folder, name), 0o644)  # the connection file
        cap_shared_memory(spec["limits"]["RLIMIT_AS"])  # while still the namespace's root
        forbid_user_namespaces()
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    for name, value in spec["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    os.closerange(3, spec["limits"]["RLIMIT_NOFILE"])  # bwrap's pipes stay outside
    os.execv(command[0], command)


def cap_shared_memory(limit: int) -> None:
    """System V shared memory is not counted in RLIMIT_AS: cap the jail's own IPC namespace at the same size."""
    page = os.sysconf("SC_PAGE_SIZE")
    for name, value in (("shmmax", limit), ("shmall", limit // page), ("shmmni", 16)):
        with open(f"/proc/sys/kernel/{name}", "w") as sysctl:
            sysctl.write(str(value))


def forbid_user_namespaces() -> None:
    """No nested user namespace: in one, the kernel would be root again and could mount a tmpfs past every cap.

    A grader that is not root has bwrap's ``--disable-userns`` instead (bwrap cannot combine it with
    the mapping a root grader makes).
    """
    with open("/proc/sys/user/max_user_namespaces", "w") as sysctl:
        sysctl.write("0")


if __name__ == "__main__":
    enter(json.loads(sys.argv[1]), sys.argv[2:])

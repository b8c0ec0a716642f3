"""The kernel ``grade`` and ``check`` run notebooks in: ipykernel, without its debugger.

ipykernel imports debugpy as it starts, to offer a debugger no grading run uses: a sixth of a
kernel's start-up, paid by every submission. Here ``import debugpy`` fails, so ipykernel starts
without it (the notebook cannot import it either). Everything else is ipykernel's own launcher.
"""

import sys


def not_dumpable() -> None:
    """A process the notebook starts (``!cmd``, subprocess) runs as the kernel's user: it must not attach to
    the kernel (ptrace, /proc/PID/mem) to change its measurements where the review cannot see the code."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0


if __name__ == "__main__":
    not_dumpable()
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # ipykernel then runs without a debugger
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()

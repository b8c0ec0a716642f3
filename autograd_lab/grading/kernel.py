"""The kernel ``grade`` and ``check`` run notebooks in: ipykernel, without its debugger.

ipykernel imports debugpy as it starts, to offer a debugger no grading run uses: a sixth of a
kernel's start-up, paid by every submission. Here ``import debugpy`` fails, so ipykernel starts
without it (the notebook cannot import it either). Everything else is ipykernel's own launcher.
"""

import sys

if __name__ == "__main__":
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # ipykernel then runs without a debugger
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()

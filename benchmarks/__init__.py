"""Benchmarks: autograd_lab measured side by side with torch and peers (``make bench``).

Single-threaded everywhere, so the comparison is about the engines, not the thread pools:
the variables below must be set before NumPy or torch is imported.
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

"""Exercises and grading: masters in ``solutions/`` become student notebooks, checked and graded.

- ``notebook``: what an exercise notebook is made of (solution cells, check cells, the rest);
- ``assign``: ``autograd-lab assign`` writes ``exercises/`` from the masters;
- ``sandbox``: runs a notebook's cells in a fresh kernel with per-cell timeouts and a memory cap;
- ``jail``: the bubblewrap jail ``grade`` runs each kernel in (namespaces, read-only view, limits);
- ``selfcheck``: ``autograd-lab check``, the public checks of one notebook, with a score;
- ``grade``: ``autograd-lab grade``, a whole class against the master; ``review`` flags code that
  tampers with the checker; ``reports`` writes the gradebook, feedback and Gradescope files.

Checks measure in the kernel and are judged outside it (``autograd_lab.check.judge``).
"""

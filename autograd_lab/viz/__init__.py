"""See the graph: ``draw(tensor)`` as SVG, and ``GraphStepper`` to watch forward and backward one node at a time.

Both read any tensor's graph — autograd_lab's or a real torch tensor's — through
``autograd_lab.graph``. Nothing here is imported by ``import autograd_lab``, and
ipywidgets is imported only when a stepper is made.
"""

from autograd_lab.viz.stepper import GraphStepper
from autograd_lab.viz.svg import GraphDrawing, draw

__all__ = ["GraphDrawing", "GraphStepper", "draw"]

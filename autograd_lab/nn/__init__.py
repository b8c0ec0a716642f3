"""autograd_lab.nn: just enough of torch.nn to build small models and train chosen layers."""

from autograd_lab.nn import functional, init
from autograd_lab.nn.modules import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Flatten,
    Linear,
    Module,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from autograd_lab.nn.parameter import Parameter

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "Linear", "MSELoss", "Module", "Parameter", "ReLU",
           "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init"]

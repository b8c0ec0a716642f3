"""The layer classes (torch.nn.modules)."""

from autograd_lab.nn.modules.activation import ReLU, Sigmoid, Softmax, Tanh
from autograd_lab.nn.modules.container import Sequential
from autograd_lab.nn.modules.flatten import Flatten
from autograd_lab.nn.modules.linear import Linear
from autograd_lab.nn.modules.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from autograd_lab.nn.modules.module import Module

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "Linear", "MSELoss", "Module", "ReLU", "Sequential",
           "Sigmoid", "Softmax", "Tanh"]

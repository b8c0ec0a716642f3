"""autograd_lab.nn: just enough of torch.nn to build small models and train chosen layers."""

from autograd_lab.nn import functional, init, utils
from autograd_lab.nn.modules import (
    LSTM,
    BatchNorm1d,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    L1Loss,
    LeakyReLU,
    Linear,
    LogSoftmax,
    LSTMCell,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    ParameterDict,
    ParameterList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from autograd_lab.nn.parallel import DataParallel
from autograd_lab.nn.parameter import Parameter

__all__ = [
    "LSTM", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "DataParallel", "Dropout", "Embedding",
    "Flatten", "Identity", "L1Loss", "LSTMCell", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "Parameter", "ParameterDict", "ParameterList", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "functional", "init", "utils",
]

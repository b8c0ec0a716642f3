"""The layer classes (torch.nn.modules)."""

from autograd_lab.nn.modules.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from autograd_lab.nn.modules.batchnorm import BatchNorm1d
from autograd_lab.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from autograd_lab.nn.modules.distance import CosineSimilarity, PairwiseDistance
from autograd_lab.nn.modules.dropout import Dropout
from autograd_lab.nn.modules.flatten import Flatten
from autograd_lab.nn.modules.linear import Linear
from autograd_lab.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.modules.normalization import LayerNorm
from autograd_lab.nn.modules.rnn import LSTM, LSTMCell
from autograd_lab.nn.modules.sparse import Embedding

__all__ = [
    "CELU", "ELU", "GELU", "GLU", "LSTM", "SELU", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CosineSimilarity",
    "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
    "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid",
    "LogSoftmax", "MSELoss", "Mish", "Module", "ModuleDict", "ModuleList", "NLLLoss", "PairwiseDistance",
    "ParameterDict", "ParameterList", "ReLU", "ReLU6", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax",
    "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold",
]

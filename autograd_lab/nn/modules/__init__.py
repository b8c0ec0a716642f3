"""The layer classes (torch.nn.modules)."""

from autograd_lab.nn.modules.activation import Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from autograd_lab.nn.modules.batchnorm import BatchNorm1d
from autograd_lab.nn.modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from autograd_lab.nn.modules.dropout import Dropout
from autograd_lab.nn.modules.flatten import Flatten
from autograd_lab.nn.modules.linear import Linear
from autograd_lab.nn.modules.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.modules.rnn import LSTM, LSTMCell
from autograd_lab.nn.modules.sparse import Embedding

__all__ = [
    "LSTM", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten",
    "Identity", "L1Loss", "LSTMCell", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "ParameterDict", "ParameterList", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh",
]

"""torch.optim: update rules that move parameters against their gradients (SGD, Adam, RMSprop, ...)."""

from autograd_lab.optim import lr_scheduler
from autograd_lab.optim.adadelta import Adadelta
from autograd_lab.optim.adagrad import Adagrad
from autograd_lab.optim.adam import Adam, AdamW
from autograd_lab.optim.optimizer import Optimizer
from autograd_lab.optim.rmsprop import RMSprop
from autograd_lab.optim.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]

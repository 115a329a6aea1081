"""Losses as first-class objects: the catalogue, the base class and the registry.

Importing this package compiles nothing; each loss's kernels are generated and
compiled (or loaded from numba's disk cache) on first use.
"""

from ._base import BaseLoss, NonFiniteLossError
from ._batch import BatchLoss
from ._registry import LossInfo, available_losses, get_loss, register_alias, register_loss
from .composite import Asymmetric, PerOutput, WeightedSum
from .custom import CustomLoss, custom_loss, make_loss
from .asymmetric import LINEX, Expectile, Quantile
from .binary import Exponential, Focal, Hinge, LogLoss, ModifiedHuber, SquaredHinge
from .deviance import Gamma, Poisson, Tweedie
from .distribution import KLDivergence, SoftCrossEntropy
from .embedding import Contrastive, NTXent, SupCon, TripletMargin
from .multiclass import CrossEntropy, MulticlassFocal, MulticlassHinge
from .ordinal import CORAL, CORN, AllThreshold, CumulativeLink, ImmediateThreshold
from .boxes import CIoU, DIoU, GIoU
from .lovasz import LovaszHinge, LovaszSoftmax
from .overlap import FocalTversky, SoftDice, SoftF1, SoftFBeta, SoftJaccard, Tversky
from .regression import AbsoluteError, EpsilonInsensitive, SquaredEpsilonInsensitive, SquaredError
from .robust import GeneralRobust, Huber, LogCosh, PseudoHuber, SmoothL1

__all__ = [
    "AbsoluteError",
    "AllThreshold",
    "Asymmetric",
    "BaseLoss",
    "BatchLoss",
    "CIoU",
    "Contrastive",
    "CORAL",
    "CORN",
    "CrossEntropy",
    "CumulativeLink",
    "CustomLoss",
    "DIoU",
    "EpsilonInsensitive",
    "Expectile",
    "Exponential",
    "Focal",
    "FocalTversky",
    "GIoU",
    "Gamma",
    "GeneralRobust",
    "Hinge",
    "Huber",
    "ImmediateThreshold",
    "KLDivergence",
    "LINEX",
    "LogCosh",
    "LogLoss",
    "LossInfo",
    "LovaszHinge",
    "LovaszSoftmax",
    "ModifiedHuber",
    "MulticlassFocal",
    "MulticlassHinge",
    "NTXent",
    "NonFiniteLossError",
    "PerOutput",
    "Poisson",
    "PseudoHuber",
    "Quantile",
    "SmoothL1",
    "SoftCrossEntropy",
    "SoftDice",
    "SoftF1",
    "SoftFBeta",
    "SoftJaccard",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "SquaredHinge",
    "SupCon",
    "TripletMargin",
    "Tversky",
    "Tweedie",
    "WeightedSum",
    "available_losses",
    "custom_loss",
    "get_loss",
    "make_loss",
    "register_alias",
    "register_loss",
]

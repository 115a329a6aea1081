import numpy as np
import pytest

from sklearn_losses import available_losses
from sklearn_losses.losses import (
    AllThreshold, CumulativeLink, ImmediateThreshold, SquaredHinge,
    LINEX, CrossEntropy, EpsilonInsensitive, Expectile, Focal, GeneralRobust, Hinge, Huber,
    LogLoss, MulticlassFocal, MulticlassHinge, PseudoHuber, Quantile, SmoothL1, SoftF1, Tweedie,
    Contrastive, NTXent, SupCon, TripletMargin,
    CIoU, DIoU, FocalTversky, GIoU, LovaszSoftmax, SoftDice, SoftFBeta, SoftJaccard, Tversky,
)

#: Non-default hyperparameters, including every special case of a formula.
EXTRA_CASES = [
    *(GeneralRobust(alpha=a) for a in (-np.inf, -2.0, 0.0, 0.5, 1.5, 2.0, 3.0)),
    GeneralRobust(alpha=1.0, scale=0.3),
    *(Tweedie(power=p) for p in (-1.0, 1.0, 1.5, 2.0, 3.0)),
    Focal(gamma=0.0),
    Focal(gamma=0.5, alpha=0.25),
    LogLoss(pos_weight=3.0),
    CrossEntropy(label_smoothing=0.1),
    MulticlassHinge(kind="weston_watkins"),
    MulticlassFocal(gamma=0.0),
    MulticlassFocal(gamma=0.5),
    Huber(delta=0.3),
    Quantile(quantile=0.9),
    SmoothL1(beta=0.0),
    SmoothL1(beta=2.0),
    LINEX(a=-0.7),
    Expectile(expectile=0.2),
    EpsilonInsensitive(epsilon=0.0),
    Hinge(margin=0.0),
    PseudoHuber(delta=0.1),
    SoftF1(beta=2.0),
    SoftF1(beta=0.5),
    SoftFBeta(beta=2.0, smooth=1.0),
    SoftDice(smooth=1.0, log_loss=True),
    SoftDice(eps=0.0),
    SoftJaccard(smooth=0.5, log_loss=True),
    Tversky(alpha=0.3, beta=0.7, smooth=1.0),
    Tversky(alpha=0.0, beta=1.0),
    FocalTversky(gamma=1.5),
    FocalTversky(alpha=0.3, beta=0.7, gamma=0.75, smooth=1.0),
    LovaszSoftmax(classes="all"),
    GIoU(box_format="xyxy"),
    DIoU(box_format="xyxy"),
    CIoU(box_format="xyxy"),
    CumulativeLink(distribution="probit"),
    CumulativeLink(distribution="cloglog"),
    AllThreshold(base="hinge", threshold_weights="squared"),
    AllThreshold(base=SquaredHinge(), threshold_weights="absolute"),
    ImmediateThreshold(base="hinge"),
    Contrastive(pos_margin=0.1, neg_margin=0.8, average="all"),
    Contrastive(pos_margin=-0.9, neg_margin=-0.2, distance="cosine", normalize=False),
    *(TripletMargin(mining=m) for m in ("hard", "semihard", "batch_hard")),
    TripletMargin(margin=0.3, mining="semihard", mining_margin=0.5, average="all", distance="cosine"),
    TripletMargin(mining_margin=np.inf, average="all", normalize=False),
    NTXent(temperature=0.5, distance="euclidean", average="nonzero"),
    NTXent(normalize=False),
    SupCon(temperature=0.3, average="all", distance="euclidean"),
    SupCon(normalize=False),
]

DEFAULT_CASES = [info.cls() for info in available_losses()]
ALL_CASES = DEFAULT_CASES + EXTRA_CASES


def case_id(loss):
    return repr(loss).replace(" ", "")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_collection_modifyitems(config, items):
    """Keep the tests of one loss class on one xdist worker (``--dist loadgroup``).

    A loss's kernels are compiled per class (hyperparameters are runtime
    arguments): grouping by class compiles each once instead of once per
    worker, which is most of the time of a run with a cold kernel cache.
    """
    from sklearn_losses.losses import BaseLoss, get_loss

    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        loss = params.get("loss", params.get("name"))
        if isinstance(loss, str):
            try:
                loss = get_loss(loss)
            except (ValueError, TypeError):
                continue
        if isinstance(loss, BaseLoss):
            item.add_marker(pytest.mark.xdist_group(type(loss).__name__))

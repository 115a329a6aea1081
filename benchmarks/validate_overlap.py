"""Overlap and box losses against segmentation-models-pytorch, MONAI and torchvision: values and gradients.

Each reference loss is evaluated in float64 (the Lovász losses of
segmentation-models-pytorch in float32, the precision they compute their
weights in) on the same logits and targets,
its gradient taken by autograd with respect to the logits (the box losses':
with respect to the predicted corners, our ``box_format="xyxy"``); ours are
``loss_gradient`` with ``reduction="mean"`` (``"none"`` for the box losses,
whose references reduce per box). Reports the largest relative difference of
the values and of the gradients for every pair; a library that is not
installed is skipped.

The batches give every label positives: segmentation-models-pytorch zeroes
the loss of a label without positives, and ours keeps its documented value
(see :mod:`sklearn_losses.losses.overlap`).

The PyPI wheel of torchvision links CUDA libraries; where its compiled
extension cannot load (a CPU-only torch), the script imports torchvision's
pure-Python box-loss modules (``torchvision/ops/*_loss.py``) without it, and
likewise segmentation-models-pytorch's ``losses`` package without its model
zoo (which imports torchvision).

Run:  python benchmarks/validate_overlap.py     (needs the bench extra: torch, and any of the three)
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

from sklearn_losses.losses import (CIoU, DIoU, FocalTversky, GIoU, LovaszHinge, LovaszSoftmax, SoftDice,
                                   SoftJaccard, Tversky)

try:
    import torch
except ImportError:  # pragma: no cover - the bench extra
    sys.exit("validate_overlap.py needs torch (pip install 'sklearn-losses[bench]').")


def _package_without_init(name, submodules=()):
    """Import ``name``'s submodules with the package's ``__init__`` replaced by an empty module."""
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    root = Path(spec.origin).parent
    for module in [name, *submodules]:
        if module in sys.modules:
            continue
        package = types.ModuleType(module)
        package.__path__ = [str(root.joinpath(*module.split(".")[1:]))]
        sys.modules[module] = package
    return root


def load_smp_losses():
    try:
        from segmentation_models_pytorch import losses

        return losses
    except ImportError:
        return None
    except RuntimeError:  # torchvision's compiled extension (imported by the model zoo) does not load
        for key in [k for k in sys.modules if k.startswith(("segmentation_models_pytorch", "torchvision"))]:
            del sys.modules[key]
        _package_without_init("segmentation_models_pytorch")
        return importlib.import_module("segmentation_models_pytorch.losses")


def load_torchvision_box_losses():
    try:
        from torchvision import ops

        return ops.generalized_box_iou_loss, ops.distance_box_iou_loss, ops.complete_box_iou_loss
    except ImportError:
        return None
    except RuntimeError:
        for key in [k for k in sys.modules if k.startswith("torchvision")]:
            del sys.modules[key]
        if _package_without_init("torchvision", ["torchvision.ops"]) is None:
            return None
        utils = types.ModuleType("torchvision.utils")
        utils._log_api_usage_once = lambda obj: None
        sys.modules["torchvision.utils"] = utils
        return (importlib.import_module("torchvision.ops.giou_loss").generalized_box_iou_loss,
                importlib.import_module("torchvision.ops.diou_loss").distance_box_iou_loss,
                importlib.import_module("torchvision.ops.ciou_loss").complete_box_iou_loss)


def load_monai_losses():
    try:
        from monai import losses

        return losses
    except ImportError:
        return None


def relative(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def reference_overlap(torch_loss, y, raw, shape):
    """Value and gradient (in the logits) of a torch loss on logits of ``shape`` built from ``raw``.

    float64, except segmentation-models-pytorch's Lovász losses, which build their weights in float32.
    """
    dtype = torch.float32 if "Lovasz" in type(torch_loss).__name__ else torch.float64
    logits = torch.tensor(raw.reshape(shape), dtype=dtype, requires_grad=True)
    target = torch.tensor(y.reshape(shape), dtype=dtype)
    value = torch_loss(logits, target)
    value.backward()
    return float(value.detach()), logits.grad.numpy().reshape(raw.shape)


def overlap_rows(rng):
    n, labels = 4000, 3
    Y = (rng.random((n, labels)) < [0.05, 0.2, 0.5]).astype(float)
    R = 1.5 * rng.normal(size=(n, labels)) + 2.0 * (Y - 0.5)
    y, r = Y[:, 0], R[:, 0]
    rows = []
    smp, monai = load_smp_losses(), load_monai_losses()
    if smp is not None:
        # binary mode: (N, 1, n) logits; multilabel mode: (N=n, C) as (n, C, 1)
        for ours, theirs, mode in [
            (SoftDice(), smp.DiceLoss("binary", from_logits=True, smooth=0.0, eps=1e-7), "binary"),
            # segmentation-models-pytorch 0.6 computes Dice as Tversky(0.5, 0.5), smooth added to TP: its
            # smooth=s is SoftDice(smooth=2s) (see sklearn_losses.losses.overlap)
            (SoftDice(smooth=2.0, log_loss=True), smp.DiceLoss("binary", log_loss=True, smooth=1.0), "binary"),
            (SoftDice(smooth=2.0), smp.DiceLoss("multilabel", smooth=1.0), "multilabel"),
            (SoftJaccard(), smp.JaccardLoss("binary", smooth=0.0), "binary"),
            (SoftJaccard(smooth=0.5), smp.JaccardLoss("multilabel", smooth=0.5), "multilabel"),
            (Tversky(alpha=0.3, beta=0.7), smp.TverskyLoss("binary", alpha=0.3, beta=0.7), "binary"),
            (Tversky(alpha=0.7, beta=0.3, smooth=1.0), smp.TverskyLoss("multilabel", alpha=0.7, beta=0.3, smooth=1.0),
             "multilabel"),
            # one label: smp's gamma (on the mean over labels) is the per-label gamma
            (FocalTversky(alpha=0.3, beta=0.7, gamma=0.75),
             smp.TverskyLoss("binary", alpha=0.3, beta=0.7, gamma=0.75), "binary"),
            (LovaszHinge(), smp.LovaszLoss("binary", per_image=False), "binary"),
        ]:
            yy, rr = (y, r) if mode == "binary" else (Y, R)
            shape = (1, 1, yy.size) if mode == "binary" else (yy.shape[0], yy.shape[1], 1)
            value, grad = reference_overlap(theirs, yy, rr, shape)
            ours_value, ours_grad = ours.loss_gradient(yy, rr)
            rows.append(("segmentation-models-pytorch", f"{type(theirs).__name__}({mode})", repr(ours),
                         relative(ours_value, value), relative(ours_grad, grad)))
        labels_k = rng.integers(0, 4, n)
        scores = rng.normal(size=(n, 4)) + 2.0 * np.eye(4)[labels_k]
        logits = torch.tensor(scores.T[None, :, :, None], dtype=torch.float32, requires_grad=True)  # (1, K, n, 1)
        value = smp.LovaszLoss("multiclass", per_image=False)(logits, torch.tensor(labels_k[None, :, None]))
        value.backward()
        grad = logits.grad.numpy()[0, :, :, 0].T
        ours_value, ours_grad = LovaszSoftmax().loss_gradient(labels_k.astype(float), scores)
        rows.append(("segmentation-models-pytorch", "LovaszLoss(multiclass)", repr(LovaszSoftmax()),
                     relative(ours_value, float(value.detach())), relative(ours_grad, grad)))
    if monai is not None:
        for ours, theirs in [
            (SoftDice(smooth=1e-5), monai.DiceLoss(sigmoid=True, batch=True, smooth_nr=1e-5, smooth_dr=1e-5)),
            (SoftDice(smooth=1.0), monai.DiceLoss(sigmoid=True, batch=True, smooth_nr=1.0, smooth_dr=1.0)),
            (Tversky(alpha=0.3, beta=0.7, smooth=1e-5),
             monai.TverskyLoss(sigmoid=True, batch=True, alpha=0.3, beta=0.7, smooth_nr=1e-5, smooth_dr=1e-5)),
        ]:
            value, grad = reference_overlap(theirs, Y, R, (Y.shape[0], Y.shape[1], 1))
            ours_value, ours_grad = ours.loss_gradient(Y, R)
            rows.append(("MONAI", f"{type(theirs).__name__}(batch=True)", repr(ours),
                         relative(ours_value, value), relative(ours_grad, grad)))
    return rows


def box_rows(rng):
    functions = load_torchvision_box_losses()
    if functions is None:
        return []
    n = 2000
    centre, size = rng.normal(size=(n, 2)), np.exp(0.5 * rng.normal(size=(n, 2)))
    T = np.column_stack([centre - size / 2, centre + size / 2])
    shift, resize = 0.7 * rng.normal(size=(n, 2)), np.exp(0.4 * rng.normal(size=(n, 2)))
    P = np.column_stack([centre + shift - resize * size / 2, centre + shift + resize * size / 2])
    rows = []
    for ours, theirs in zip((GIoU("xyxy"), DIoU("xyxy"), CIoU("xyxy")), functions):
        boxes = torch.tensor(P, dtype=torch.float64, requires_grad=True)
        value = theirs(boxes, torch.tensor(T, dtype=torch.float64), reduction="none", eps=0.0)
        value.sum().backward()
        ours_value, ours_grad = ours.loss_gradient(T, P, reduction="none")
        rows.append(("torchvision", theirs.__name__, repr(ours), relative(ours_value, value.detach().numpy()),
                     relative(ours_grad, boxes.grad.numpy())))
    return rows


def main():
    rng = np.random.default_rng(0)
    rows = overlap_rows(rng) + box_rows(rng)
    if not rows:
        sys.exit("none of segmentation-models-pytorch, MONAI, torchvision is installed.")
    print(f"{'library':28s} {'reference':30s} {'ours':45s} {'value rel.':>11s} {'gradient rel.':>14s}")
    for library, reference, ours, value, grad in rows:
        print(f"{library:28s} {reference:30s} {ours:45s} {value:11.2e} {grad:14.2e}")
    print("\nCIoU: torchvision holds alpha = v / (1 - IoU + v) constant under autograd (ours differentiate it: the "
          "exact derivative of the value), and its DIoU part adds eps = 1e-7 whatever eps is passed.\n"
          "Lovász: segmentation-models-pytorch computes in float32 (a tie of two errors in float32 may order them "
          "differently: another subgradient).")


if __name__ == "__main__":
    main()

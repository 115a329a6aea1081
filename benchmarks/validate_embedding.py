"""Agreement of the embedding losses with pytorch-metric-learning's losses and miners.

Run in an environment with the ``bench`` extra (torch, pytorch-metric-learning)::

    python benchmarks/validate_embedding.py

For each setting: random labelled embeddings (float64), the loss value and
the gradient in the embeddings from our loss and from pytorch-metric-learning
(torch autograd), and their largest relative difference. Settings cover every
loss, both distances, both averages and every miner; pytorch-metric-learning's
miners are passed to its loss as ``indices_tuple``. Unit weights only
(pytorch-metric-learning has no sample weights).
"""

import platform
import sys

import numpy as np

try:
    import torch
    from pytorch_metric_learning import distances, losses, miners, reducers, __version__ as pml_version
except ImportError:  # pragma: no cover - optional
    sys.exit("validate_embedding.py needs torch and pytorch-metric-learning (pip install 'sklearn-losses[bench]').")

from sklearn_losses.losses import Contrastive, NTXent, SupCon, TripletMargin


def _distance(name):
    return distances.LpDistance(normalize_embeddings=True) if name == "euclidean" else distances.CosineSimilarity()


def _reducer(average):
    return reducers.AvgNonZeroReducer() if average == "nonzero" else reducers.MeanReducer()


def settings():
    """``(description, our loss, pml loss, pml miner or None)``."""
    out = []
    for distance in ("euclidean", "cosine"):
        for average in ("nonzero", "all"):
            if distance == "euclidean":
                ours, pos, neg = Contrastive(0.1, 0.9, distance, True, average), 0.1, 0.9
            else:  # margins on similarities: ours in units of -s
                ours, pos, neg = Contrastive(-0.7, -0.3, distance, True, average), 0.7, 0.3
            out.append((f"Contrastive {distance} {average}", ours,
                        losses.ContrastiveLoss(pos, neg, distance=_distance(distance), reducer=_reducer(average)), None))
            for mining in ("all", "hard", "semihard", "batch_hard"):
                margin = 0.2 if distance == "euclidean" else 0.1
                ours = TripletMargin(margin, mining, None, distance, True, average)
                pml = losses.TripletMarginLoss(margin=margin, distance=_distance(distance), reducer=_reducer(average))
                miner = (miners.BatchHardMiner(distance=_distance(distance)) if mining == "batch_hard" else
                         miners.TripletMarginMiner(margin=margin, type_of_triplets=mining,
                                                   distance=_distance(distance)))
                out.append((f"TripletMargin {distance} {average} mining={mining}", ours, pml, miner))
            out.append((f"TripletMargin {distance} {average} no miner",
                        TripletMargin(0.2, "all", np.inf, distance, True, average),
                        losses.TripletMarginLoss(margin=0.2, distance=_distance(distance), reducer=_reducer(average)),
                        None))
            for temperature in (0.07, 0.5):
                out.append((f"NTXent {distance} {average} tau={temperature}",
                            NTXent(temperature, distance, True, average),
                            losses.NTXentLoss(temperature, distance=_distance(distance), reducer=_reducer(average)),
                            None))
                out.append((f"SupCon {distance} {average} tau={temperature}",
                            SupCon(temperature, distance, True, average),
                            losses.SupConLoss(temperature, distance=_distance(distance), reducer=_reducer(average)),
                            None))
    return out


def compare(ours, pml, miner, y, r):
    value, grad = ours.loss_gradient(y, r)
    emb = torch.tensor(r, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor(y)
    indices = miner(emb, labels) if miner is not None else None
    reference = pml(emb, labels, indices)
    reference.backward()
    ref_value, ref_grad = float(reference.detach()), emb.grad.numpy()
    scale = max(abs(ref_value), 1e-300)
    gscale = max(float(np.max(np.abs(ref_grad))), 1e-300)
    return abs(value - ref_value) / scale, float(np.max(np.abs(grad - ref_grad))) / gscale


def main():
    print(f"python {platform.python_version()}, torch {torch.__version__}, pytorch-metric-learning {pml_version}, "
          f"{platform.processor() or platform.machine()}")
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, k, n), rng.normal(size=(n, d))) for n, k, d in ((32, 4, 8), (128, 10, 16),
                                                                               (200, 3, 2))]
    worst_value = worst_grad = 0.0
    print(f"{'setting':55s} {'value rel. diff':>16s} {'gradient rel. diff':>19s}")
    for name, ours, pml, miner in settings():
        diffs = [compare(ours, pml, miner, y, r) for y, r in batches]
        v, g = max(d[0] for d in diffs), max(d[1] for d in diffs)
        worst_value, worst_grad = max(worst_value, v), max(worst_grad, g)
        print(f"{name:55s} {v:16.2e} {g:19.2e}")
    print(f"largest: value {worst_value:.2e}, gradient {worst_grad:.2e}")


if __name__ == "__main__":
    main()

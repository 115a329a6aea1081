"""Small real datasets that ship with the package (for examples, the CLI and tests)."""

import csv
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_copenhagen_housing"]

_DATA = Path(__file__).parent / "data"


def load_copenhagen_housing(*, expand=False):
    """The Copenhagen housing survey (Madsen 1976): satisfaction with housing, an ordinal target.

    1681 residents of Copenhagen rated their satisfaction with their housing
    as ``"Low"`` < ``"Medium"`` < ``"High"``; the features are their
    perceived influence on the management (``Infl``: Low, Medium, High), the
    type of housing (``Type``: Tower, Apartment, Atrium, Terrace) and their
    contact with other residents (``Cont``: Low, High). It is a frequency
    table of 72 cells (R's ``MASS::housing``, the data of mord's examples).

    Parameters
    ----------
    expand : bool, default=False
        Return one row per resident (1681 rows, ``counts`` all 1) instead of
        the table's 72 cells with their counts.

    Returns
    -------
    Bunch
        ``data``: ndarray of str, shape (72, 3) or (1681, 3); ``target``:
        ndarray of str; ``counts``: the residents of each row (sample
        weights that reproduce the expanded data); ``feature_names``;
        ``target_order``: ``["Low", "Medium", "High"]``; ``categories``: the
        levels of each feature in their order.
    """
    with open(_DATA / "copenhagen_housing.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    features = ["Infl", "Type", "Cont"]
    data = np.array([[row[name] for name in features] for row in rows])
    target = np.array([row["Sat"] for row in rows])
    counts = np.array([float(row["Freq"]) for row in rows])
    if expand:
        index = np.repeat(np.arange(len(rows)), counts.astype(int))
        data, target, counts = data[index], target[index], np.ones(index.size)
    return Bunch(data=data, target=target, counts=counts, feature_names=features,
                 target_order=["Low", "Medium", "High"],
                 categories={"Infl": ["Low", "Medium", "High"], "Type": ["Tower", "Apartment", "Atrium", "Terrace"],
                             "Cont": ["Low", "High"]},
                 DESCR=load_copenhagen_housing.__doc__)

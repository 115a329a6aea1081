"""Best-first growth of one histogram tree on gradients and hessians, and the fitted tree's node arrays.

:func:`grow_tree` splits, at every step, the leaf whose best split has the
largest gain (LightGBM's leaf-wise growth; scikit-learn's histogram boosting
grows the same way), until ``max_leaf_nodes`` leaves, ``max_depth`` or no
valid split is left. It returns the tree with each leaf's gradient and
hessian sums, and the rows of each leaf (contiguous slices of one partition
array), from which the caller sets the leaf values: by a Newton step, or by a
line search on the loss (:mod:`._leaves`).
"""

import heapq

import numpy as np

from ._tree_kernels import best_categorical_splits, best_splits, histograms, predict_tree, split_rows

__all__ = ["GrowthParams", "Tree", "grow_tree"]

MIN_HESSIAN_TO_SPLIT = 1e-3  # scikit-learn's HistGradientBoosting default


class GrowthParams:
    """What limits a tree: leaves, depth, rows and hessian per leaf, l2 on the leaf values, feature groups."""

    def __init__(self, max_leaf_nodes, max_depth, min_samples_leaf, l2_regularization, interaction_groups=None,
                 min_hessian=MIN_HESSIAN_TO_SPLIT):
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.interaction_groups = interaction_groups  # list of feature-index arrays, or None
        self.min_hessian = min_hessian


class Tree:
    """A fitted tree as node arrays; node 0 is the root, ``left[node] < 0`` marks a leaf.

    Attributes
    ----------
    feature, threshold, missing_left, left, right : ndarrays of shape (n_nodes,)
        The split of each node: rows with ``X[:, feature] <= threshold`` go
        left, missing values go left when ``missing_left`` is 1.
    category_table : ndarray of shape (n_nodes,)
        For a categorical split, its row of ``tables`` (else -1).
    tables : ndarray of uint8 of shape (n_categorical_splits, max_bins)
        ``tables[t, code]`` is 1 when the category ``code`` goes left
        (unseen codes follow the missing values).
    value : ndarray of shape (n_nodes,)
        Leaf values (learning rate included).
    gain : ndarray of shape (n_nodes,)
        Split gains (0 at leaves), for the feature importances.
    n_samples : ndarray of shape (n_nodes,)
        Training rows in each node.
    """

    def __init__(self, feature, threshold, missing_left, left, right, value, gain, n_samples, category_table,
                 tables):
        self.category_table = category_table
        self.tables = tables
        self.feature = feature
        self.threshold = threshold
        self.missing_left = missing_left
        self.left = left
        self.right = right
        self.value = value
        self.gain = gain
        self.n_samples = n_samples

    def add_to(self, X, out, column, scale=1.0):
        """``out[:, column] += scale * self(X)`` for float64 ``X`` (NaN: missing)."""
        predict_tree(X, self.feature, self.threshold, self.missing_left, self.left, self.right, self.value,
                     self.category_table, self.tables, out, column, scale)


def constant_ratio(hessian, count):
    """``c > 0`` when ``hessian == c * count`` everywhere (then the histograms skip the hessian), else 0."""
    if hessian is count:
        return 1.0
    if hessian.shape[0] == 0 or not count[0] > 0:
        return 0.0
    c = hessian[0] / count[0]
    return float(c) if c > 0 and np.array_equal(hessian, c * count) else 0.0


class _Node:
    __slots__ = ("start", "stop", "depth", "sums", "hist", "split", "groups", "index")

    def __init__(self, start, stop, depth, sums, groups, index):
        self.start, self.stop, self.depth, self.sums, self.groups, self.index = start, stop, depth, sums, groups, index
        self.hist = None
        self.split = None


class _Builder:
    """Growth state: the node arrays as lists, and what the split search needs."""

    def __init__(self, binned, binner, gradient, hessian, count, params, hessian_scale=None):
        self.binned, self.binner, self.params = binned, binner, params
        self.gradient, self.hessian, self.count = gradient, hessian, count
        self.hessian_scale = constant_ratio(hessian, count) if hessian_scale is None else hessian_scale
        self.unit_count = bool(np.all(count == 1.0))
        self.n_bins = binner.n_bins_non_missing_
        self.n_features = binned.shape[1]
        self.groups = params.interaction_groups
        self.nodes = {"feature": [], "threshold": [], "missing_left": [], "left": [], "right": [], "gain": [],
                      "n_samples": [], "category_table": []}
        self.tables = []
        self.splits = np.empty((self.n_features, 6))
        self.everything = np.ones(self.n_features, dtype=np.bool_)
        self.categorical = binner.is_categorical_
        self.has_categorical = bool(self.categorical.any())
        if self.has_categorical:
            self.numerical = ~self.categorical
            self.category_splits = np.empty((self.n_features, 6))
            self.category_left = np.zeros((self.n_features, binner.missing_bin_ + 1), dtype=np.uint8)

    def new_node(self, start, stop, depth, sums, groups):
        index = len(self.nodes["left"])
        for key, initial in (("feature", 0), ("threshold", np.inf), ("missing_left", 0), ("left", -1),
                             ("right", -1), ("gain", 0.0), ("n_samples", stop - start), ("category_table", -1)):
            self.nodes[key].append(initial)
        return _Node(start, stop, depth, sums, groups, index)

    def histogram(self, rows, node):
        node.hist = np.empty((self.n_features, self.binner.missing_bin_ + 1, 3))
        histograms(self.binned, rows[node.start:node.stop], self.gradient, self.hessian, self.count,
                   self.hessian_scale, self.unit_count, node.hist)

    def splittable(self, node):
        p = self.params
        return ((p.max_depth is None or node.depth < p.max_depth)
                and node.sums[2] >= 2 * p.min_samples_leaf and node.sums[1] >= 2 * p.min_hessian)

    def allowed(self, node):
        if self.groups is None:
            return self.everything
        mask = np.zeros(self.n_features, dtype=np.bool_)
        for g in node.groups:
            mask[self.groups[g]] = True
        return mask

    def find_split(self, node):
        """Set ``node.split`` to (gain, feature, bin, missing_left, left sums, bins going left) or leave it
        None."""
        p = self.params
        missing = self.binner.missing_bin_
        allowed = self.allowed(node)
        args = (missing, node.sums, p.l2_regularization, p.min_samples_leaf, p.min_hessian)
        if self.has_categorical:
            best_splits(node.hist, self.n_bins, allowed & self.numerical, *args, self.splits)
            best_categorical_splits(node.hist, self.n_bins, allowed & self.categorical, *args, self.category_splits,
                                    self.category_left)
            splits = np.where(self.categorical[:, None], self.category_splits, self.splits)
        else:
            best_splits(node.hist, self.n_bins, allowed, *args, self.splits)
            splits = self.splits
        feature = int(np.argmax(splits[:, 0]))
        gain = splits[feature, 0]
        if gain > 1e-12 * abs(node.sums[0] * node.sums[0] / (node.sums[1] + p.l2_regularization) + 1e-300):
            s = splits[feature]
            if self.categorical[feature]:
                goes_left = self.category_left[feature].copy()
            else:
                goes_left = np.zeros(missing + 1, dtype=np.uint8)
                goes_left[:int(s[1]) + 1] = 1
                goes_left[missing] = int(s[2])
            node.split = (gain, feature, int(s[1]), int(s[2]), np.array([s[3], s[4], s[5]]), goes_left)

    def category_table(self, feature, goes_left, missing_left):
        """The prediction table of a categorical split: each code's side (unseen codes: the missing side)."""
        table = np.full(self.binner.max_bins, missing_left, dtype=np.uint8)
        known = self.binner.categories_[feature].astype(np.intp)
        table[known] = goes_left[np.arange(known.shape[0])]
        self.tables.append(table)
        return len(self.tables) - 1


def grow_tree(binned, binner, gradient, hessian, count, rows, params, hessian_scale=None):
    """Grow one tree on the rows ``rows`` (reordered in place: each leaf's rows end up contiguous).

    ``count`` is what ``min_samples_leaf`` counts: the sample weights (ones
    without weights), so that integer weights equal repeated rows.

    Returns ``(tree, leaves)`` where ``leaves`` is a list of ``(node index,
    start, stop, sums)``, ``sums = (G, H, n)``; the tree's leaf values are
    zero until the caller sets them (:func:`set_leaf_values`).
    """
    b = _Builder(binned, binner, gradient, hessian, count, params, hessian_scale)
    all_groups = None if b.groups is None else tuple(range(len(b.groups)))
    root = b.new_node(0, rows.shape[0], 0, None, all_groups)
    b.histogram(rows, root)
    root.sums = root.hist[0].sum(axis=0)
    if binned.shape[1] == 0:
        root.sums = np.array([gradient[rows].sum(dtype=np.float64), hessian[rows].sum(dtype=np.float64),
                              count[rows].sum()])
    heap, leaves, counter = [], [], 0
    if b.splittable(root) and binned.shape[1] > 0:
        b.find_split(root)
    if root.split is not None:
        heapq.heappush(heap, (-root.split[0], counter, root))
    else:
        leaves.append(root)
    max_leaves = params.max_leaf_nodes
    buffer = np.empty(rows.shape[0], dtype=rows.dtype)
    n_leaves = 1
    while heap and (max_leaves is None or n_leaves < max_leaves):
        _, _, node = heapq.heappop(heap)
        gain, feature, bin_index, missing_left, left_sums, goes_left = node.split
        mid = split_rows(binned, rows, node.start, node.stop, feature, goes_left, buffer)
        if b.groups is None:
            groups = None
        else:
            groups = tuple(g for g in node.groups if feature in set(b.groups[g].tolist()))
        left = b.new_node(node.start, mid, node.depth + 1, left_sums, groups)
        right = b.new_node(mid, node.stop, node.depth + 1, node.sums - left_sums, groups)
        i = node.index
        b.nodes["feature"][i] = feature
        b.nodes["threshold"][i] = binner.upper_edge(feature, bin_index)
        if b.categorical[feature]:
            b.nodes["category_table"][i] = b.category_table(feature, goes_left, missing_left)
        b.nodes["missing_left"][i] = missing_left
        b.nodes["left"][i], b.nodes["right"][i] = left.index, right.index
        b.nodes["gain"][i] = gain
        n_leaves += 1
        children = [c for c in (left, right) if b.splittable(c)]
        if children:
            small, large = (left, right) if (mid - node.start) <= (node.stop - mid) else (right, left)
            b.histogram(rows, small)
            large.hist = node.hist
            large.hist -= small.hist  # the sibling subtraction (in the parent's buffer)
            for child in children:
                b.find_split(child)
        node.hist = None
        for child in (left, right):
            child.hist = None if child.split is None else child.hist
            if child.split is not None:
                counter += 1
                heapq.heappush(heap, (-child.split[0], counter, child))
            else:
                leaves.append(child)
    leaves.extend(entry[2] for entry in heap)
    leaves.sort(key=lambda node: node.index)
    nodes = b.nodes
    tree = Tree(
        feature=np.asarray(nodes["feature"], dtype=np.intp),
        threshold=np.asarray(nodes["threshold"], dtype=np.float64),
        missing_left=np.asarray(nodes["missing_left"], dtype=np.uint8),
        left=np.asarray(nodes["left"], dtype=np.intp),
        right=np.asarray(nodes["right"], dtype=np.intp),
        value=np.zeros(len(nodes["left"])),
        gain=np.asarray(nodes["gain"], dtype=np.float64),
        n_samples=np.asarray(nodes["n_samples"], dtype=np.intp),
        category_table=np.asarray(nodes["category_table"], dtype=np.intp),
        tables=np.array(b.tables, dtype=np.uint8).reshape(len(b.tables), binner.max_bins),
    )
    return tree, [(leaf.index, leaf.start, leaf.stop, leaf.sums) for leaf in leaves]

"""Compiled kernels of the histogram trees: histograms, split search, row partitions, leaves and prediction.

A node's rows are a contiguous slice ``rows[start:stop]`` of one partition
array (the layout of LightGBM and scikit-learn's histogram boosting): a split
reorders the slice stably into its left rows and then its right rows, so
every leaf's rows end up contiguous and in increasing order. A histogram is
an array ``(n_features, n_bins, 3)`` of the sums of gradients, hessians and
row counts per bin; the larger child's is the parent's minus the smaller
child's (the sibling subtraction). The threaded loops run over features (or
over rows for prediction), and every sum is taken in row order, so a fit is
the same bits for any number of threads.
"""

import numpy as np

from .._config import PARALLEL_TREE_OPTIONS, TREE_OPTIONS
from .._jit import njit, on_materialise

prange = range  # numba's prange once numba is loaded (the kernels compile after that)


@on_materialise
def _parallel_range():
    global prange
    from numba import prange

__all__ = ["add_leaves", "best_categorical_splits", "best_splits", "bin_columns", "histograms", "piecewise_leaf_minimisers",
           "predict_tree", "split_rows"]


@njit(**PARALLEL_TREE_OPTIONS)
def histograms(binned, rows, gradient, hessian, count, hessian_scale, unit_count, out):
    """Fill ``out[f, b]`` with the sums of ``gradient``, ``hessian`` and ``count`` over ``rows`` in bin ``b``
    of feature ``f`` (``count``: the sample weights, or ones).

    With ``hessian_scale > 0`` the hessian is that constant times ``count``
    (squared error; the weights of the gradient trees) and is not summed:
    its bins are the scaled counts. With ``unit_count`` every count is 1
    and is not read. Each feature's sums go to a local buffer first (which
    the compiler keeps apart from the inputs) and are copied out once.
    """
    m = rows.shape[0]
    constant = hessian_scale > 0.0
    g = np.empty(m, dtype=gradient.dtype)  # float32 gradients (see histogram_precision): half the bytes to read
    c = np.empty(0 if unit_count else m, dtype=count.dtype)
    h = np.empty(0 if constant else m, dtype=hessian.dtype)
    for k in range(m):  # gathered once, read by every feature
        g[k] = gradient[rows[k]]
    if not unit_count:
        for k in range(m):
            c[k] = count[rows[k]]
    if not constant:
        for k in range(m):
            h[k] = hessian[rows[k]]
    n_bins = out.shape[1]
    for f in prange(binned.shape[1]):
        column = binned[:, f]
        sums = np.zeros((n_bins, 3))
        if constant and unit_count:
            for k in range(m):
                b = column[rows[k]]
                sums[b, 0] += g[k]
                sums[b, 2] += 1.0
        elif constant:
            for k in range(m):
                b = column[rows[k]]
                sums[b, 0] += g[k]
                sums[b, 2] += c[k]
        elif unit_count:
            for k in range(m):
                b = column[rows[k]]
                sums[b, 0] += g[k]
                sums[b, 1] += h[k]
                sums[b, 2] += 1.0
        else:
            for k in range(m):
                b = column[rows[k]]
                sums[b, 0] += g[k]
                sums[b, 1] += h[k]
                sums[b, 2] += c[k]
        for b in range(n_bins):
            out[f, b, 0] = sums[b, 0]
            out[f, b, 1] = hessian_scale * sums[b, 2] if constant else sums[b, 1]
            out[f, b, 2] = sums[b, 2]


@njit(**PARALLEL_TREE_OPTIONS)
def bin_columns(X, thresholds, offsets, missing_bin, out):
    """``out[i, f]``: the bin of ``X[i, f]`` among ``thresholds[offsets[f]:offsets[f + 1]]`` (NaN: ``missing_bin``).

    The bin is the number of thresholds strictly below the value (NumPy's
    ``searchsorted(..., side="left")``), found by bisection.
    """
    for f in prange(X.shape[1]):
        lo0, hi0 = offsets[f], offsets[f + 1]
        for i in range(X.shape[0]):
            x = X[i, f]
            if x != x:
                out[i, f] = missing_bin
                continue
            lo, hi = lo0, hi0
            while lo < hi:
                mid = (lo + hi) >> 1
                if thresholds[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            out[i, f] = lo - lo0


@njit(**TREE_OPTIONS)
def _gain(g_left, h_left, G, H, l2, parent):
    """The loss reduction of a split: the node's loss ``parent`` minus its children's, each ``G v`` at
    its value ``v = -G / (H + l2)``."""
    g_right = G - g_left
    v_left = -g_left / (h_left + l2 + 1e-15)
    v_right = -g_right / (H - h_left + l2 + 1e-15)
    return parent - g_left * v_left - g_right * v_right


@njit(**PARALLEL_TREE_OPTIONS)
def best_splits(hist, n_bins, allowed, missing_bin, total, l2, min_leaf, min_hessian, out):
    """Each feature's best split of a node: ``out[f] = (gain, bin, missing_left, G_left, H_left, n_left)``.

    Rows with ``bin <= out[f, 1]`` go left, and missing values go left when
    ``out[f, 2]`` is 1. The gain is ``G_L^2/(H_L+l2) + G_R^2/(H_R+l2) -
    G^2/(H+l2)``, evaluated as scikit-learn's histogram boosting does (the
    node's loss minus each child's ``G v`` at its value ``v``), so that
    splits of equal gain tie-break alike; a side needs ``min_leaf`` rows and a hessian sum of
    ``min_hessian``. Features with ``allowed[f]`` false, or without a valid
    split, get gain -1. When the node has missing values, both directions
    are tried (and "missing against the rest"); otherwise missing values of
    later data follow the larger child.
    """
    G, H, C = total[0], total[1], total[2]
    parent = G * (-G / (H + l2 + 1e-15))  # the node's loss -G^2/(H + l2)
    for f in prange(hist.shape[0]):
        best, best_bin, best_left = -1.0, -1, 0
        gl_best, hl_best, cl_best = 0.0, 0.0, 0.0
        if allowed[f]:
            mg, mh, mc = hist[f, missing_bin, 0], hist[f, missing_bin, 1], hist[f, missing_bin, 2]
            nb = n_bins[f]
            for direction in range(2 if mc > 0 else 1):
                # direction 0: missing values right; 1: left (start the sums with them)
                sg = mg if direction == 1 else 0.0
                sh = mh if direction == 1 else 0.0
                sc = mc if direction == 1 else 0.0
                last = nb if (direction == 0 and mc > 0) else nb - 1
                for b in range(last):
                    sg += hist[f, b, 0]
                    sh += hist[f, b, 1]
                    sc += hist[f, b, 2]
                    if sc < min_leaf or sh < min_hessian:
                        continue
                    if C - sc < min_leaf:
                        break
                    if H - sh < min_hessian:
                        continue
                    gain = _gain(sg, sh, G, H, l2, parent)
                    if gain > best:
                        best, best_bin, best_left = gain, b, direction
                        gl_best, hl_best, cl_best = sg, sh, sc
            if best_bin >= 0 and mc == 0 and cl_best < C - cl_best:
                best_left = 0  # no missing value here: later ones follow the larger child
            elif best_bin >= 0 and mc == 0:
                best_left = 1
        out[f, 0] = best
        out[f, 1] = best_bin
        out[f, 2] = best_left
        out[f, 3] = gl_best
        out[f, 4] = hl_best
        out[f, 5] = cl_best


#: A category takes part in a split search with at least this many rows (weights), and its
#: gradient-to-hessian ratio is smoothed by as much hessian: LightGBM's and scikit-learn's constants.
MIN_CATEGORY_SUPPORT = 10.0
CATEGORY_SMOOTHING = 10.0
#: At most this many categories on the smaller-ratio or larger-ratio side of a categorical split.
MAX_CATEGORIES_LEFT = 32


@njit(**PARALLEL_TREE_OPTIONS)
def best_categorical_splits(hist, n_bins, allowed, missing_bin, total, l2, min_leaf, min_hessian, out, goes_left):
    """Each categorical feature's best split of a node into a set of categories and the rest.

    Fisher's ordering (as LightGBM and scikit-learn's histogram boosting
    do): the categories with enough support (and the missing values, as one
    more category) are sorted by ``G / (H + smoothing)``; the split sends the
    first ``k`` of that order left, or the last ``k``, for the best ``k`` up
    to ``MAX_CATEGORIES_LEFT`` and half the categories. ``out[f]`` is as in
    :func:`best_splits` (its bin column holds ``k``) and ``goes_left[f]``
    marks the bins sent left; categories without support go right.
    """
    G, H, C = total[0], total[1], total[2]
    parent = G * (-G / (H + l2 + 1e-15))  # the node's loss -G^2/(H + l2)
    for f in prange(hist.shape[0]):
        out[f, 0] = -1.0
        out[f, 1] = -1
        out[f, 2] = 0
        goes_left[f, :] = 0
        if not allowed[f]:
            continue
        nb = n_bins[f]
        used = np.empty(nb + 1, dtype=np.intp)
        ratio = np.empty(nb + 1)
        n_used = 0
        for b in range(nb + 1):
            bin_index = b if b < nb else missing_bin
            if hist[f, bin_index, 2] >= MIN_CATEGORY_SUPPORT:
                used[n_used] = bin_index
                ratio[n_used] = hist[f, bin_index, 0] / (hist[f, bin_index, 1] + CATEGORY_SMOOTHING)
                n_used += 1
        if n_used == 0:
            continue
        order = np.argsort(ratio[:n_used], kind="mergesort")
        most = min(MAX_CATEGORIES_LEFT, (n_used + 1) // 2)
        best, best_k, best_direction = -1.0, 0, 0
        gl_best, hl_best, cl_best = 0.0, 0.0, 0.0
        for direction in range(2):  # 0: the smallest ratios go left; 1: the largest
            sg, sh, sc = 0.0, 0.0, 0.0
            for k in range(most):
                b = used[order[k]] if direction == 0 else used[order[n_used - 1 - k]]
                sg += hist[f, b, 0]
                sh += hist[f, b, 1]
                sc += hist[f, b, 2]
                if sc < min_leaf or sh < min_hessian:
                    continue
                if C - sc < min_leaf or H - sh < min_hessian:
                    break
                gain = _gain(sg, sh, G, H, l2, parent)
                if gain > best:
                    best, best_k, best_direction = gain, k + 1, direction
                    gl_best, hl_best, cl_best = sg, sh, sc
        if best_k == 0:
            continue
        for k in range(best_k):
            b = used[order[k]] if best_direction == 0 else used[order[n_used - 1 - k]]
            goes_left[f, b] = 1
        out[f, 0] = best
        out[f, 1] = best_k
        out[f, 2] = goes_left[f, missing_bin]
        out[f, 3] = gl_best
        out[f, 4] = hl_best
        out[f, 5] = cl_best


@njit(**PARALLEL_TREE_OPTIONS)
def split_rows(binned, rows, start, stop, feature, goes_left, buffer):
    """Reorder ``rows[start:stop]`` stably into the left rows then the right rows; returns where the right begin.

    A row goes left when ``goes_left[bin]`` is 1 for its bin of ``feature``
    (a threshold split: the bins up to the threshold, and the missing bin
    when missing values go left; a categorical split: its left categories).
    The slice is cut into blocks of at least 4,096 rows that are split
    side by side (into ``buffer``) and then copied back in order: left rows
    block after block, then right rows block after block.
    """
    column = binned[:, feature]
    m = stop - start
    blocks = max(1, min(64, m // 4096))
    size = (m + blocks - 1) // blocks
    n_left = np.zeros(blocks, dtype=np.intp)
    for blk in prange(blocks):
        lo = start + blk * size
        hi = min(lo + size, stop)
        left = lo
        right = hi
        for k in range(lo, hi):  # lefts from the block's front, rights from its back (reversed)
            i = rows[k]
            if goes_left[column[i]]:
                buffer[left] = i
                left += 1
            else:
                right -= 1
                buffer[right] = i
        n_left[blk] = left - lo
    left_at = np.empty(blocks, dtype=np.intp)
    right_at = np.empty(blocks, dtype=np.intp)
    total = 0
    for blk in range(blocks):
        left_at[blk] = start + total
        total += n_left[blk]
    mid = start + total
    offset = mid
    for blk in range(blocks):
        right_at[blk] = offset
        lo = start + blk * size
        hi = min(lo + size, stop)
        offset += (hi - lo) - n_left[blk]
    for blk in prange(blocks):
        lo = start + blk * size
        hi = min(lo + size, stop)
        nl = n_left[blk]
        for k in range(nl):
            rows[left_at[blk] + k] = buffer[lo + k]
        nr = (hi - lo) - nl
        for k in range(nr):  # the rights were stored back to front
            rows[right_at[blk] + k] = buffer[hi - 1 - k]
    return mid


@njit(**TREE_OPTIONS)
def add_leaves(rows, starts, stops, values, raw, column):
    """``raw[rows[starts[l]:stops[l]], column] += values[l]`` for every leaf ``l``."""
    for leaf in range(starts.shape[0]):
        v = values[leaf]
        for k in range(starts[leaf], stops[leaf]):
            raw[rows[k], column] += v


@njit(**TREE_OPTIONS)
def _first_crossing(points, jumps, slope, tol):
    """The minimiser of a convex piecewise-linear function of ``v`` with slope ``slope`` before its kinks,
    increasing by ``jumps[j] >= 0`` at ``points[j]``, and ``slope < -tol``.

    The first kink group (equal points at once) after which the slope is at
    least ``-tol`` is found by a three-way quickselect on the jump sums
    (expected linear time; ``points`` and ``jumps`` are reordered): its point
    when the slope turns positive there, the middle of the flat stretch up to
    the next kink when it turns zero, and ``max(0, point)`` when that stretch
    is unbounded. No such group (a slope negative without end): 0.
    """
    lo, hi, m = 0, points.shape[0], points.shape[0]
    while lo < hi:
        a, b, c = points[lo], points[(lo + hi) >> 1], points[hi - 1]
        pivot = max(min(a, b), min(max(a, b), c))  # median of three
        lt, i, gt = lo, lo, hi  # [lo, lt): below the pivot, [lt, i): equal, [gt, hi): above
        while i < gt:
            p = points[i]
            if p < pivot:
                points[i], points[lt] = points[lt], p
                jumps[i], jumps[lt] = jumps[lt], jumps[i]
                lt += 1
                i += 1
            elif p > pivot:
                gt -= 1
                points[i], points[gt] = points[gt], p
                jumps[i], jumps[gt] = jumps[gt], jumps[i]
            else:
                i += 1
        below = 0.0
        for j in range(lo, lt):
            below += jumps[j]
        if lt > lo and slope + below >= -tol:  # the crossing is among the smaller points
            hi = lt
            continue
        slope += below
        for j in range(lt, gt):
            slope += jumps[j]
        if slope >= -tol:  # the crossing is at the pivot
            if slope > tol:
                return pivot
            if gt < m:  # flat up to the next kink: the smallest point above the pivot
                nxt = points[gt]
                for j in range(gt + 1, m):
                    nxt = min(nxt, points[j])
                return 0.5 * (pivot + nxt)
            return max(0.0, pivot)
        lo = gt
    return 0.0


@njit(**PARALLEL_TREE_OPTIONS)
def piecewise_leaf_minimisers(rows, starts, stops, slopes, breaks, weight, raw, column, out):
    """For each leaf, the shift ``v`` minimising ``sum_i w_i l_i(raw[i] + v)`` over its rows (exact).

    Sample i's loss is convex and piecewise linear in the raw prediction,
    with slopes ``slopes[i]`` changing at ``breaks[i]`` (the loss's
    :meth:`linear_pieces`). The summed slope in ``v`` starts at
    ``sum w_i slopes[i, 0]`` and increases by ``w_i (slopes[i, k+1] -
    slopes[i, k])`` at ``breaks[i, k] - raw[i]``; the minimiser is where it
    turns positive (a weighted quantile of the kinks, found by selection,
    not sorting). Where it is zero on a stretch, every point of the stretch
    minimises: a bounded stretch gives its middle (the median convention),
    an unbounded one its point nearest 0 (the smallest step).
    """
    n_pieces = breaks.shape[1]
    for leaf in prange(starts.shape[0]):
        start, stop = starts[leaf], stops[leaf]
        m = (stop - start) * n_pieces
        points = np.empty(m)
        jumps = np.empty(m)
        slope = 0.0
        scale = 0.0
        for k in range(start, stop):
            i = rows[k]
            wi = weight[i]
            slope += wi * slopes[i, 0]
            for p in range(n_pieces):
                jump = wi * (slopes[i, p + 1] - slopes[i, p])
                points[(k - start) * n_pieces + p] = breaks[i, p] - raw[i, column]
                jumps[(k - start) * n_pieces + p] = jump
                scale += jump
        tol = 1e-12 * (scale + abs(slope))
        value = 0.0
        if m > 0 and scale > 0.0:
            if slope > tol:  # increasing everywhere (a loss unbounded below): no finite minimiser, no step
                value = 0.0
            elif slope >= -tol:  # flat up to the first break: the point of (-inf, first] nearest 0
                value = min(0.0, points.min())
            else:
                value = _first_crossing(points, jumps, slope, tol)
        out[leaf] = value


@njit(**PARALLEL_TREE_OPTIONS)
def predict_tree(X, feature, threshold, missing_left, left, right, value, category_table, tables, out, column, scale):
    """``out[i, column] += scale * tree(X[i])`` for the tree in node arrays (``left[node] < 0``: a leaf).

    A node with ``category_table[node] >= 0`` splits on categories: a value
    ``c`` (a non-negative integer below ``tables.shape[1]``) goes left when
    ``tables[category_table[node], c]`` is 1; other values are missing.
    """
    n_codes = tables.shape[1]
    for i in prange(X.shape[0]):
        node = 0
        while left[node] >= 0:
            x = X[i, feature[node]]
            t = category_table[node]
            if t >= 0:
                if x >= 0 and x < n_codes and x == np.floor(x):
                    node = left[node] if tables[t, int(x)] else right[node]
                else:
                    node = left[node] if missing_left[node] else right[node]
            elif x != x:
                node = left[node] if missing_left[node] else right[node]
            elif x <= threshold[node]:
                node = left[node]
            else:
                node = right[node]
        out[i, column] += scale * value[node]

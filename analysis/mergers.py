"""Today's units: the answers of units merged into others counted as their successors', by
per-unit sums (never a loop over responses), before the tree rolls them up."""

import numpy as np


def last_successors(into: np.ndarray, gone: np.ndarray) -> np.ndarray:
    """Each unit's last successor (a position) along its chain of mergers among the units gone
    by today; -1 for none. into: the position of the unit each merged into (-1: none). A
    chain goes forward in time (core.unit_mergers), so it ends; the bound on the steps holds a
    database edited by hand that loops."""
    successor = np.where(gone, into, -1)
    last = successor.copy()
    for _ in range(len(into)):
        has = last >= 0
        further = np.full_like(last, -1)
        further[has] = successor[last[has]]
        step = has & (further >= 0)
        if not step.any():
            break
        last[step] = further[step]
    return last


def fold(values: np.ndarray, successor: np.ndarray) -> np.ndarray:
    """Return the values (first axis: the units) with each merged unit's added to its
    successor's and its own empty, so that no answer counts twice up the tree. successor: a
    position, -1 for a unit that did not merge, -2 for one whose successor lies outside these
    units (its values leave)."""
    merged = successor != -1
    if not merged.any():
        return values
    # Here, not at the top: scipy.sparse costs a fresh export its import when nothing merged.
    from scipy import sparse

    size = len(values)
    target = np.where(merged, successor, np.arange(size))
    kept = np.flatnonzero(target >= 0)
    # A sparse matrix of ones adds the rows up: ten times faster than gathering them and
    # np.add.reduceat, for the 7,300 communes of 2025 (bench/closed_units.py). Sums of whole
    # numbers stay exact in the values' type, as the products' own sums do.
    adding = sparse.csr_matrix(
        (np.ones(len(kept), values.dtype), (target[kept], kept)), shape=(size, size)
    )
    return (adding @ values.reshape(size, -1)).reshape(values.shape)

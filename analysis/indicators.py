"""Per response, the 0/1 columns whose per-unit cross-products hold every count the figures need.

The columns (analysis/indexes.py reads them): answered A1..E3, satisfied A1..E3 (4 or 5),
answered any criterion of each element, answered any criterion, asked for the household
register, and a 1. The sealed blocks and the frames keep them eight to a byte (PACKED bytes a
response); stats.grouped_products unpacks one unit's rows at a time to multiply them.
"""

import numpy as np

from survey.models import CRITERIA, ELEMENTS

K = len(CRITERIA)
SATISFIED = K
ANY = {e: 2 * K + i for i, e in enumerate(ELEMENTS)} | {"overall": 2 * K + len(ELEMENTS)}
HK = 2 * K + len(ELEMENTS) + 1
ONE = HK + 1
WIDTH = ONE + 1
PACKED = (WIDTH + 7) // 8
# For the blocks' layout check (its version number stands for the columns' order above): a
# change of the criteria or elements seals them again.
LAYOUT = f"{','.join(CRITERIA)};{''.join(ELEMENTS)}"


def from_answers(answers: np.ndarray, hk: np.ndarray) -> np.ndarray:
    """Return the columns (uint8, N x WIDTH) of answers (int8: -1 blank, 0 no opinion, 1-5)."""
    # Built column by column (Fortran order), then stored row by row for the matrix products.
    x = np.empty((len(hk), WIDTH), np.uint8, order="F")
    np.greater_equal(answers, 1, out=x[:, :K], casting="unsafe")
    np.greater_equal(answers, 4, out=x[:, SATISFIED : 2 * K], casting="unsafe")
    for element, column in ANY.items():
        inside = [i for i, c in enumerate(CRITERIA) if element in ("overall", c[0])]
        np.copyto(x[:, column], x[:, inside[0]])
        for i in inside[1:]:
            np.bitwise_or(x[:, column], x[:, i], out=x[:, column])
    x[:, HK] = hk
    x[:, ONE] = 1
    return np.ascontiguousarray(x)


def pack(x: np.ndarray) -> np.ndarray:
    """Return the columns eight to a byte (uint8, N x PACKED)."""
    return np.packbits(x, axis=1)


def unpack(packed: np.ndarray) -> np.ndarray:
    """Return packed columns as one byte each (uint8, N x WIDTH, C order)."""
    return np.unpackbits(packed, axis=1, count=WIDTH)

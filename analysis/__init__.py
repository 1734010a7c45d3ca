"""Satisfaction indexes with intervals, rolled up the unit tree; exports, API and pages."""

import os

# One BLAS thread, set before numpy loads: the per-unit matrix products are small, and a worker
# that spreads them over every core fights the other workers and itself (on a busy 2-core
# machine: 2.5 s instead of 0.06 s for a million responses' cross-products).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

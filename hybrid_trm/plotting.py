"""matplotlib for the benchmarks' `--plot`, imported only when a plot is asked
for (it is an optional extra: `pip install 'hybrid-trm[plot]'`)."""

from __future__ import annotations

from .errors import HybridTRMError


def pyplot():
    """matplotlib.pyplot on a backend that needs no display, or a clear error."""
    try:
        import matplotlib
    except ImportError:
        raise HybridTRMError("--plot needs matplotlib: pip install 'hybrid-trm[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt

"""The torch-free runtime: a recursive model run in numpy alone, for a device
that has no torch (`pip install hybrid-trm`: torch is the `torch` extra) and
for answers that cannot wait for torch to import.

    from hybrid_trm import runtime

    r = runtime.load("exported/listops")       # a folder `hybrid-trm export` wrote
    r = runtime.load("listops/value")          # or a shipped model, or a checkpoint's path
    r.solve("[MAX 2 9 [MIN 4 7 ] 0 ]").answer  # the API's Reasoner: solve, solve_many, evaluate
    r.solve_many(["[SM 1 2 ]", "[MIN 3 4 ]"])

The answers are the torch model's (`hybrid-trm bench runtime` and
tests/test_runtime.py compare them, logits within 1e-4); the parsing, the
tensors and the verifier are the library's own. Nothing on this path imports torch.

    loading.py    what may be loaded, checked and refused; the runtime chosen
    weights.py    the state dict as numpy arrays, checked against the config
    cell.py       the recursive cell (and the GELU without erf)
    reasoner.py   the level loop: TreeReasoner.forward at inference, equal subtrees once
    predict.py    answers read back per tree and per node
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api import Reasoner
    from ..loading import Recursion

__all__ = ["load"]


def load(name: str | Path, *, recursion: Recursion | None = None) -> Reasoner:
    """A model ready to answer without torch: an exported folder, a checkpoint's
    path, or a shipped model as "domain/task" (a domain alone: its first task).
    The same Reasoner as hybrid_trm.load returns (solve, solve_many, evaluate)."""
    from ..api import Reasoner
    from ..solver import cached_load

    return Reasoner(cached_load(str(name), None, None, recursion, "numpy"))

"""External benchmark test sets shipped in datasets/ (installed as hybrid_trm.datasets),
loaded as Examples of a domain/task. Never trained on."""

from __future__ import annotations

from importlib import resources

from .domains.base import Example
from .errors import HybridTRMError


def _listops() -> tuple[str, str, list[Example]]:
    source = resources.files("hybrid_trm.datasets").joinpath("listops/test_d20s.tsv")
    examples = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, text = line.split("\t", 1)
            examples.append(Example(text, label, "value"))
    return "listops", "value", examples


BENCHMARKS = {
    "listops": ("ListOps test_d20s (Nangia & Bowman 2018), 10,000 lines", _listops),
}


def load(name: str) -> tuple[str, str, list[Example]]:
    """(domain, task, examples) of a named benchmark."""
    if name not in BENCHMARKS:
        raise HybridTRMError(f"unknown benchmark {name!r}; benchmarks: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name][1]()

"""External benchmark test sets shipped in datasets/ (installed as hybrid_trm.datasets),
loaded as Examples of a domain/task. Never trained on."""

from __future__ import annotations

import json
from importlib import resources

from .domains.base import Example
from .errors import HybridTRMError


def _lines(path: str) -> list[str]:
    """The non-blank lines of a shipped dataset file."""
    text = resources.files("hybrid_trm.datasets").joinpath(path).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _listops() -> tuple[str, str, list[Example]]:
    examples = []
    for line in _lines("listops/test_d20s.tsv"):
        label, text = line.split("\t", 1)
        examples.append(Example(text, label, "value"))
    return "listops", "value", examples


def _evans(split: str) -> tuple[str, str, list[Example]]:
    """Lines `A,B,E,H1,H2,H3`: E is 1 when A entails B; H1-H3 are heuristics, not labels."""
    examples = []
    for line in _lines(f"logic-entailment/{split}.txt"):
        a, b, entailed = line.split(",")[:3]
        examples.append(Example(f"{a} |= {b}", "yes" if entailed == "1" else "no", "entails", {"split": split}))
    return "logic", "entails", examples


def _bowman(n: str) -> tuple[str, str, list[Example]]:
    """Lines `relation<TAB>A<TAB>B`, formulas in binarised word syntax."""
    examples = []
    for line in _lines(f"bowman-logic/test{n}"):
        label, a, b = line.split("\t")
        examples.append(Example(f"{a} ; {b}", label, "relation", {"split": f"test{n}"}))
    return "logic", "relation", examples


def _pelletier(family: str) -> tuple[str, str, list[Example]]:
    """JSON lines of classic-fol/problems.jsonl, one family of them."""
    examples = []
    for line in _lines("classic-fol/problems.jsonl"):
        row = json.loads(line)
        if row["family"] == family:
            meta = {"split": family, "name": row["name"], "variant": row["variant"]}
            examples.append(Example(row["input"], row["answer"], "verdict", meta))
    return "logic", "verdict", examples


BENCHMARKS = {
    "listops": ("ListOps test_d20s (Nangia & Bowman 2018), 10,000 lines", _listops),
}

# Benchmarks with several test files, named `family:split`.
FAMILIES = {
    "evans": (
        "logical entailment (Evans et al. 2018), `A |= B`, yes/no",
        ("validate", "test_easy", "test_hard", "test_big", "test_massive", "test_exam"),
        _evans,
    ),
    "bowman": (
        "propositional relations (Bowman et al. 2015), `A ; B`, 7 classes; n = operators, 7..12",
        ("7", "8", "9", "10", "11", "12"),
        _bowman,
    ),
    "pelletier": (
        "classic prover problems without function symbols (Pelletier 1986, 1-55) and a non-theorem variant "
        "of each, `verdict`",
        ("propositional", "monadic", "relational", "equality"),
        _pelletier,
    ),
}


def names() -> list[str]:
    return list(BENCHMARKS) + [f"{family}:{split}" for family, (_, splits, _) in FAMILIES.items() for split in splits]


def load(name: str) -> tuple[str, str, list[Example]]:
    """(domain, task, examples) of a named benchmark: `listops`, `evans:test_easy`, `bowman:7`."""
    if name in BENCHMARKS:
        return BENCHMARKS[name][1]()
    family, _, split = name.partition(":")
    if family in FAMILIES:
        _, splits, loader = FAMILIES[family]
        if split not in splits:
            given = f"unknown split {split!r} of" if split else "give a split of"
            raise HybridTRMError(f"{given} benchmark {family}; use {', '.join(f'{family}:{s}' for s in splits)}")
        return loader(split)
    families = ", ".join(f"{f}:<split>" for f in FAMILIES)
    raise HybridTRMError(f"unknown benchmark {name!r}; benchmarks: {', '.join(BENCHMARKS)}, {families}")

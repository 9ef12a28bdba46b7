"""Find domains by name. Built-ins and plugins register the same way: an entry
point in the `hybrid_trm.domains` group naming a Domain subclass."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from ..errors import UnknownDomainError
from .base import Domain

GROUP = "hybrid_trm.domains"


@lru_cache(maxsize=None)
def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    return sorted(_entry_points())


@lru_cache(maxsize=None)
def get(name: str) -> Domain:
    points = _entry_points()
    if name not in points:
        known = ", ".join(names()) or "none (is hybrid-trm installed?)"
        raise UnknownDomainError(f"unknown domain {name!r}; domains: {known}")
    return points[name].load()()

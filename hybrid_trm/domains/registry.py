"""Find domains by name. Built-ins and installed plugins register the same way: an
entry point in the `hybrid_trm.domains` group naming a Domain subclass. A domain
not installed can live in a folder: every module there (`*.py`, not `_*` or
`test_*`) is imported, and each Domain subclass it defines with a `name` is one.
The folders are read from HYBRID_TRM_DOMAIN_PATH (`hybrid-trm --domain-path DIR`
sets it), so the processes a run starts (data loaders) find them too.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from ..errors import HybridTRMError, UnknownDomainError
from .base import Domain

GROUP = "hybrid_trm.domains"
PATH_VARIABLE = "HYBRID_TRM_DOMAIN_PATH"  # folders of domain modules, os.pathsep between them


@lru_cache(maxsize=None)
def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def _folders() -> str:
    return os.environ.get(PATH_VARIABLE, "")


@lru_cache(maxsize=None)
def _folder_domains(folders: str) -> dict[str, type[Domain]]:
    """Every domain the folders' modules define, by name."""
    found: dict[str, type[Domain]] = {}
    where: dict[str, Path] = {}
    for folder in dict.fromkeys(filter(None, folders.split(os.pathsep))):  # each once, in order
        path = Path(folder)
        if not path.is_dir():
            raise HybridTRMError(f"domain path {folder}: no such folder")
        for file in sorted(path.glob("*.py")):
            if file.name.startswith(("_", "test_")):
                continue
            for cls in _domains_in(file):
                if cls.name in found or cls.name in _entry_points():
                    other = where.get(cls.name, "an installed package")
                    raise HybridTRMError(f"domain {cls.name!r} is defined twice: in {file} and in {other}; rename one")
                found[cls.name], where[cls.name] = cls, file
    return found


def _domains_in(file: Path) -> list[type[Domain]]:
    name = f"hybrid_trm_domain_path.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's module: report what broke and where
        del sys.modules[name]
        raise HybridTRMError(f"domain module {file} does not import: {type(err).__name__}: {err}") from err
    return [
        cls for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, Domain) and cls.__module__ == name and "name" in vars(cls)
    ]


def names() -> list[str]:
    return sorted({*_entry_points(), *_folder_domains(_folders())})


def get(name: str) -> Domain:
    return _get(name, _folders())


@lru_cache(maxsize=None)
def _get(name: str, folders: str) -> Domain:
    local = _folder_domains(folders)
    if name in local:
        return local[name]()
    points = _entry_points()
    if name not in points:
        known = ", ".join(names()) or "none (is hybrid-trm installed?)"
        hint = "" if folders else "; a domain in a folder needs `hybrid-trm --domain-path DIR`"
        raise UnknownDomainError(f"unknown domain {name!r}; domains: {known}{hint}")
    return points[name].load()()

"""hybrid-trm: a tiny recursive model over parse trees, checked by symbolic verifiers.

    import hybrid_trm
    r = hybrid_trm.load("logic/verdict")
    r.solve("forall x. P(x) -> exists y. P(y)").answer

The API lives in hybrid_trm.api (load, solve, generate, domain_names, domain, Reasoner,
Solution, Recursion); it is imported on first use, so `import hybrid_trm` imports
neither torch nor the grammars.
"""

from __future__ import annotations

__all__ = ["Reasoner", "Recursion", "Solution", "domain", "domain_names", "generate", "load", "solve", "__version__"]


def __getattr__(name: str):
    if name == "__version__":  # looked up when asked: finding the installed version takes milliseconds
        global __version__
        from importlib import metadata

        try:
            __version__ = metadata.version("hybrid-trm")
        except metadata.PackageNotFoundError:  # run from a source tree that is not installed
            __version__ = "0+unknown"
        return __version__
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'hybrid_trm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

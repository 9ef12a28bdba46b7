"""rich's classes as the commands use them, imported on first use: rich takes
~20 ms and 6 MB to import, which a fresh `hybrid-trm solve` (it prints plain
lines) does not need. Each name makes the rich object of the same name."""

from __future__ import annotations

import importlib


def _lazy(module: str, name: str):
    def make(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"{module}.{name}(...), imported on first use."
    return make


Console = _lazy("rich.console", "Console")
Table = _lazy("rich.table", "Table")
Progress = _lazy("rich.progress", "Progress")
BarColumn = _lazy("rich.progress", "BarColumn")
MofNCompleteColumn = _lazy("rich.progress", "MofNCompleteColumn")
TextColumn = _lazy("rich.progress", "TextColumn")
TimeElapsedColumn = _lazy("rich.progress", "TimeElapsedColumn")
TimeRemainingColumn = _lazy("rich.progress", "TimeRemainingColumn")

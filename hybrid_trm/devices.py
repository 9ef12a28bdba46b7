"""Which torch device a model runs on: a name (cpu, cuda, cuda:N, mps, auto) made a
torch.device, or refused in one line where this machine does not have it.

The CPU is the default everywhere (CI, and most users: the model is tiny, and on
the small batches of `solve` a GPU's per-call latency costs more than its
arithmetic saves); `auto` takes CUDA, else Apple's MPS, else the CPU. A model's
device is where its weights are (`of`); the model moves each batch there itself,
and what comes back to the caller is read on the CPU. Nothing here imports torch
until a name is resolved: `--help` and the torch-free runtime check names without it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import HybridTRMError

if TYPE_CHECKING:
    import torch

DEFAULT = "cpu"
NAMES = "cpu, cuda, cuda:N, mps or auto"
_NAME = re.compile(r"cpu|cuda(:\d+)?|mps|auto")


def checked_name(name: str | None) -> str:
    """The device name as given (None: the default), lower-cased; refused unless it
    is one of NAMES. Imports no torch."""
    name = DEFAULT if name is None else str(name).strip().lower()
    if not _NAME.fullmatch(name):
        raise HybridTRMError(f"device must be {NAMES}, not {name!r}")
    return name


def resolve(name: str | torch.device | None = None) -> torch.device:
    """The torch.device a name stands for on this machine: `auto` is CUDA if a GPU is
    visible, else MPS if present, else the CPU; `cuda` is the current CUDA device
    (cuda:0 unless torch.cuda.set_device moved it). A device this machine lacks is a
    HybridTRMError saying why, in one line."""
    import torch

    if isinstance(name, torch.device):
        name = str(name)
    name = checked_name(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            why = (
                f"this torch ({torch.__version__}) is built without CUDA (install a CUDA build of torch)"
                if torch.version.cuda is None else "no CUDA GPU is visible (check the driver and CUDA_VISIBLE_DEVICES)"
            )
            raise HybridTRMError(f"device {name} is not available: {why}; use cpu, or auto to take what is here")
        count = torch.cuda.device_count()
        index = int(name.split(":")[1]) if ":" in name else torch.cuda.current_device()
        if index >= count:
            raise HybridTRMError(f"device {name} is not available: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
        return torch.device("cuda", index)
    if name == "mps" and not _mps_available():
        raise HybridTRMError(
            "device mps is not available: Apple's MPS needs macOS on Apple silicon and a torch built with it; "
            "use cpu, or auto to take what is here"
        )
    return torch.device(name)


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def accelerator() -> torch.device | None:
    """The accelerator `auto` would take (CUDA, else MPS), or None on a machine with neither."""
    device = resolve("auto")
    return None if device.type == "cpu" else device


def of(model: torch.nn.Module) -> torch.device:
    """Where a model's weights are: the device it runs on (the CPU for a model without any)."""
    import torch

    first = next(iter(model.parameters()), None)
    return torch.device("cpu") if first is None else first.device


def synchronize(device: torch.device) -> None:
    """Wait until the work queued on `device` is done: an accelerator runs its kernels
    after the call that queued them returns, so a clock read before this reads too early."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def describe(device: torch.device) -> str:
    """The device as a person names the machine: "cuda:0 (NVIDIA H200)", "cpu (AMD EPYC ..., 2 cores)"."""
    import os
    import platform

    import torch

    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return f"mps ({platform.machine()}, {platform.mac_ver()[0] or 'macOS'})"
    return f"cpu ({_cpu_model() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s))"


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None

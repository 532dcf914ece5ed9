"""Where the pairwise work runs: NumPy on the CPU, or CuPy on a GPU, with the same code.

The engine computes per-aircraft quantities (Earth-centred positions, velocities,
normals) with NumPy, then hands them to an :class:`ArrayBackend` for the heavy part:
the grid pruning and the closest-approach math over candidate pairs. That part is
written once against the array-module interface that NumPy and CuPy share (``xp``),
so the GPU runs the very code the CPU tests check.

CuPy is optional and never imported unless asked for: ``select_backend("gpu")``
imports it and checks that a CUDA device exists, ``"auto"`` falls back to the CPU when
either is missing, and ``"cpu"`` (the default everywhere) never touches it. The choice
is made at the edge (the ``--device`` option or ``DECONFLICTION_TACTICAL_DEVICE``) and
passed in, so the core reads no environment.

>>> select_backend("cpu").name
'cpu'
>>> select_backend("auto").name in ("cpu", "gpu")
True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

from deconfliction.errors import ValidationError

__all__ = ["CPU", "DEVICES", "ArrayBackend", "Device", "select_backend"]

Device = Literal["cpu", "gpu", "auto"]
DEVICES: tuple[Device, ...] = ("cpu", "gpu", "auto")


@dataclass(frozen=True)
class ArrayBackend:
    """An array module (``xp``: NumPy or CuPy), the transfers to and from it, and how
    many candidate pairs to handle at once there (``chunk_pairs``): on a CPU few enough
    that a chunk's arrays stay in cache, on a GPU enough to keep it busy per launch."""

    name: Literal["cpu", "gpu"]
    xp: ModuleType
    chunk_pairs: int = 1 << 18

    def to_device(self, array: np.ndarray[Any, Any]) -> Any:
        """A host array on this backend (no copy on the CPU)."""
        return self.xp.asarray(array)

    def to_host(self, array: Any) -> np.ndarray[Any, Any]:
        """A backend array as a NumPy array (no copy on the CPU)."""
        if self.xp is np:
            return np.asarray(array)
        return np.asarray(self.xp.asnumpy(array))

    def repeat_index(self, counts: Any) -> Any:
        """``[0] * counts[0] + [1] * counts[1] + ...`` as an int64 array on this backend.

        >>> CPU.repeat_index(np.array([2, 0, 1])).tolist()
        [0, 0, 2]
        """
        xp = self.xp
        if xp is np:
            return np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
        # CuPy's repeat takes no array of counts: place each index by binary search.
        ends = xp.cumsum(counts)
        total = int(ends[-1]) if counts.shape[0] else 0
        return xp.searchsorted(ends, xp.arange(total, dtype=xp.int64), side="right")


CPU = ArrayBackend("cpu", np)


def _gpu() -> ArrayBackend | None:
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        return None
    try:
        if int(cupy.cuda.runtime.getDeviceCount()) < 1:
            return None
    except Exception:  # CUDA driver missing or broken: CuPy raises its own runtime errors
        return None
    return ArrayBackend("gpu", cupy, chunk_pairs=1 << 24)


def select_backend(device: str) -> ArrayBackend:
    """The backend for ``device``: ``"cpu"``, ``"gpu"`` (CuPy on CUDA) or ``"auto"``."""
    if device == "cpu":
        return CPU
    if device not in DEVICES:
        raise ValidationError(
            f"unknown device {device!r}; choose one of {', '.join(DEVICES)}", device=device
        )
    gpu = _gpu()
    if gpu is not None:
        return gpu
    if device == "auto":
        return CPU
    raise ValidationError(
        "device 'gpu' needs CuPy and a CUDA device, and none was found; install "
        "cupy-cuda12x on a machine with an NVIDIA GPU, or use device 'cpu' or 'auto'",
        device=device,
    )

"""Choosing where the pairwise work runs, and the array-module path that CuPy takes.

No GPU is needed: the path that a non-NumPy module takes (no array counts for
``repeat``, transfers through ``asnumpy``) runs here on a stand-in module that forwards
to NumPy but is not NumPy, and must give exactly the CPU's answer.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import numpy as np
import pytest

from deconfliction.errors import ValidationError
from deconfliction.tactical import CPU, ArrayBackend, detect, detect_all_pairs, select_backend
from tests.tactical.test_detect_properties import assert_identical
from tests.tactical.traffic import fleet


class _DeviceLike(types.ModuleType):
    """NumPy under another name, with CuPy's ``asnumpy``; ``repeat`` refuses array
    counts, as CuPy's does."""

    def __init__(self) -> None:
        super().__init__("device_like")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def asnumpy(array: Any) -> Any:
        return np.asarray(array)

    @staticmethod
    def repeat(array: Any, repeats: Any, axis: Any = None) -> Any:
        if isinstance(repeats, np.ndarray):
            raise TypeError("repeats must be an int, list or tuple")
        return np.repeat(array, repeats, axis)


DEVICE_LIKE = ArrayBackend("gpu", _DeviceLike())


def test_cpu_is_numpy() -> None:
    assert select_backend("cpu") is CPU
    assert CPU.xp is np


def test_an_unknown_device_is_refused_with_the_choices() -> None:
    with pytest.raises(ValidationError, match="unknown device 'tpu'; choose one of cpu, gpu, auto"):
        select_backend("tpu")


def test_without_cupy_auto_falls_back_and_gpu_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def no_cupy(name: str, package: str | None = None) -> types.ModuleType:
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_cupy)
    assert select_backend("auto") is CPU
    with pytest.raises(ValidationError, match=r"needs CuPy and a CUDA device.*use device 'cpu'"):
        select_backend("gpu")


def test_cupy_without_a_device_is_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = types.SimpleNamespace(getDeviceCount=lambda: 0)
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert select_backend("auto") is CPU
    with pytest.raises(ValidationError):
        select_backend("gpu")


def test_repeat_index_without_array_counts() -> None:
    counts = np.array([2, 0, 3, 1])
    assert DEVICE_LIKE.repeat_index(counts).tolist() == CPU.repeat_index(counts).tolist()
    assert DEVICE_LIKE.repeat_index(np.zeros(0, dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("centre", [(8.5, 47.4), (179.97, -17.0)])
def test_the_device_path_gives_exactly_the_cpu_answer(centre: tuple[float, float]) -> None:
    state = fleet(seed=5, n=800, centre=centre, spread_m=120_000.0)
    expected = detect(state)
    assert len(expected) > 20
    assert_identical(detect(state, backend=DEVICE_LIKE), expected)
    assert_identical(detect_all_pairs(state, backend=DEVICE_LIKE), expected)

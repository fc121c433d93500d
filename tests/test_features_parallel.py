"""run_both: the two results in order, threads only for big inputs, and errors reach the caller."""

from __future__ import annotations

import threading

import pytest

from loyalty_ml import _parallel
from loyalty_ml._parallel import run_both


def _thread() -> str:
    return threading.current_thread().name


def test_small_inputs_stay_on_the_calling_thread() -> None:
    assert run_both(_thread, _thread, rows=10) == (_thread(), _thread())


def test_big_inputs_run_the_second_piece_on_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "_cores", lambda: 2)
    first, second = run_both(_thread, _thread, rows=_parallel.PARALLEL_MIN_ROWS)
    assert first == _thread()
    assert second.startswith("loyalty_ml-worker")


def test_one_core_never_starts_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "_cores", lambda: 1)
    assert run_both(_thread, _thread, rows=10**9) == (_thread(), _thread())


def test_an_error_in_either_piece_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "_cores", lambda: 2)

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_both(_thread, fail, rows=10**9)
    with pytest.raises(ValueError, match="boom"):
        run_both(fail, _thread, rows=10**9)

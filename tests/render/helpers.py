"""Fresh-process renders for history-independence tests (run in a spawned worker)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import numpy as np

from asp.jobs import run_pool


def fresh_render(args: tuple[str, Any, np.ndarray, int], report: Callable[[Any], None]) -> np.ndarray:
    from asp.render.factory import make_renderer

    synth, settings, vector, note = args
    return make_renderer(synth, settings).render(vector, note)


def in_fresh_process(synth: str, settings: Any, vector: np.ndarray, note: int = 60) -> np.ndarray:
    out: list[np.ndarray] = []
    errors: list[str] = []
    run_pool(
        [(synth, settings, vector, note)],
        fresh_render,
        1,
        on_result=lambda t, r: out.append(r),
        on_error=lambda t, e: errors.append(e),
        on_crash=lambda c: None,
    )
    assert not errors, errors
    assert out, "the fresh render process crashed"
    return out[0]


def crash_on(item: int, report: Callable[[Any], None]) -> int:
    """A task function that segfaults its worker on item 3 and raises on item 5."""
    report(("start", item))
    if item == 3:
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == 5:
        raise ValueError("bad item")
    return item * 10


def engine_identity(item: int, report: Callable[[Any], None]) -> tuple[int, int]:
    """(worker pid, id of the worker's cached subtractive engine): the same pair across tasks means a reused engine."""
    from asp.render.factory import get_renderer
    from asp.render.settings import RenderSettings

    renderer = get_renderer("subtractive", RenderSettings(note_seconds=0.2, render_seconds=0.4, notes=(60,)))
    renderer.render(np.zeros(renderer.schema.n_params, np.float32) + 0.5, 60)
    return os.getpid(), id(renderer)


def worker_pid(item: int, report: Callable[[Any], None]) -> int:
    """The pid of the worker that ran the task."""
    return os.getpid()

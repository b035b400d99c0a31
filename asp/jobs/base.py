"""What every job pool shares: the task-crash record, the progress callback, the error format, the backends."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Report = Callable[[Any], None]
BACKENDS = ("local", "ray")


def format_error(err: BaseException) -> str:
    """A task's exception as the pools report it: type, message and the last frames of the traceback."""
    return f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}"


@dataclass
class TaskCrash(Generic[T]):
    """What the parent knows when a worker died holding a task."""

    task: T
    last_progress: Any
    exitcode: int | None
    crashes: int
    detail: str = ""

    @property
    def how(self) -> str:
        """How the worker died, for messages: its exit code, else what the engine said."""
        return f"exit code {self.exitcode}" if self.exitcode is not None else (self.detail or "exit code unknown")


class MissingExtra(ImportError):
    """An optional extra is not installed (the message says how to install it)."""

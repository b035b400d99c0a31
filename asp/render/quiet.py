"""Silence C/C++ output (DawDreamer and plugins print to the process's stdout/stderr file descriptors)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

QUIET = os.environ.get("ASP_VERBOSE_RENDER", "") in ("", "0")


@contextmanager
def quiet_fds(enabled: bool = QUIET) -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null for the block (a no-op when disabled)."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)

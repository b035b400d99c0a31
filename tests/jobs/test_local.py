"""The crash-tolerant pool: a segfaulting worker is replaced and its task retried or given up."""

from asp.jobs import TaskCrash, run_pool
from tests.render.helpers import crash_on, worker_pid


def test_pool_survives_a_segfault():
    results, errors, crashes = {}, {}, []

    def on_crash(c: TaskCrash):
        crashes.append((c.task, c.last_progress, c.exitcode))
        return None

    run_pool(
        range(8),
        crash_on,
        2,
        on_result=lambda t, r: results.__setitem__(t, r),
        on_error=lambda t, e: errors.__setitem__(t, e),
        on_crash=on_crash,
    )
    assert results == {i: i * 10 for i in (0, 1, 2, 4, 6, 7)}
    assert list(errors) == [5] and "bad item" in errors[5]
    assert crashes == [(3, ("start", 3), -11)]


def test_pool_retries_what_on_crash_returns():
    results = {}
    run_pool(
        [3, 1],
        crash_on,
        1,
        on_result=lambda t, r: results.__setitem__(t, r),
        on_error=lambda t, e: None,
        on_crash=lambda c: 4,
    )  # retry a crashed task as another item
    assert results == {4: 40, 1: 10}


def test_inline_pool():
    results = {}
    run_pool(
        [1, 2],
        crash_on,
        0,
        on_result=lambda t, r: results.__setitem__(t, r),
        on_error=lambda t, e: None,
        on_crash=lambda c: None,
    )
    assert results == {1: 10, 2: 20}


def test_a_task_that_needs_a_fresh_process_gets_one():
    pids: dict[int, int] = {}
    run_pool(
        range(6),
        worker_pid,
        1,
        on_result=lambda t, r: pids.__setitem__(t, r),
        on_error=lambda t, e: None,
        on_crash=lambda c: None,
        fresh=lambda t: t in (2, 4),
    )
    # one worker: tasks 0-1 share it, 2 starts a new one (kept for 3), 4 another (kept for 5)
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4] == pids[5] and pids[4] != pids[0]

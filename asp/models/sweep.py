"""The decoder-variant x latent-size sweep: one training run per trial, one results table at the end.

``backend="local"`` trains the trials one after another in this process. ``backend="ray"`` submits each trial as a
Ray task with its own CPUs (and GPUs), so a cluster trains one trial per worker in parallel; the driver collects the
same rows. Either way the table (``results.csv``/``.parquet``, a row per finished trial, in plan order) is rewritten
atomically as trials finish, a re-run skips the trials already in it, and a trial that fails is reported while the
others go on (re-run to retry it). On a cluster the sweep folder must be on a disk every node shares: each trial
writes its run folder (checkpoints, logs) there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from asp.atomic import atomic_write_bytes
from asp.jobs import BACKENDS, format_error

Outcome = tuple[tuple[str, int], dict[str, Any] | None, str | None]  # (trial, its summary or None, error or None)


def trial_overrides(overrides: Sequence[str], variant: str, z_dim: int, out: Path) -> list[str]:
    """The training overrides of one trial; its run folder is ``OUT/<variant>-z<z_dim>``."""
    return [*overrides, f"experiment={variant}", f"model.z_dim={z_dim}", f"run_dir={out / f'{variant}-z{z_dim}'}"]


def run_trial(overrides: Sequence[str]) -> dict[str, Any]:
    """Train one trial (also the body of a Ray task). Returns its ``results.json`` summary."""
    from asp.models.training import compose, train

    return train(compose(overrides))


class SweepError(RuntimeError):
    """Some trials failed; the table holds the others."""


def sweep(
    overrides: Sequence[str],
    variants: Sequence[str],
    latents: Sequence[int],
    out: Path | None = None,
    *,
    backend: str = "local",
    address: str | None = None,
    cpus_per_trial: float = 1,
    gpus_per_trial: float = 0,
    log: Callable[[str], None] = print,
) -> Path:
    """Train every variant x latent size and write one results table (a row per trial). Returns the sweep folder.

    Raises:
        ValueError: an unknown backend or a bad override (checked by composing every trial first).
        SweepError: some trials failed (the table holds the rest; re-running retries them).
    """
    import pandas as pd

    from asp.models.training import compose

    if backend not in BACKENDS:
        raise ValueError(f"unknown sweep backend {backend!r}; valid: {', '.join(BACKENDS)}")
    out = Path(out or Path("runs") / f"sweep-{dt.datetime.now(dt.UTC).strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    plan = [(v, int(z)) for v in variants for z in latents]
    done: dict[tuple[str, int], dict[str, Any]] = {}
    if (out / "results.csv").is_file():
        for row in pd.read_csv(out / "results.csv").to_dict("records"):
            done[(row["variant"], int(row["z_dim"]))] = row
    todo = [(v, z) for v, z in plan if (v, z) not in done]
    if len(todo) < len(plan):
        log(f"resuming: {len(plan) - len(todo)} of {len(plan)} trials already in {out / 'results.csv'}")
    jobs = {(v, z): trial_overrides(overrides, v, z, out) for v, z in todo}
    for args in jobs.values():
        compose(args)  # a bad override stops the sweep before any training

    def write() -> None:
        table = pd.DataFrame([done[k] for k in plan if k in done])
        atomic_write_bytes(out / "results.csv", table.to_csv(index=False).encode())
        atomic_write_bytes(out / "results.parquet", table.to_parquet(index=False))

    failed: dict[tuple[str, int], str] = {}
    outcomes = (
        _ray_outcomes(jobs, address, cpus_per_trial, gpus_per_trial) if backend == "ray" else _local_outcomes(jobs)
    )
    for key, result, error in outcomes:
        if error is not None:
            failed[key] = error
            log(f"trial {key[0]} z={key[1]} failed: {error.splitlines()[0]}")
            continue
        done[key] = {**(result or {}), "variant": key[0], "z_dim": key[1]}
        write()
        log(f"trial {key[0]} z={key[1]} done ({len(done)}/{len(plan)})")
    write()
    if failed:
        raise SweepError(
            f"{len(failed)} of {len(plan)} trials failed (re-run the sweep to retry them):\n"
            + "\n".join(f"{v} z={z}: {e.splitlines()[0]}" for (v, z), e in failed.items())
        )
    return out


def _local_outcomes(jobs: dict[tuple[str, int], list[str]]) -> Iterator[Outcome]:
    """The trials one after another in this process."""
    for key, args in jobs.items():
        try:
            result = run_trial(args)
        except Exception as err:  # one failed trial does not stop the others
            yield key, None, format_error(err)
            continue
        yield key, result, None


def _ray_outcomes(
    jobs: dict[tuple[str, int], list[str]], address: str | None, cpus: float, gpus: float
) -> Iterator[Outcome]:
    """One Ray task per trial, each holding ``cpus`` CPUs and ``gpus`` GPUs; outcomes in the order trials end."""
    from asp.jobs.ray_actors import connect, import_ray

    ray = import_ray()
    if not jobs:
        return
    started = connect(address)
    try:
        task = ray.remote(run_trial).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
        pending = {task.remote(args): key for key, args in jobs.items()}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                key = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as err:  # the trial raised, or its worker died: Ray's error carries the traceback
                    yield key, None, f"{type(err).__name__}: {err}"
                    continue
                yield key, result, None
    finally:
        if started:
            ray.shutdown()

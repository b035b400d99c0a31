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
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

from asp.atomic import atomic_write_bytes

BACKENDS = ("local", "ray")


def trial_overrides(overrides: Sequence[str], variant: str, z_dim: int, out: Path) -> list[str]:
    """The training overrides of one trial; its run folder is ``OUT/<variant>-z<z_dim>``."""
    return [*overrides, f"experiment={variant}", f"model.z_dim={z_dim}", f"run_dir={out / f'{variant}-z{z_dim}'}"]


def run_trial(overrides: Sequence[str]) -> dict[str, Any]:
    """Train one trial (also the body of a Ray task). Returns its ``results.json`` summary."""
    from asp.models.training import compose, train

    return train(compose(overrides))


class SweepError(RuntimeError):
    """Some trials failed; the table holds the others."""


def sweep(overrides: Sequence[str], variants: Sequence[str], latents: Sequence[int], out: Path | None = None, *,
          backend: str = "local", address: str | None = None, cpus_per_trial: float = 1,
          gpus_per_trial: float = 0, log: Callable[[str], None] = print) -> Path:
    """Train every variant x latent size and write one results table (a row per trial). Returns the sweep folder.

    Raises:
        ValueError: an unknown backend or a bad override (checked by composing every trial first).
        SweepError: some trials failed (the table holds the rest; re-running retries them).
    """
    import pandas as pd

    from asp.models.training import compose

    if backend not in BACKENDS:
        raise ValueError(f"unknown sweep backend {backend!r}; valid: {', '.join(BACKENDS)}")
    out = Path(out or Path("runs") / f"sweep-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%d-%H%M%S')}")
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

    def write() -> pd.DataFrame:
        table = pd.DataFrame([done[k] for k in plan if k in done])
        atomic_write_bytes(out / "results.csv", table.to_csv(index=False).encode())
        atomic_write_bytes(out / "results.parquet", table.to_parquet(index=False))
        return table

    failed: dict[tuple[str, int], str] = {}

    def finished(key: tuple[str, int], result: dict[str, Any] | None, error: str | None) -> None:
        if error is not None:
            failed[key] = error
            log(f"trial {key[0]} z={key[1]} failed: {error.splitlines()[0]}")
            return
        done[key] = {**(result or {}), "variant": key[0], "z_dim": key[1]}
        write()
        log(f"trial {key[0]} z={key[1]} done ({len(done)}/{len(plan)})")

    if backend == "ray":
        _run_ray(jobs, finished, address, cpus_per_trial, gpus_per_trial)
    else:
        for key, args in jobs.items():
            try:
                result = run_trial(args)
            except Exception as err:  # one failed trial does not stop the others
                finished(key, None, f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}")
                continue
            finished(key, result, None)
    write()
    if failed:
        raise SweepError(f"{len(failed)} of {len(plan)} trials failed (re-run the sweep to retry them):\n" +
                         "\n".join(f"{v} z={z}: {e.splitlines()[0]}" for (v, z), e in failed.items()))
    return out


def _run_ray(jobs: dict[tuple[str, int], list[str]], finished: Callable[..., None], address: str | None,
             cpus: float, gpus: float) -> None:
    """One Ray task per trial, each holding ``cpus`` CPUs and ``gpus`` GPUs; results handed to ``finished`` as the
    tasks end."""
    from asp.render.ray_pool import connect, import_ray

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
                    finished(key, ray.get(ref), None)
                except Exception as err:  # the trial raised (or its worker died): reported, the others go on
                    finished(key, None, f"{type(err).__name__}: {err}")
    finally:
        if started:
            ray.shutdown()

"""Proxy retrieval (Combes et al.): for each hand-made preset's sound, the rank of the true preset among candidates
ordered by the proxy's predicted embedding, as MRR and top-k.

Queries: the hand-made presets (``asp.eval.presets.draw_hand_made``), each rendered at ``note`` with the proxy's
dataset settings, embedded as the proxy's targets are. Candidates: those same presets plus ``distractors`` random
presets of the synth (its sampling spec), each embedded by the proxy at ``note`` without rendering. Beside it:
**chance** (the expected MRR of a random order), and the same retrieval with random presets as the queries (in the
training distribution, as the paper's synthetic-preset MRR).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from asp.atomic import atomic_write_bytes
from asp.eval.presets import draw_hand_made
from asp.models.proxy_training import Proxy
from asp.render.factory import get_renderer
from asp.synths import load_sampling, registry, sample_presets

TOP_K = (1, 5, 10)


def ranks(queries: np.ndarray, candidates: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(Q,) 1-based rank of candidate ``truth[q]`` among all candidates by Euclidean distance to query ``q``
    (ties counted against it). queries: (Q, D), candidates: (C, D)."""
    d = ((queries[:, None, :] - candidates[None, :, :]) ** 2).sum(-1)
    own = d[np.arange(len(queries)), truth]
    return (d <= own[:, None]).sum(axis=1)


def summary(r: np.ndarray) -> dict[str, float]:
    out = {"mrr": float(np.mean(1.0 / r))}
    out.update({f"top{k}": float(np.mean(r <= k)) for k in TOP_K})
    return out


def seen_presets(proxies: Sequence[Proxy]) -> tuple[np.ndarray | None, list[str]]:
    """The native vectors of the presets the proxies were trained or validated on (their datasets' train and valid
    splits: a hand-made preset among them is not a held-out query), and the datasets that are not here to read."""
    from asp.data.store import Dataset
    from asp.eval.evaluate import dataset_train_presets

    seen, missing = [], []
    for root in sorted({str(p.card.get("dataset", "")) for p in proxies}):
        if not root:
            missing.append("(a proxy's card names none)")
            continue
        try:
            seen.append(dataset_train_presets(Dataset(root), [proxies[0].synth], ("train", "valid"))[proxies[0].synth])
        except (FileNotFoundError, KeyError, OSError):
            missing.append(root)
    return (np.concatenate(seen) if seen else None), missing


def proxy_names(proxies: Sequence[Proxy]) -> list[str]:
    """Each proxy's name in a report: its folder's name, with the parent folder's where two would share one."""
    short = [p.folder.name for p in proxies]
    return [f"{p.folder.parent.name}/{n}" if short.count(n) > 1 else n for p, n in zip(proxies, short)]


def evaluate_retrieval(
    proxies: Sequence[Proxy],
    source: str | None = None,
    limit: int = 200,
    distractors: int = 1000,
    note: int = 60,
    seed: int = 0,
) -> dict[str, Any]:
    """Retrieval of one synth's hand-made presets by each proxy (all for the same synth and dataset settings).

    The queries are ``limit`` of the distinct hand-made presets at ``source`` (default: the synth's factory
    presets) drawn with ``seed``, leaving out those the proxies were trained or validated on (:func:`seen_presets`)."""
    synth = proxies[0].synth
    if any(p.synth != synth for p in proxies):
        raise ValueError("every proxy of one evaluation must be for the same synth")
    first = proxies[0]
    if any(p.mel != first.mel or p.render_settings != first.render_settings for p in proxies):
        raise ValueError("every proxy of one evaluation must use the same render and mel settings")
    schema = registry.load_schema(synth)
    path = Path(source) if source else registry.factory_presets(synth)
    seen, missing = seen_presets(proxies)
    chosen, n_unique, left_out = draw_hand_made(schema, path, limit, seed, exclude=seen)
    rng = np.random.default_rng(seed + 1)
    extra = sample_presets(schema, distractors, rng, load_sampling(synth))
    cands = np.concatenate([np.stack([p.vector for p in chosen]), extra]).astype(np.float64)
    renderer = get_renderer(synth, first.render_settings)
    truth = np.arange(len(chosen))
    k = min(len(extra), len(chosen))
    in_domain = len(chosen) + np.arange(k)
    asked = np.concatenate([truth, in_domain])
    # the queries' raw embeddings, standardised below by each proxy's own training statistics (proxies trained on
    # different datasets each predict in their own standardised space)
    raw = np.stack([first.audio_statistics(renderer.render(cands[i], note)) for i in asked])
    out: dict[str, Any] = {
        "synth": synth,
        "presets": str(path),
        "queries": len(chosen),
        "distinct_hand_made": n_unique,
        "left_out_seen": left_out,
        "datasets_not_found": missing,
        "candidates": len(cands),
        "note": note,
        "chance": {"mrr": float(np.mean(1.0 / np.arange(1, len(cands) + 1)))},
        "proxies": {},
    }
    for p, name in zip(proxies, proxy_names(proxies)):
        pred = p.embed_presets(cands, note)
        real = p.standardise(raw)
        out["proxies"][name] = {
            "arch": p.settings.arch,
            "best_valid_mse": p.card["best_valid_mse"],
            "mean_valid_mse": p.card.get("mean_valid_mse", float("nan")),  # (cards before it was recorded: NaN)
            **summary(ranks(real[: len(truth)], pred, truth)),
        }
        # the same with random presets (in the training distribution) as the queries, among the same candidates
        out["proxies"][name]["random_presets_mrr"] = summary(ranks(real[len(truth) :], pred, in_domain))["mrr"]
    return out


def write_retrieval(result: dict[str, Any], out: str | Path) -> Path:
    """``retrieval.json`` and ``retrieval.md`` in ``out``; returns the Markdown file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "retrieval.json", json.dumps(result, indent=2).encode())
    r = result
    lines = [
        f"# Proxy retrieval: {r['synth']}",
        "",
        f"{r['queries']} hand-made presets ({r['distinct_hand_made']} distinct in {r['presets']}) as queries, "
        f"rendered at MIDI note {r['note']}; {r['candidates']} candidates (the hand-made ones and random presets).",
        f"Left out: {r['left_out_seen']} hand-made presets the proxies were trained or validated on."
        + (
            f" Not checked (dataset not here): {', '.join(r['datasets_not_found'])}." if r["datasets_not_found"] else ""
        ),
        "",
        "| system | MRR | top-1 | top-5 | top-10 | MRR on random presets | valid MSE | the mean embedding's |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in r["proxies"].items():
        lines.append(
            f"| {name} ({m['arch']}) | {m['mrr']:.3f} | {m['top1']:.3f} | {m['top5']:.3f} | {m['top10']:.3f} | "
            f"{m['random_presets_mrr']:.3f} | {m['best_valid_mse']:.3f} | {m['mean_valid_mse']:.3f} |"
        )
    lines.append(f"| chance | {r['chance']['mrr']:.3f} | | | | | | |")
    md = out / "retrieval.md"
    atomic_write_bytes(md, ("\n".join(lines) + "\n").encode())
    return md

"""Intermediate audio produced by the models themselves, for training the selectors on what they see when used.

With true intermediate audio only, a selector never sees the small errors that the parameter models leave after
each step (one of the flaws of SerumRNN's code, ``pitfalls.md``). A *rollout* walks from a family's dry sound toward
one of its target subsets T, adding T's effects in a seeded random order; each effect's setting is predicted by the
trained parameter model from (the current, model-produced sound, the true target), and the chain is rendered. Every
state is a selection example: the steps so far, the effects used, and the effects of T still missing as the label
(none after the last step: stop). Per family: 31 targets, 111 examples, 80 renders (the dry sound is shared).

On disk, next to the models: ``rollouts/<family folder>/`` (``mels.npy``, ``mfccs.npy``: the states' features,
float16, state 0 the dry sound; ``examples.json``), each folder atomic, a re-run building only the missing ones.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from asp.atomic import atomic_dir, clean_partial
from asp.data.effects import KINDS, EffectDataset, _rng, n_subsets, next_label
from asp.data.layout import check_or_write_plan
from asp.effects.systems import Models
from asp.features.effect import EffectFeatures, effect_mel, effect_mfcc
from asp.synths import effect_specs as specs


def per_family() -> int:
    """Examples per family: a rollout toward each target (31 of the five), one per effect of it, and a stop at its
    end (111 for the five)."""
    return sum(bin(t).count("1") + 1 for t in range(1, n_subsets()))


def rollout_family(
    data: EffectDataset, family: int, models: Models, seed: int, f: EffectFeatures
) -> dict[str, np.ndarray | list]:
    """The states and examples of one family (see the module docstring), on the dataset's rack for it."""
    dry, rack = data.dry(family), data.rack(family)
    targets = {k: data.features(family, k) for k in KINDS.values()}
    rng = _rng(seed, "rollout", data.families.family.iloc[int(family)])
    orders = {
        t: [e for e in rng.permutation(specs.rack_order()) if specs.mask_of((e,)) & t] for t in range(1, n_subsets())
    }
    mel = effect_mel(dry, f)
    states = {"mels": [mel], "mfccs": [effect_mfcc(mel, f)]}
    state_of = {t: 0 for t in orders}  # the current state of each rollout
    chains: dict[int, specs.Chain] = {t: {} for t in orders}
    examples: list[dict] = []
    paths: dict[int, list[int]] = {t: [0] for t in orders}
    kind = KINDS[models.features]
    for i in range(len(specs.rack_order()) + 1):
        live = [t for t, order in orders.items() if len(order) >= i]
        for t in live:  # the example at this step: the states so far, the effects used, what is still missing
            used = [specs.mask_of(orders[t][:j]) for j in range(i + 1)]  # (nothing after T's last effect: stop)
            examples.append({"target": t, "path": list(paths[t]), "used": used, "label": t & ~used[-1]})
        live = [t for t in live if len(orders[t]) > i]  # the rollouts with an effect still to add
        by_effect: dict[str, list[int]] = {}
        for t in live:
            by_effect.setdefault(orders[t][i], []).append(t)
        for effect, ts in by_effect.items():
            x = np.stack([np.stack([states[kind][state_of[t]], targets[kind][t]]) for t in ts]).astype(np.float32)
            for t, setting in zip(ts, models.params(effect).predict(torch.from_numpy(x))):
                chains[t] = {**chains[t], effect: setting}
        for t in live:
            audio = rack.apply(dry, chains[t])
            mel = effect_mel(audio, f)
            states["mels"].append(mel)
            states["mfccs"].append(effect_mfcc(mel, f))
            state_of[t] = len(states["mels"]) - 1
            paths[t].append(state_of[t])
    return {"mels": np.stack(states["mels"]), "mfccs": np.stack(states["mfccs"]), "examples": examples}


def build(
    data: EffectDataset,
    models: Models,
    rows: Sequence[int] | np.ndarray,
    out: str | Path,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> Path:
    """Roll out the families ``rows`` into ``out`` (resumable). Refuses a folder made with other models."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {
        "data_plan_crc32": zlib.crc32((data.root / "plan.json").read_bytes()),
        "seed": seed,
        "examples_per_family": per_family(),
        "params": models.fingerprint(("params",)),
    }
    check_or_write_plan(out, wanted, "rollouts", "delete it to rebuild")
    f = EffectFeatures(sample_rate=data.sample_rate)
    done = 0
    for n, fam in enumerate(rows):
        folder = out / data.families.folder.iloc[int(fam)]
        if (folder / "examples.json").is_file():
            done += 1
            continue
        if folder.parent.is_dir():
            clean_partial(folder.parent)
        r = rollout_family(data, int(fam), models, seed, f)
        with atomic_dir(folder) as tmp:
            for k in KINDS.values():
                np.save(tmp / f"{k}.npy", np.asarray(r[k]).astype(np.float16))
            (tmp / "examples.json").write_text(json.dumps(r["examples"]))
        if (n + 1) % 20 == 0:
            log(f"rollouts: {n + 1}/{len(rows)} families")
    if done:
        log(f"rollouts: {done} of {len(rows)} families already built")
    return out


class RolloutExamples(Dataset):
    """Selection examples on model-produced intermediate audio, in ``SelectionExamples``' format (``one_shot``:
    only the first step of each rollout, as SerumCNN 1S trains; ``order="greedy"``: the label is the missing effect
    that brings the true audio of the effects used so far closest to the target, as ``SelectionExamples``)."""

    def __init__(
        self,
        data: EffectDataset,
        folder: str | Path,
        rows: Sequence[int] | np.ndarray,
        features: str = "mel",
        one_shot: bool = False,
        order: str = "any",
        metric: str = "mssmae",
    ) -> None:
        self.data, self.folder, self.metric = data, Path(folder), metric
        self.order = "any" if one_shot else order  # (labels on first use, as SelectionExamples)
        self.kind = KINDS[features]
        self.index: list[tuple[int, dict]] = []
        for fam in rows:
            path = self.folder / data.families.folder.iloc[int(fam)] / "examples.json"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing rollouts (run the training again to build them)")
            self.index += [
                (int(fam), ex)
                for ex in json.loads(path.read_text())
                if not one_shot or (len(ex["path"]) == 1 and ex["label"])
            ]  # 1S: from the dry sound
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fam, ex = self.index[i]
        if fam not in self._cache:
            self._cache[fam] = np.load(
                self.folder / self.data.families.folder.iloc[fam] / f"{self.kind}.npy", mmap_mode="r"
            )
        states = self._cache[fam]
        target = self.data.features(fam, self.kind)[ex["target"]]
        steps = np.stack([np.stack([states[s], target]) for s in ex["path"]]).astype(np.float32)
        used = np.stack([specs.mask_vector(m) for m in ex["used"]])
        label = next_label(self.data, fam, ex["used"][-1], ex["target"], self.order, self.metric)
        return torch.from_numpy(steps), torch.from_numpy(used), torch.from_numpy(specs.mask_vector(label))

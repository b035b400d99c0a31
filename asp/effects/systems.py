"""The paper's systems, backed by trained models (``asp effects train``): who chooses the next effect, and who sets it.

=============  ==========================================  =================================
system         chooses the next effect                      sets its parameters
=============  ==========================================  =================================
serumrnn       the ``rnn`` selector (history, BiLSTM)       the per-effect parameter models
serumrnn_ni    the ``rnn_ni`` selector (initial sound only)  the parameter models
serumcnn       the ``cnn`` selector (current step only)      the parameter models
serumcnn_1s    the ``cnn_1s`` selector: the whole set, once   the parameter models
oracle         the target's true missing effects (rack order) the parameter models
random         a uniformly random unused effect             the parameter models
exact          the target's true missing effects (rack order) the target's true settings
=============  ==========================================  =================================

Oracle and Random keep the parameter models, as in the paper, so that they isolate the choice of effects. Exact is
not in the paper: a reference that needs no model at all, it shows what the metrics do when every step is perfect
(its last step reaches the target exactly), and so how much of the Oracle's remaining error is the parameter
models'. Every system runs under the same loop and stopping rule (``asp.effects.loop``). The three sequential
selectors may also choose to stop (``asp.models.effects``); the Oracle and Exact stop when the target's effects are
used, Random never does.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from asp.data.effects import use_extras_of
from asp.effects.loop import Observation, OraclePolicy, ParamPredictor, Policy, RandomPolicy, TrueParams
from asp.models.effects import EffectParamModel, EffectSelector
from asp.synths import effect_specs as specs

SYSTEMS = {
    "serumrnn": "rnn",
    "serumrnn_ni": "rnn_ni",
    "serumcnn": "cnn",
    "serumcnn_1s": "cnn_1s",
    "oracle": None,
    "random": None,
    "exact": None,
}
LABELS = {
    "serumrnn": "SerumRNN",
    "serumrnn_ni": "SerumRNN NI",
    "serumcnn": "SerumCNN",
    "serumcnn_1s": "SerumCNN 1S",
    "oracle": "Oracle",
    "random": "Random",
    "exact": "Exact",
}
KNOWING = ("oracle", "exact")  # the systems told the target's true effects (evaluation only)


def parse_systems(names: Sequence[str]) -> list[str]:
    out = []
    for n in names:
        key = n.strip().lower().replace(" ", "_").replace("-", "_")
        if key not in SYSTEMS:
            raise KeyError(f"unknown system {n!r}; valid: {', '.join(SYSTEMS)}")
        out.append(key)
    return out


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``n`` torch threads (None: as they are), restoring the count after."""
    old = torch.get_num_threads()
    if n and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n and n != old:
            torch.set_num_threads(old)


class Models:
    """The trained networks in a folder written by ``asp effects train`` (loaded on first use, CPU by default).

    ``threads``: torch threads for their forward passes (default 1). The loop feeds one example at a time, and on
    CPU one thread is fastest for that: with torch's default (one per core) a step took 10x longer on the 2-core VM
    whenever another process was busy (``scripts/bench_effects.py``, docs/PERFORMANCE.md)."""

    def __init__(self, folder: str | Path, device: str = "cpu", threads: int | None = 1) -> None:
        self.folder = Path(folder)
        results = self.folder / "results.json"
        if not results.is_file():
            raise FileNotFoundError(f"{self.folder}: no trained effect models (no results.json; run asp effects train)")
        self.config = json.loads(results.read_text()).get("_config", {})
        use_extras_of(self.config)  # the rack the models were trained on (the built-in five, or more)
        self.features = str(self.config.get("features", "mel"))
        self.backend = str(self.config.get("backend", "faust"))  # the effects they were trained on
        self.device = torch.device(device)
        self.threads = threads if self.device.type == "cpu" else None
        self._nets: dict[str, torch.nn.Module] = {}

    def _load(self, name: str) -> torch.nn.Module:
        if name not in self._nets:
            from asp.models.checkpoints import load_checkpoint
            from asp.models.effect_training import EffectModule

            ckpt = self.folder / f"{name}.ckpt"
            if not ckpt.is_file():
                raise FileNotFoundError(f"{ckpt}: not trained (run asp effects train)")
            load_checkpoint(ckpt)  # refuses pickled objects beyond tensors and plain data, naming the file
            self._nets[name] = EffectModule.load_from_checkpoint(
                str(ckpt), map_location=self.device, weights_only=True
            ).net.eval()
        return self._nets[name]

    def fingerprint(self, kinds: Sequence[str] = ("params", "selectors")) -> dict[str, int]:
        """CRC-32 of each checkpoint (``params/eq.ckpt``: crc): what outputs made with these models depend on."""
        return {
            str(p.relative_to(self.folder)): zlib.crc32(p.read_bytes())
            for kind in kinds
            for p in sorted((self.folder / kind).glob("*.ckpt"))
        }

    def params(self, effect: str) -> EffectParamModel:
        return self._load(f"params/{specs.get(effect).name}")  # type: ignore[return-value]

    def selector(self, variant: str) -> EffectSelector:
        return self._load(f"selectors/{variant}")  # type: ignore[return-value]

    def predict_settings(self, effect: str, x: torch.Tensor) -> list[specs.Setting]:
        """Settings of ``effect`` for a batch of (current, target) features, (B, 2, bins, frames), on the models'
        device and threads."""
        with torch_threads(self.threads):
            return self.params(effect).predict(x.to(self.device))

    def tensor(self, observations: Sequence[Observation]) -> torch.Tensor:
        """(1, steps, 2, bins, frames) model input of the observations."""
        x = np.stack([o.pair(self.features) for o in observations])[None].astype(np.float32)
        return torch.from_numpy(x).to(self.device)


class ModelParams:
    """Parameter prediction by the per-effect models, from the current observation."""

    def __init__(self, models: Models) -> None:
        self.models = models

    def predict(self, effect: str, observation: Observation) -> specs.Setting:
        return self.models.predict_settings(effect, self.models.tensor([observation])[:, 0])[0]


class SelectorPolicy:
    """Next effect from a trained selector. ``cnn_1s`` predicts the whole set from the first observation (effects
    scoring above ``threshold``, at least the top one) and applies it in order of confidence, then stops."""

    def __init__(self, models: Models, variant: str, threshold: float = 0.5) -> None:
        self.models, self.variant, self.threshold = models, variant, threshold
        self.net = models.selector(variant)
        self._plan: list[str] = []

    @torch.no_grad()
    def next_effect(self, observations: Sequence[Observation], used: Sequence[str]) -> str | None:
        order = specs.rack_order()
        used = specs.parse_names(list(used))
        if len(used) == len(order):
            return None
        # the one-hot sets of effects used before each observation (observation i follows the first i steps)
        history = torch.from_numpy(
            np.stack([specs.mask_vector(specs.mask_of(used[:i])) for i in range(len(observations))])[None]
        ).to(self.models.device)
        with torch_threads(self.models.threads):
            logits = self.net(self.models.tensor(observations), history)[0]
        if self.variant == "cnn_1s":
            if len(observations) == 1:  # a new run: decide the set once
                probs = torch.sigmoid(logits).cpu().numpy()
                ranked = [order[i] for i in np.argsort(-probs, kind="stable")]
                self._plan = [e for e in ranked if probs[order.index(e)] > self.threshold] or ranked[:1]
            left = [e for e in self._plan if e not in used]
            return left[0] if left else None
        choice = int(torch.argmax(logits))
        return None if choice == self.net.stop else order[choice]


def build(
    system: str, models: Models, missing: Sequence[str] | specs.Chain | None = None, rng: np.random.Generator | int = 0
) -> tuple[Policy, ParamPredictor]:
    """(policy, parameter predictor) of a system. ``missing``: the target's true missing effects (Oracle), with
    their settings (a chain: Exact)."""
    (system,) = parse_systems([system])
    params = ModelParams(models)
    if system in KNOWING:
        if missing is None:
            raise ValueError(f"the {system} system needs the target's effects")
        if system == "exact":
            if not isinstance(missing, dict):
                raise ValueError("the exact system needs the target's effects with their settings (a chain)")
            return OraclePolicy(list(missing)), TrueParams(missing)
        return OraclePolicy(list(missing)), params
    if system == "random":
        return RandomPolicy(rng), params
    variant = SYSTEMS[system]
    assert variant is not None, system
    return SelectorPolicy(models, variant), params

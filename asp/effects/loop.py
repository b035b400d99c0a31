"""The step-by-step loop: choose the next unused effect, predict its parameters, render, measure, repeat.

The sound is always the dry audio through the rack with the effects chosen so far (rack order, one setting each),
so "adding an effect" is one render of the whole chain. After every step the six SerumRNN metrics against the
target are measured; one of them (``metric``, default the multi-scale spectral MAE) drives the stopping rule:

* a *bad step* makes that metric worse than before the step;
* ``patience`` bad steps are tolerated (default 1, as in the paper) and kept; the next bad step is measured, reported
  and *not* applied, and the loop stops there (SerumRNN's code instead applied the rule after the fact, keeping the
  damage);
* ``rollback=True`` returns the best state seen (lowest metric) instead of the last kept one;
* the loop also stops when every effect is used, or when the policy says stop (``None``).

``search_classes=True`` (beyond SerumRNN; off by default) listens before it commits to a categorical value: the
chosen effect is rendered with every class of its categorical parameters (the distortion's twelve modes), the
continuous values as predicted, and the class whose sound is closest to the target in ``metric`` is kept. The
parameter models name the distortion mode far less reliably than they set continuous values (see the eval's
parameter table), and a render costs milliseconds. Each extra render is counted in the step's ``render`` and
``features`` times.

Policies choose effects (``asp.effects.systems`` has the paper's systems and baselines); a parameter predictor
gives settings. Both see ``Observation``s: SerumRNN features of each step's current sound and of the target.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from asp.features.effect import EffectFeatures, Spectra, spectra
from asp.metrics import check_metric, effect_metrics
from asp.synths import effect_specs as specs

if TYPE_CHECKING:
    from asp.render.effects import Rack

HIGHER_IS_BETTER = {"pcc"}


@dataclass
class Observation:
    """What the models see at a step: features of the current sound and of the target, (bins, frames) each."""

    mel: np.ndarray
    mfcc: np.ndarray
    target_mel: np.ndarray
    target_mfcc: np.ndarray

    def pair(self, features: str = "mel") -> np.ndarray:
        """(2, bins, frames): current and target."""
        return np.stack([self.mel, self.target_mel] if features == "mel" else [self.mfcc, self.target_mfcc])


class Policy(Protocol):
    def next_effect(self, observations: Sequence[Observation], used: Sequence[str]) -> str | None: ...


class ParamPredictor(Protocol):
    def predict(self, effect: str, observation: Observation) -> specs.Setting: ...


@dataclass
class Step:
    """One step: the effect, its setting, the metrics after it, whether it was kept, and where the time went."""

    index: int
    effect: str
    setting: specs.Setting
    metrics: dict[str, float]
    before: dict[str, float]
    kept: bool
    seconds: dict[str, float] = field(default_factory=dict)

    def describe(self, metric: str = "mssmae") -> str:
        verdict = "" if self.kept else "  (worse again: not applied, stopped)"
        return (
            f"Step {self.index}: {specs.get(self.effect).describe(self.setting)} "
            f"({metric} {self.before[metric]:.4g} -> {self.metrics[metric]:.4g}){verdict}"
        )

    def as_json(self, metric: str = "mssmae") -> dict[str, Any]:
        return {
            "step": self.index,
            "effect": self.effect,
            "setting": specs.as_jsonable({self.effect: self.setting})[self.effect],
            "described": self.describe(metric),
            "kept": self.kept,
            "before": self.before,
            "after": self.metrics,
            "ms": {k: round(v * 1000, 2) for k, v in self.seconds.items()},
        }


@dataclass
class LoopResult:
    steps: list[Step]
    chain: specs.Chain  # the effects applied (kept steps, or up to the best step with rollback)
    audio: np.ndarray
    start: dict[str, float]  # metrics of the input against the target
    final: dict[str, float]
    stopped: str
    metric: str

    def as_json(self) -> dict[str, Any]:
        """What a run did, for a JSON file: the rule's metric, why it stopped, start and final metrics, the chain
        applied, every step (``Step.as_json``)."""
        return {
            "metric": self.metric,
            "stopped": self.stopped,
            "start": self.start,
            "final": self.final,
            "chain": specs.as_jsonable(self.chain),
            "steps": [s.as_json(self.metric) for s in self.steps],
        }


def observe(audio: np.ndarray, target: Spectra, f: EffectFeatures) -> tuple[Spectra, Observation]:
    """The clip's spectra (what the metrics read) and the observation built from them: features computed once."""
    s = spectra(audio, f)
    return s, Observation(s.mel, s.mfcc, target.mel, target.mfcc)


def worse(metric: str, after: float, before: float) -> bool:
    return after < before if metric in HIGHER_IS_BETTER else after > before


class StopRule:
    """The stopping rule: ``keep(after, before)`` is False for the bad step beyond the ``patience`` tolerated ones."""

    def __init__(self, metric: str, patience: int) -> None:
        self.metric, self.patience, self.bad = metric, patience, 0

    def keep(self, after: float, before: float) -> bool:
        is_bad = worse(self.metric, after, before)
        self.bad += int(is_bad)
        return not (is_bad and self.bad > self.patience)


def replay(
    start: dict[str, float], steps: Sequence[Step], metric: str, patience: int, rollback: bool = False
) -> tuple[dict[str, float], int]:
    """What a run with another stopping rule would have ended with: (final metrics, steps applied), from the steps
    of a run that tolerated at least as many bad steps. A run's steps do not depend on its patience until it stops
    (the policies see only kept states), so one run with a large patience answers every smaller one."""
    rule = StopRule(metric, patience)
    current, best, applied, best_n = start, start, 0, 0
    for step in steps:
        if not step.kept or not rule.keep(step.metrics[metric], current[metric]):
            break
        current, applied = step.metrics, applied + 1
        if worse(metric, best[metric], current[metric]):
            best, best_n = current, applied
    return (best, best_n) if rollback else (current, applied)


class EffectLoop:
    """Runs a policy and a parameter predictor on a rack (``asp.render.effects.Rack``: the built-in Faust rack,
    Serum's own FX, or any object with ``apply(dry, chain)``).

    Args:
        rack: where chains become sound.
        policy: chooses effects.
        params: predicts settings.
        metric: the metric of the stopping rule (one of ``asp.metrics.EFFECT_METRICS``).
        patience: bad steps tolerated (and kept) before the loop stops.
        rollback: return the best state seen instead of the last kept one.
        features: SerumRNN's feature settings.
    """

    def __init__(
        self,
        rack: Rack,
        policy: Policy,
        params: ParamPredictor,
        metric: str = "mssmae",
        patience: int = 1,
        rollback: bool = False,
        features: EffectFeatures | None = None,
        search_classes: bool = False,
    ) -> None:
        check_metric(metric)
        if patience < 0:
            raise ValueError("patience must be 0 or more")
        self.rack, self.policy, self.params = rack, policy, params
        self.metric, self.patience, self.rollback = metric, patience, rollback
        self.features = features or EffectFeatures()
        self.search_classes = search_classes

    def candidates(self, spec: specs.EffectSpec, setting: specs.Setting) -> list[specs.Setting]:
        """The settings to render for a step: the predicted one, and with ``search_classes`` the same continuous
        values with every other combination of classes."""
        if not self.search_classes or not spec.categorical:
            return [setting]
        combos = itertools.product(*[range(len(p.classes)) for p in spec.categorical])
        out = [{**setting, **{p.name: float(k) for p, k in zip(spec.categorical, combo)}} for combo in combos]
        return sorted(out, key=lambda c: c != setting)  # the prediction first: it wins ties

    def run(
        self,
        dry: np.ndarray,
        target: np.ndarray,
        max_steps: int = len(specs.rack_order()),
        on_step: Callable[[Step, np.ndarray], None] | None = None,
    ) -> LoopResult:
        """Move ``dry`` toward ``target`` (same length and rate). ``on_step(step, audio)`` sees each step's
        audio (for writing intermediate files)."""
        f = self.features
        t_spec = spectra(target, f)
        cur_spec, obs = observe(dry, t_spec, f)
        start = effect_metrics(cur_spec, t_spec, f)
        chain: specs.Chain = {}
        observations = [obs]
        steps: list[Step] = []
        current, current_metrics = np.asarray(dry, np.float32), start
        best: tuple[float, specs.Chain, np.ndarray, dict[str, float]] = (start[self.metric], {}, current, start)
        rule = StopRule(self.metric, self.patience)
        stopped = "every effect used"
        for i in range(1, max_steps + 1):
            used = [s.effect for s in steps]  # in step order (every step so far was kept)
            if len(used) == len(specs.rack_order()):
                break
            t0 = time.perf_counter()
            effect = self.policy.next_effect(observations, used)
            t1 = time.perf_counter()
            if effect is None:
                stopped = "the policy stopped"
                break
            spec = specs.get(effect)
            if spec.name in chain:
                raise ValueError(f"the policy chose {effect!r} twice")
            predicted = spec.check(self.params.predict(spec.name, observations[-1]))
            t2 = time.perf_counter()
            render_s = features_s = 0.0
            tried = []  # (metrics, setting, chain, audio, observation) per candidate
            for candidate in self.candidates(spec, predicted):
                r0 = time.perf_counter()
                trial = {**chain, spec.name: candidate}
                audio = self.rack.apply(dry, trial)
                r1 = time.perf_counter()
                new_spec, new_obs = observe(audio, t_spec, f)
                tried.append((effect_metrics(new_spec, t_spec, f), candidate, trial, audio, new_obs))
                render_s, features_s = render_s + r1 - r0, features_s + time.perf_counter() - r1
            sign = -1.0 if self.metric in HIGHER_IS_BETTER else 1.0
            metrics, setting, trial, audio, new_obs = min(tried, key=lambda c: sign * c[0][self.metric])
            keep = rule.keep(metrics[self.metric], current_metrics[self.metric])
            step = Step(
                i,
                spec.name,
                setting,
                metrics,
                current_metrics,
                keep,
                {"select": t1 - t0, "params": t2 - t1, "render": render_s, "features": features_s},
            )
            steps.append(step)
            if on_step is not None:
                on_step(step, audio)
            if not keep:
                stopped = f"{rule.bad} bad steps (patience {self.patience})"
                break
            chain, current, current_metrics = specs.check_chain(trial), audio, metrics
            observations.append(new_obs)
            if worse(self.metric, best[0], metrics[self.metric]):  # strictly better than the best so far
                best = (metrics[self.metric], dict(chain), current, metrics)
        else:
            stopped = f"{max_steps} steps"
        if self.rollback and best[1] != chain:
            _, chain, current, current_metrics = best
            stopped += "; rolled back to the best step"
        return LoopResult(steps, dict(chain), current, start, current_metrics, stopped, self.metric)


# ---------------------------------------------------------------------- simple policies (baselines and tests)
class RandomPolicy:
    """Random: a uniformly random unused effect at every step (the paper's Random baseline's selection)."""

    def __init__(self, rng: np.random.Generator | int = 0) -> None:
        self.rng = np.random.default_rng(rng)

    def next_effect(self, observations: Sequence[Observation], used: Sequence[str]) -> str | None:
        left = [n for n in specs.rack_order() if n not in used]
        return str(self.rng.choice(left)) if left else None


class OraclePolicy:
    """Oracle: knows the target's effect set and applies exactly those (in rack order), then stops."""

    def __init__(self, effects: Sequence[str]) -> None:
        self.effects = specs.parse_names(list(effects))

    def next_effect(self, observations: Sequence[Observation], used: Sequence[str]) -> str | None:
        left = [n for n in self.effects if n not in used]
        return left[0] if left else None


class TrueParams:
    """Settings from a known chain (what a perfect parameter model would say); random for effects not in it."""

    def __init__(self, chain: specs.Chain, rng: np.random.Generator | int = 0) -> None:
        self.chain = specs.check_chain(chain)
        self.rng = np.random.default_rng(rng)

    def predict(self, effect: str, observation: Observation) -> specs.Setting:
        return dict(self.chain[effect]) if effect in self.chain else specs.get(effect).sample(self.rng)

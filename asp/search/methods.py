"""Optimisers over a :class:`~asp.search.space.SearchSpace`, behind one ask/tell interface.

Each proposes a generation of native vectors (:meth:`Optimizer.ask`) and learns from their distances
(:meth:`Optimizer.tell`); the driver (``asp.search.refine``) renders and scores them. Chosen by short name:

* ``es`` (default): an elitist evolution strategy with sparse mixed mutations (:class:`SparseES`); the best measured
  on the quickstart's held-back folder (docs/RESULTS.md).
* ``cma``: plain CMA-ES (Hansen) over every normalised parameter, discrete ones snapped to their nearest class when
  rendered (the issue's baseline).
* ``catcma``: CatCMA with margin (Hamano et al., GECCO 2025; the ``cmaes`` package's ``CatCMAwM``):
  a Gaussian over the continuous parameters and a categorical distribution per categorical or binary parameter,
  learnt together; started at the best candidate, with the model's class probabilities as the categorical start.
* ``random``: uniform random presets (the synth's sampling spec): the floor any search must beat.
* ``gn``: Levenberg-Marquardt steps on the continuous parameters (:class:`GaussNewton`), the Jacobian of the log
  spectrogram measured with the synth; the classes stay where they start. ``SearchOptions.polish`` hands it the
  halving's last round (the default).
* ``esm``: ``es`` with two children a generation from a linear model of the spectrogram learnt from its own
  children (:class:`ModelES`).

``gn`` and ``esm`` read each child's spectrogram besides its distance (``wants_features``). As the whole search
neither beats ``es``; ``gn`` in the last round brought the best synth 0.17-0.23 dB closer on the held-back folder
over four seeds (docs/RESULTS.md, "Gauss-Newton steps").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from asp.search.space import SearchSpace
from asp.synths.sampling import SamplingSpec, sample_presets

Probs = list[np.ndarray] | None  # per discrete parameter, the model's class probabilities


class Optimizer(ABC):
    """Args:
    space: the synth's search space.
    start: (n_params,) the native vector to start from.
    sigma: initial step size in normalised units.
    seed: the optimiser's random seed.
    popsize: vectors per generation (None: the method's default).
    class_probs: per discrete parameter (space order) the model's class probabilities, or None.
    """

    popsize: int
    # a cheap score (lower is better) for candidate vectors, e.g. a neural proxy's distance: a method that supports
    # it (``SparseES``) draws ``screen_factor`` times more children and renders only the best-screened ``popsize``
    screen: Callable[[list[np.ndarray]], np.ndarray] | None = None
    screen_factor: int = 1
    # the chance that a mutated parameter goes back to the synth's default (a method that supports it: ``SparseES``)
    default_pull: float = 0.0
    # the chance that a parameter's Gaussian step lands on a round value, one or two significant figures in its
    # natural units (``SparseES``)
    round_pull: float = 0.0
    # a method that learns from each child's spectrogram as well as its distance: the driver passes ``features`` to
    # ``tell`` (``Objective.features`` of each render, None for a failed one) and sets ``target_features``
    wants_features: bool = False
    target_features: np.ndarray | None = None

    def __init__(
        self,
        space: SearchSpace,
        start: np.ndarray,
        sigma: float,
        seed: int,
        popsize: int | None = None,
        class_probs: list[np.ndarray] | None = None,
    ) -> None:
        self.space = space
        self._setup(start, sigma, seed, popsize, class_probs)

    @abstractmethod
    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        """The method's own state (``popsize`` included), from the arguments of ``__init__``."""

    @abstractmethod
    def ask(self) -> list[np.ndarray]:
        """A generation: ``popsize`` native vectors (discrete parameters on their classes)."""

    @abstractmethod
    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        """The distances of the last generation, in the order asked (and, for a method that ``wants_features``,
        each child's features)."""

    def start_score(self, score: float) -> None:  # noqa: B027  (optional: only elitist methods use it)
        """The start's own distance (elitist methods keep it until a child beats it)."""


class RandomSearch(Optimizer):
    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        self.rng = np.random.default_rng(seed)
        self.popsize = popsize or 8

    def ask(self) -> list[np.ndarray]:
        return [v.astype(np.float64) for v in sample_presets(self.space.schema, self.popsize, self.rng, SamplingSpec())]

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        pass


class PlainCMA(Optimizer):
    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        space = self.space
        from cmaes import CMA

        n = space.schema.n_params
        self.opt = CMA(
            mean=np.clip(np.asarray(start, dtype=np.float64), 0.0, 1.0),
            sigma=sigma,
            bounds=np.tile([0.0, 1.0], (n, 1)),
            seed=seed,
            population_size=popsize,
        )
        self.popsize = self.opt.population_size
        self._asked: list[np.ndarray] = []

    def ask(self) -> list[np.ndarray]:
        self._asked = [self.opt.ask() for _ in range(self.popsize)]
        return [self.space.snap(x) for x in self._asked]

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        self.opt.tell(list(zip(self._asked, _finite(scores))))


class CatCMA(Optimizer):
    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        space = self.space
        from cmaes import CatCMAwM

        x0, _ = space.split(start)
        kw: dict[str, Any] = {"seed": seed, "population_size": popsize}
        if len(space.cont):
            kw.update(x_space=np.tile([0.0, 1.0], (len(space.cont), 1)), mean=x0, sigma=sigma)
        if len(space.disc):
            kw.update(c_space=space.n_classes, cat_param=space.class_prior(start, class_probs))
        self.opt = CatCMAwM(**kw)
        self.popsize = self.opt.population_size
        self._asked: list[Any] = []

    def ask(self) -> list[np.ndarray]:
        self._asked = [self.opt.ask() for _ in range(self.popsize)]
        empty = np.zeros(0)
        return [
            self.space.join(
                s.x if s.x is not None else empty,
                np.argmax(s.c, axis=1) if s.c is not None else np.zeros(0, dtype=np.int64),
            )
            for s in self._asked
        ]

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        self.opt.tell(list(zip(self._asked, _finite(scores))))


class _Restarting(Optimizer):
    """Wraps a method whose state can degenerate (a covariance that stops being positive definite on a flat
    landscape, e.g. a noise target where many presets score alike; a mean that overflows): on a numerical failure in
    ``tell`` it restarts from the best vector seen, with the initial step."""

    def __init__(self, cls: type[Optimizer], space: SearchSpace, *args: Any, **kw: Any) -> None:
        self._cls = cls
        super().__init__(space, *args, **kw)

    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        space, cls = self.space, self._cls
        self._make = lambda v, s: cls(space, v, sigma, s, popsize, class_probs)
        self.inner, self.seed = self._make(start, seed), seed
        self.popsize = self.inner.popsize
        self.wants_features = cls.wants_features
        self._gen: list[np.ndarray] = []
        self.best: tuple[float, np.ndarray] = (np.inf, np.asarray(start, dtype=np.float64))
        self.restarts = 0

    def ask(self) -> list[np.ndarray]:
        self.inner.screen, self.inner.screen_factor = self.screen, self.screen_factor
        self.inner.default_pull, self.inner.round_pull = self.default_pull, self.round_pull
        self.inner.target_features = self.target_features
        self._gen = self.inner.ask()
        return self._gen

    def start_score(self, score: float) -> None:
        self.best = (score, self.best[1])
        self.inner.start_score(score)

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        i = int(np.argmin(scores))
        if scores[i] < self.best[0]:
            self.best = (float(scores[i]), self._gen[i])
        try:
            with np.errstate(all="ignore"):
                if self.wants_features:
                    self.inner.tell(scores, features)
                else:  # (the interface before features: a method may not take them)
                    self.inner.tell(scores)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, AssertionError):
            # (``cmaes`` checks its state with asserts: CatCMAwM's "Abs of all param values must be less than 1e+32"
            # on a wavetable target, measured with ``scripts/probe_recovery.py --method catcma``)
            self.restarts += 1
            self.inner = self._make(self.best[1], self.seed + self.restarts)


class SparseES(Optimizer):
    """An elitist (1+lambda) evolution strategy with sparse mixed mutations, for small budgets in many dimensions.

    Each child changes a few parameters of the best vector so far (each with probability ``rate / n``, at least
    one): a continuous one by a Gaussian step (``sigma``), a categorical or binary one to another class (drawn from
    the model's class probabilities where given, else uniformly). The best child replaces the parent only if it is
    closer. The step and the rate adapt by the one-fifth success rule of Rechenberg (1973), per generation.
    Sparse changes suit synth parameters: most of them matter little for a given sound, and a Gaussian step on all
    of them at once (CMA-ES before it has learnt a covariance) moves the few that matter by chance only.
    With ``default_pull`` > 0, each mutated parameter not at the synth's default goes back to it with that chance
    instead: a hand-made patch leaves most parameters at their defaults, and a step back there is one a Gaussian
    step or a uniform class draw seldom makes. With ``round_pull`` > 0, each continuous step lands, with that
    chance, on the value rounded to one or two significant figures in the parameter's natural units: a hand-made
    patch's other values are typed round numbers (3.0 Hz, 900 Hz, 0.6), and its sound can hang on one exactly (an
    LFO's rate over a whole note).
    """

    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        space = self.space
        self.rng = np.random.default_rng(seed)
        self.popsize = popsize or 8
        self.x, self.k = space.split(start)
        self.best = np.inf
        self.sigma, self.rate = sigma, 3.0
        self.probs = class_probs
        self._gen: list[tuple[np.ndarray, np.ndarray]] = []

    def ask(self) -> list[np.ndarray]:
        n_c, n_d = len(self.x), len(self.k)
        n = n_c + n_d
        self._gen = []
        screening = self.screen is not None and self.screen_factor > 1
        x_def, k_def = self.space.defaults
        at_default = np.concatenate([np.abs(self.x - x_def) < 1e-9, self.k == k_def])
        for _ in range(self.popsize * (self.screen_factor if screening else 1)):
            mask = self.rng.random(n) < min(1.0, self.rate / n)
            if not mask.any():
                mask[self.rng.integers(n)] = True
            x, k = self.x.copy(), self.k.copy()
            if self.default_pull > 0:  # some of the mutated parameters go back to their defaults instead
                back = mask & (self.rng.random(n) < self.default_pull) & ~at_default
                mask &= ~back
                x[back[:n_c]], k[back[n_c:]] = x_def[back[:n_c]], k_def[back[n_c:]]
            mc = mask[:n_c]
            step = x[mc] + self.sigma * self.rng.standard_normal(int(mc.sum()))
            x[mc] = np.abs(step) - np.maximum(np.abs(step) - 1.0, 0.0) * 2.0  # reflect into [0, 1]
            if self.round_pull > 0:  # some steps land on a round value (one or two significant figures)
                snap = mc & (self.rng.random(n_c) < self.round_pull)
                x = self.space.rounded(x, self.rng.integers(1, 3, n_c), where=snap)
            for j in np.flatnonzero(mask[n_c:]):
                c = int(self.space.n_classes[j])
                p = np.ones(c) if self.probs is None else np.asarray(self.probs[j], dtype=np.float64)[:c] + 0.1 / c
                p[k[j]] = 0.0
                k[j] = self.rng.choice(c, p=p / p.sum())
            self._gen.append((np.clip(x, 0.0, 1.0), k))
        vectors = [self.space.join(x, k) for x, k in self._gen]
        if screening:
            assert self.screen is not None
            keep = np.argsort(np.asarray(self.screen(vectors)), kind="stable")[: self.popsize]
            self._gen = [self._gen[i] for i in keep]
            vectors = [vectors[i] for i in keep]
        return vectors

    def start_score(self, score: float) -> None:
        self.best = score

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        i = int(np.argmin(scores))
        if scores[i] < self.best:
            if np.isfinite(self.best):
                self.sigma, self.rate = min(0.5, self.sigma * 1.25), min(8.0, self.rate * 1.1)
            self.best = float(scores[i])
            self.x, self.k = self._gen[i]
        else:
            self.sigma, self.rate = max(0.01, self.sigma * 0.85), max(1.0, self.rate * 0.9)


def _lm_steps(jac: np.ndarray, residual: np.ndarray, x: np.ndarray, dampings: Sequence[float]) -> list[np.ndarray]:
    """Levenberg-Marquardt steps from ``x`` (in [0, 1]) for a (D, n) Jacobian and the (D,) residual to remove, one
    per damping ``mu``: ``x - (J'J + mu diag(J'J))^-1 J'r``, clipped to [0, 1]. A parameter the Jacobian says
    nothing about (a zero column) stays where it is."""
    jac = np.asarray(jac, dtype=np.float64)
    jtj, g = jac.T @ jac, jac.T @ np.asarray(residual, dtype=np.float64)
    diag = np.diag(jtj) + 1e-9 * (np.trace(jtj) / max(1, len(g)) + 1.0)
    out = []
    for mu in dampings:
        try:
            dx = -np.linalg.solve(jtj + mu * np.diag(diag), g)
        except np.linalg.LinAlgError:
            dx = -g / (mu * diag)
        out.append(np.clip(x + dx, 0.0, 1.0))
    return out


class ModelES(SparseES):
    """The sparse evolution strategy with two of each generation's children proposed by a linear model of the
    spectrogram, learnt from the search's own children.

    Every child with its parent's classes says how the spectrogram moved for the continuous parameters it moved: a
    ridge regression over those pairs (older ones fading by ``forget`` a generation) estimates the Jacobian of the
    spectrogram at no extra render, and two Levenberg-Marquardt steps from the parent toward the target's
    spectrogram (dampings ``mu`` and ``10 mu``; ``mu`` halves when one of them wins, else doubles) replace the last
    two children, once the continuous parameters have moved half a time each on average (one never moved stays
    where it is). The parent's own spectrogram costs one render. Measured on the held-back folder: as close as the
    plain strategy, within the noise of two seeds (docs/RESULTS.md, "Gauss-Newton steps"); not the default.
    """

    wants_features = True
    n_model = 2
    forget = 0.95

    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        super()._setup(start, sigma, seed, popsize, class_probs)
        n = len(self.x)
        self.fx: np.ndarray | None = None  # the parent's features
        self.sfx: np.ndarray | None = None  # sum of df dx' (D, n), forgetting
        self.sxx = np.zeros((n, n))  # sum of dx dx'
        self.moves = np.zeros(n)  # how often each parameter moved, forgetting
        self.mu = 1.0
        self._kinds: list[str] = []

    def ask(self) -> list[np.ndarray]:
        vectors = super().ask()
        self._kinds = ["es"] * len(vectors)
        if self.fx is None:  # the parent's spectrogram: render it once
            self._gen[0], self._kinds[0] = (self.x.copy(), self.k.copy()), "parent"
            vectors[0] = self.space.join(self.x, self.k)
        elif self.sfx is not None and self.target_features is not None and self.moves.sum() >= max(1, len(self.x)) / 2:
            for i, x in enumerate(self._steps()[: min(self.n_model, len(vectors) - 1)]):
                j = len(vectors) - 1 - i
                self._gen[j], vectors[j], self._kinds[j] = (x, self.k.copy()), self.space.join(x, self.k), "model"
        return vectors

    def _steps(self) -> list[np.ndarray]:
        assert self.sfx is not None and self.fx is not None and self.target_features is not None
        n = len(self.x)
        reg = 1e-3 * (np.trace(self.sxx) / n + 1e-9)
        jac = np.linalg.solve(self.sxx + reg * np.eye(n), self.sfx.T).T  # (D, n): sfx (sxx + reg)^-1
        return _lm_steps(jac, self.fx - self.target_features, self.x, (self.mu, 10.0 * self.mu))

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        feats = features if features is not None else [None] * len(scores)
        for kind, f in zip(self._kinds, feats):
            if kind == "parent" and f is not None:
                self.fx = f.astype(np.float64)
        if self.fx is not None:
            if self.sfx is None:
                self.sfx = np.zeros((self.fx.size, len(self.x)))
            self.sfx *= self.forget
            self.sxx *= self.forget
            self.moves *= self.forget
            for (x, k), kind, f in zip(self._gen, self._kinds, feats):
                dx = x - self.x
                if kind == "parent" or f is None or not np.array_equal(k, self.k) or not dx.any():
                    continue
                self.sfx += np.outer(f - self.fx, dx)
                self.sxx += np.outer(dx, dx)
                self.moves += dx != 0
        i = int(np.argmin(scores))
        if "model" in self._kinds:  # a model step that wins: bolder steps; else more cautious ones
            won = self._kinds[i] == "model" and scores[i] < self.best
            self.mu = max(1e-4, self.mu / 2) if won else min(1e4, self.mu * 2)
        before = self.best
        super().tell(scores)
        if self.best < before and feats[i] is not None:  # a new parent: its spectrogram is the child's (what was
            self.fx = np.asarray(feats[i], dtype=np.float64)  # learnt is kept, other classes or not: it fades)
        elif self.best < before:  # (a new parent without a spectrogram: render it next)
            self.fx = None


class GaussNewton(Optimizer):
    """Levenberg-Marquardt on the continuous parameters, with a Jacobian measured by rendering.

    The distance a search minimises is, nearly, the size of the difference between two log spectrograms, and every
    render says how the whole spectrogram moved, not only how far it is: many numbers per render where an evolution
    strategy reads one. So: render the start and each continuous parameter moved by ``step`` alone (forward
    differences: the Jacobian of the spectrogram, one column per parameter), then propose Levenberg-Marquardt steps
    ``-(J'J + mu diag(J'J))^-1 J'r`` toward the target's spectrogram for ``popsize`` dampings ``mu`` at once. The
    closest child is taken if it beats the current point (elitist); every child corrects the Jacobian by Broyden's
    rank-one update. After ``stall`` generations without a gain the Jacobian is measured again at the best point
    seen. The classes never move (the start's). Features: ``Objective.features`` (dB log spectrogram, pooled),
    passed to :meth:`tell`. Measured: from a hand-made preset's continuous values moved by 0.1 it came back closer
    than the evolution strategy on 3 of wavetable's 4 held-back files; taking over the main job's last round (the
    default, ``SearchOptions.polish``) it brought the best synth 0.17-0.23 dB closer over four seeds, from the
    second round on it was further (docs/RESULTS.md, "Gauss-Newton steps").
    """

    wants_features = True
    step = 0.05  # the forward difference, normalised units
    stall = 2  # generations without a gain before the Jacobian is measured again
    dampings = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)  # relative to ``mu``, one child each

    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        self.x, self.k = self.space.split(start)
        self.popsize = popsize or 8
        self.f0: np.ndarray | None = None  # the current point's features
        self.s0 = np.inf  # and its distance
        self.best: tuple[float, np.ndarray, np.ndarray | None] = (np.inf, self.x.copy(), None)
        self.jac: np.ndarray | None = None
        self.mu, self.fails = 1.0, 0
        self._queue: list[tuple[str, int, np.ndarray]] = []  # pending (kind, index, x): the point, then its probes
        self._gen: list[tuple[str, int, np.ndarray]] = []
        self._measure(self.x, with_point=True)

    def _measure(self, x: np.ndarray, with_point: bool) -> None:
        """Queue the renders of a Jacobian at ``x``: the point itself (unless its features are known) and one move
        per continuous parameter (away from the nearer bound)."""
        self.x = x.copy()
        if with_point:
            self._queue.append(("point", -1, x.copy()))
        for j in range(len(x)):
            d = self.step if x[j] + self.step <= 1.0 else -self.step
            y = x.copy()
            y[j] += d
            self._queue.append(("probe", j, y))

    def start_score(self, score: float) -> None:
        pass  # the start is rendered again here: its features are needed too

    def ask(self) -> list[np.ndarray]:
        if self._queue:
            self._gen, self._queue = self._queue[: self.popsize], self._queue[self.popsize :]
        else:
            self._gen = [("step", i, x) for i, x in enumerate(self._steps())]
        return [self.space.join(x, self.k) for _, _, x in self._gen]

    def _steps(self) -> list[np.ndarray]:
        assert self.jac is not None and self.f0 is not None and self.target_features is not None
        dampings = [self.mu * m for m in self.dampings[: self.popsize]]
        return _lm_steps(self.jac, self.f0 - self.target_features, self.x, dampings)

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        feats = features if features is not None else [None] * len(scores)
        for (kind, _, x), s, f in zip(self._gen, scores, feats):  # the point first: the probes are taken from it
            if kind == "point" and f is not None:
                self.f0, self.s0 = f, s
                self.jac = np.zeros((f.size, len(x)), np.float32)
            if s < self.best[0] and f is not None:
                self.best = (float(s), x, f)
        if self.f0 is None:  # the point's render failed: nothing to measure from
            self._queue = []
            return
        assert self.jac is not None
        steps = []
        for (kind, j, x), s, f in zip(self._gen, scores, feats):
            if f is None:
                continue
            if kind == "probe":
                self.jac[:, j] = (f - self.f0) / (x[j] - self.x[j])
            elif kind == "step":
                dx = x - self.x
                nn = float(dx @ dx)
                if nn > 1e-12:  # Broyden: the Jacobian made to map this step to the change it caused
                    self.jac += np.outer((f - self.f0) - self.jac @ dx, dx / nn).astype(np.float32)
                steps.append((s, x, f))
        if not steps or self._queue:
            return
        s, x, f = min(steps, key=lambda t: t[0])
        if s < self.s0:
            self.x, self.s0, self.f0, self.fails = x, s, f, 0
            self.mu = max(1e-4, self.mu * 0.5)
            return
        self.mu, self.fails = min(1e6, self.mu * 10.0), self.fails + 1
        if self.fails >= self.stall:  # measure the Jacobian again, at the best point seen
            score, x, f = self.best
            if f is None or score > self.s0:
                x = self.x
            else:  # (the point and its spectrogram together, also where a probe only tied the point)
                self.s0, self.f0 = score, f
            self._measure(x, with_point=False)
            self.mu, self.fails = 1.0, 0


class RoundingPass(Optimizer):
    """Round values first, one parameter at a time; then Levenberg-Marquardt (:class:`GaussNewton`).

    A hand-made preset leaves most parameters at their defaults and types the rest as round numbers (an LFO at
    3.0 Hz, a cutoff of 900 Hz), and its sound can hang on one of them exactly. So, from the start: for each
    continuous parameter, its default and its value rounded to one and to two significant figures in natural
    units (``SearchSpace.rounded``) are tried, each alone, ``popsize`` tries a generation; the best try that beats
    the current point is kept (the generation's other winners are tried again on the new point). Sweeps repeat
    while one gains; then :class:`GaussNewton` goes on from the point. Classes never move. Measured: as the main
    job's last round 0.56 dB further than ``gn`` alone, and from starts 0.1 away from hand-made presets further
    too (the nearest round values are then the wrong ones); the same pass after a search that has come close
    gains (``scripts/probe_rounding.py``; docs/RESULTS.md, "Round values"). Not a default.
    """

    wants_features = True

    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        self.x, self.k = self.space.split(start)
        self.popsize = popsize or 8
        self._args = (sigma, seed, popsize, class_probs)
        self.score = np.inf
        self.then: GaussNewton | None = None
        self._queue = self._sweep()
        self._gained = False
        self._gen: list[tuple[int, float]] = []

    def _sweep(self) -> list[tuple[int, float]]:
        """(parameter, value) tries for every continuous parameter of the current point, nearest value first."""
        return [(j, v) for j, values in enumerate(self.space.typed_values(self.x)) for v in values]

    def start_score(self, score: float) -> None:
        self.score = score

    def ask(self) -> list[np.ndarray]:
        if self.then is not None:
            self.then.target_features = self.target_features
            return self.then.ask()
        self._gen, self._queue = self._queue[: self.popsize], self._queue[self.popsize :]
        out = []
        for j, v in self._gen:
            x = self.x.copy()
            x[j] = v
            out.append(self.space.join(x, self.k))
        return out

    def tell(self, scores: list[float], features: list[np.ndarray | None] | None = None) -> None:
        if self.then is not None:
            self.then.tell(scores, features)
            return
        wins = [(s, t) for s, t in zip(scores, self._gen, strict=True) if s < self.score]
        if wins:
            s, (j, v) = min(wins, key=lambda w: w[0])
            self.x = self.x.copy()
            self.x[j] = v
            self.score, self._gained = float(s), True
            self._queue = [t for _, t in wins if t[0] != j] + self._queue  # the other wins first, on the new point
        if not self._queue:
            if self._gained:
                self._queue, self._gained = self._sweep(), False
            else:  # nothing round left to gain: Levenberg-Marquardt from here
                self.then = GaussNewton(self.space, self.space.join(self.x, self.k), *self._args)
                self.then.start_score(self.score)
                self.then.target_features = self.target_features


def _finite(scores: list[float]) -> list[float]:
    """Scores with a failed render (inf) replaced by a value worse than every real one."""
    real = [s for s in scores if np.isfinite(s)]
    worst = (max(real) if real else 0.0) + 1e3
    return [s if np.isfinite(s) else worst for s in scores]


METHODS: dict[str, type[Optimizer]] = {
    "catcma": CatCMA,
    "cma": PlainCMA,
    "es": SparseES,
    "esm": ModelES,
    "gn": GaussNewton,
    "random": RandomSearch,
    "round": RoundingPass,
}


def make_optimizer(
    method: str,
    space: SearchSpace,
    start: np.ndarray,
    sigma: float,
    seed: int,
    popsize: int | None = None,
    class_probs: list[np.ndarray] | None = None,
) -> Optimizer:
    """The named optimiser; a KeyError lists the valid names."""
    if method not in METHODS:
        raise KeyError(f"unknown search method {method!r}; valid: {', '.join(METHODS)}")
    return _Restarting(METHODS[method], space, start, sigma, seed, popsize, class_probs)

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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
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
    def tell(self, scores: list[float]) -> None:
        """The distances of the last generation, in the order asked."""

    def start_score(self, score: float) -> None:  # noqa: B027  (optional: only elitist methods use it)
        """The start's own distance (elitist methods keep it until a child beats it)."""


class RandomSearch(Optimizer):
    def _setup(self, start: np.ndarray, sigma: float, seed: int, popsize: int | None, class_probs: Probs) -> None:
        self.rng = np.random.default_rng(seed)
        self.popsize = popsize or 8

    def ask(self) -> list[np.ndarray]:
        return [v.astype(np.float64) for v in sample_presets(self.space.schema, self.popsize, self.rng, SamplingSpec())]

    def tell(self, scores: list[float]) -> None:
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

    def tell(self, scores: list[float]) -> None:
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

    def tell(self, scores: list[float]) -> None:
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
        self._gen: list[np.ndarray] = []
        self.best: tuple[float, np.ndarray] = (np.inf, np.asarray(start, dtype=np.float64))
        self.restarts = 0

    def ask(self) -> list[np.ndarray]:
        self.inner.screen, self.inner.screen_factor = self.screen, self.screen_factor
        self.inner.default_pull = self.default_pull
        self._gen = self.inner.ask()
        return self._gen

    def start_score(self, score: float) -> None:
        self.best = (score, self.best[1])
        self.inner.start_score(score)

    def tell(self, scores: list[float]) -> None:
        i = int(np.argmin(scores))
        if scores[i] < self.best[0]:
            self.best = (float(scores[i]), self._gen[i])
        try:
            with np.errstate(all="ignore"):
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
    step or a uniform class draw seldom makes.
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

    def tell(self, scores: list[float]) -> None:
        i = int(np.argmin(scores))
        if scores[i] < self.best:
            if np.isfinite(self.best):
                self.sigma, self.rate = min(0.5, self.sigma * 1.25), min(8.0, self.rate * 1.1)
            self.best = float(scores[i])
            self.x, self.k = self._gen[i]
        else:
            self.sigma, self.rate = max(0.01, self.sigma * 0.85), max(1.0, self.rate * 0.9)


def _finite(scores: list[float]) -> list[float]:
    """Scores with a failed render (inf) replaced by a value worse than every real one."""
    real = [s for s in scores if np.isfinite(s)]
    worst = (max(real) if real else 0.0) + 1e3
    return [s if np.isfinite(s) else worst for s in scores]


METHODS: dict[str, type[Optimizer]] = {"catcma": CatCMA, "cma": PlainCMA, "es": SparseES, "random": RandomSearch}


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

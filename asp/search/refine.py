"""The multi-synth search: from a model's candidates to the preset of each synth that sounds closest to a target.

Stages, within one render budget per target (every render counts, cheap and full):

1. **Starts.** Every candidate of every synth (the one-shot prediction, posterior draws, nearest training presets,
   each at the target's own note and at the model's note) is rendered at full quality and scored there; each
   synth's search starts from its best one. A start's cheap score is read off the beginning of its full render (a
   shortened render is the full render's beginning), so the search compares children with it on one scale. Full
   renders here keep a start whose sound goes wrong after the search's clip ends (a long release against a short
   one) from steering the whole search (measured with neighbour starts, docs/RESULTS.md).
   With ``octave_twins`` the best start is also scored an octave up and an octave down with its oscillators moved
   the other way: the same pitch from another patch, which a search that keeps its note cannot reach (off by
   default: measured, no closer).
2. **Rounds (successive halving).** The search budget is split into ``ceil(log2 n) + 1`` equal rounds over the
   surviving synths; after each round the worse half of the synths (by their best distance so far) stops, so the
   best synth is chosen on refined distances, not one-shot ones, and a losing synth costs little. (``halving=False``
   splits the budget evenly in one round.) The last round is searched by ``polish``: Levenberg-Marquardt steps on
   the continuous parameters (``gn``), from the best point the strategy found.
3. **Finals.** Each synth's best distinct cheap results and its one-shot candidate are rendered at full quality
   and scored there; the closest wins. The one-shot candidate is among the finalists, so the result is never
   worse than it on the objective at full quality.

Search renders are cheaper than the finals: by default the first 3.5 s of the 5 s clip (``search_seconds``; a
shortened render releases the note where the full one does, or at its own end if that comes first, so it is the
full render's beginning, sample for sample). They hear the first half second of the release, which 2.5 s (the
default until the Faust synths' release tails stopped being cut) never did: at the same time per file, 330 renders
of 4 s came closer than 450 of 2.5 s, and 3.5 s then matched 4 s file for file (the same best distance for 18 of
24 files over two seeds) in 11-12 % less time (docs/RESULTS.md, "The held-back folder with its release tails"). A lower
``search_rate`` is offered but off: a synth played at 22.05 kHz is not its 44.1 kHz sound resampled (its
oscillators alias differently; on the tiny test synth the true preset scored 5.1 dB at 22.05 kHz, enough to steer
the search elsewhere). The defaults (the sparse evolution strategy, Gauss-Newton steps in the last round, 3.5 s
search renders, halving) are the best measured in ``scripts/bench_refine.py`` (docs/RESULTS.md). Deterministic
under a seed for deterministic synths; ``seconds``, when set, also stops the search by the clock (then the result
depends on the machine's speed).
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from asp.render import Renderer, RenderSettings, get_renderer
from asp.render.base import to_mono
from asp.search.methods import METHODS, Optimizer, make_optimizer
from asp.search.objective import Objective
from asp.search.space import SearchSpace
from asp.synths import registry

CHECKS = 2  # full renders at most per generation when children are checked (``SearchOptions.verify``)
# options added after outputs were first written: left out of the fingerprint when off (the search before them), so
# those outputs still resume
ADDED_OPTIONS = ("default_pull", "file_band", "octave_twins", "polish", "round_pull")


@dataclass(frozen=True)
class SearchOptions:
    """Args:
    budget: renders per target, all synths and stages together (the starts and the finals are always done).
    seconds: also stop searching once this many seconds have passed for the target (None: renders only).
    method: the optimiser (``asp.search.methods.METHODS``).
    objective: the distance minimised (``asp.search.objective.OBJECTIVES``).
    search_rate: sample rate of the search's renders (Hz); the finals use the full rate.
    search_seconds: clip length of the search's renders (None: the full length); the note is released where the
        full render releases it or at the clip's end, whichever comes first, so a shortened render is the full
        render's beginning, sample for sample.
    sigma: the optimiser's initial step in normalised units.
    popsize: vectors per generation (None: the method's default).
    halving: split the budget across synths by successive halving (else equally, one round).
    finalists: best distinct cheap results per synth re-rendered at full quality.
    seed: base seed (each synth's is derived from it and the synth's name).
    verify: with shortened search renders, a child that beats the search's best on the cheap render is rendered at
        full quality too and kept only if it beats the best there as well (else it scores as a failed render):
        the cheap render ends before the note's release, and a child that improves the beginning while it
        lengthens the release by chance would otherwise lead the whole search astray unseen.
    default_pull: the chance that a parameter the search mutates goes back to the synth's default value instead
        (``SparseES``; hand-made presets leave most parameters at their defaults). 0: never (the search before
        2026-12-07's fifth session); 0.25 came closer on the held-back folder's best synth on 17 of 24 files
        (docs/RESULTS.md, "Mutations back to the default").
    file_band: compare spectra only below the band the target's file carries (a lower-rate file's pass band, a
        lossy codec's low-pass: ``asp.features.band``), where ``refine`` is given one; False: the whole band (the
        search before 2026-12-07's sixth session).
    octave_twins: after the starts, also score the best one an octave up and down with its oscillators moved the
        other way (``SearchSpace.octave_twins``: the same pitch, another patch; at most 2 full renders per synth).
        Off: on the held-back folder the twins led the search on several files and moved distances by up to 1 dB
        either way, closer on neither measure over two seeds (docs/RESULTS.md, "The band a file carries").
    polish: a method that takes over each synth's search for the last round of the halving (a search of several
        synths), from its best point so far, for synths with continuous parameters; None: ``method`` throughout.
        ``gn`` (Levenberg-Marquardt on the continuous parameters, ``asp.search.methods.GaussNewton``) by default
        since 2026-12-07's seventh session: on the held-back folder over four search seeds the best synth came
        0.17 dB closer below each file's band and 0.23 dB closer to the true sounds (closer on 27 of 48 files,
        further on 21; Wilcoxon p = 0.04), the own synth as close as before, in the same time (docs/RESULTS.md,
        "Gauss-Newton steps").
    """

    budget: int = 330
    seconds: float | None = None
    method: str = "es"
    objective: str = "lsd"
    search_rate: int = 44100
    search_seconds: float | None = 3.5
    sigma: float = 0.15
    popsize: int | None = None
    halving: bool = True
    finalists: int = 3
    seed: int = 0
    verify: bool = True
    default_pull: float = 0.25
    file_band: bool = True
    octave_twins: bool = False
    polish: str | None = "gn"
    round_pull: float = 0.0

    def __post_init__(self) -> None:
        for name in ("default_pull", "round_pull"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a chance, between 0 and 1: got {getattr(self, name)}")
        if self.polish is not None and self.polish not in METHODS:
            raise ValueError(f"unknown polishing method {self.polish!r}; valid: {', '.join(METHODS)}")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ADDED_OPTIONS:
            if not d[name]:
                del d[name]
        return d

    def key(self) -> str:
        """The options as one stable string (for cache and resume keys)."""
        return json.dumps(self.as_dict(), sort_keys=True)


@dataclass
class Candidate:
    """A starting point: a native vector played at a MIDI note, with where it came from."""

    vector: np.ndarray
    note: int
    label: str = "oneshot"


@dataclass
class SynthResult:
    """One synth's outcome. ``score``/``oneshot_score``: the objective at full quality; ``audio``/
    ``oneshot_audio``: the full-quality renders (None if the render failed); ``trace``: (renders of the target so
    far, this synth's best cheap distance) after each generation."""

    synth: str
    vector: np.ndarray
    note: int
    label: str
    score: float
    oneshot_vector: np.ndarray
    oneshot_note: int
    oneshot_score: float
    renders: int = 0
    seconds: float = 0.0
    rounds: int = 0
    audio: np.ndarray | None = None
    oneshot_audio: np.ndarray | None = None
    trace: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class _Seen:
    score: float
    vector: np.ndarray
    note: int
    label: str


class _Synth:
    """A synth's search state: its renderers, what it has scored, its optimiser."""

    def __init__(
        self,
        name: str,
        starts: list[Candidate],
        full: RenderSettings,
        cheap: RenderSettings,
        renderer: Callable[[str, RenderSettings], Renderer],
    ) -> None:
        if not starts:
            raise ValueError(f"{name}: no starting candidate")
        self.name, self.starts = name, starts
        self.space = SearchSpace(registry.load_schema(name))
        self.full, self.cheap = renderer(name, full), renderer(name, cheap)
        self.full_rate, self.cheap_settings = full.sample_rate, cheap
        self.seen: list[_Seen] = []
        # (vector, note) -> (full score, full render) of the starts and of the children taken after a check
        self.full_scores: dict[tuple[bytes, int], tuple[float, np.ndarray | None]] = {}
        self.best = math.inf  # the lowest score in ``seen``
        self.renders, self.seconds, self.rounds = 0, 0.0, 0
        self.trace: list[tuple[int, float]] = []
        self.opt: Any = None
        self.note = starts[0].note
        self.incumbent = (math.inf, math.inf)  # the search's best so far: (cheap score, full score)

    def render(self, vector: np.ndarray, note: int, full: bool = False) -> np.ndarray | None:
        self.renders += 1
        try:
            return (self.full if full else self.cheap).render(vector, note)
        except Exception:  # a preset the synth cannot render scores as the worst possible
            return None

    def score_start(self, objective: Objective, full: Objective, vector: np.ndarray, note: int, label: str) -> float:
        """A start rendered at full quality: its full score is kept for the finals, its cheap score (from the
        render's beginning, resampled where the search's rate is lower) recorded as a search result's; returns
        the full score."""
        t = time.perf_counter()
        audio = self.render(vector, note, full=True)
        s_full, s = math.inf, math.inf
        if audio is not None:
            s_full = full(audio)
            c = self.cheap_settings
            s = objective(_resample(audio, self.full_rate, c.sample_rate, c.n_samples))
        self.full_scores[(vector.tobytes(), note)] = (s_full, audio)
        self.seen.append(_Seen(s, vector, note, label))
        self.best = min(self.best, s)
        self.seconds += time.perf_counter() - t
        return s_full

    def verify(self, full: Objective, gen: list[np.ndarray], scores: list[float], tries: int = CHECKS) -> list[float]:
        """``scores`` of a generation after the full-quality check (``SearchOptions.verify``): children that beat
        the incumbent's cheap score are rendered in full, best first (at most ``tries``), until one beats its full
        score too and becomes the incumbent; those that failed, or were left unchecked, score ``inf`` (here and in
        ``seen``, so neither the optimiser nor the finals take them)."""
        out = list(scores)
        seen = self.seen[len(self.seen) - len(gen) :]
        for n, i in enumerate(np.argsort(out, kind="stable")):
            if not out[i] < self.incumbent[0]:
                break
            s_full = math.inf
            if n < tries:
                t = time.perf_counter()
                audio = self.render(gen[i], self.note, full=True)
                s_full = full(audio) if audio is not None else math.inf
                self.seconds += time.perf_counter() - t
            if s_full < self.incumbent[1]:
                self.incumbent = (out[i], s_full)  # (the children before it in this order scored inf already)
                self.full_scores[(gen[i].tobytes(), self.note)] = (s_full, audio)  # a finalist-to-be: keep it
                break
            out[i] = seen[i].score = math.inf
        self.best = min((x.score for x in self.seen), default=math.inf)
        return out

    def score(
        self, objective: Objective, vector: np.ndarray, note: int, label: str, features: bool = False
    ) -> tuple[float, np.ndarray | None]:
        """The cheap score of a child and, with ``features``, its spectrogram (``Objective.features``; None for a
        failed render or without)."""
        t = time.perf_counter()
        audio = self.render(vector, note)
        s, f = math.inf, None
        if audio is not None:
            s, f = objective.features(audio) if features else (objective(audio), None)
        self.seen.append(_Seen(s, vector, note, label))
        self.best = min(self.best, s)
        self.seconds += time.perf_counter() - t
        return s, f


def _at_note(
    screen: Callable[[list[np.ndarray], int], np.ndarray], note: int
) -> Callable[[list[np.ndarray]], np.ndarray]:
    return lambda vectors: screen(vectors, note)


def _seed(base: int, name: str) -> int:
    return (base * 1_000_003 + zlib.crc32(name.encode())) % (2**31 - 1)


def _resample(audio: np.ndarray, rate: int, to: int, n: int) -> np.ndarray:
    """(n_samples,) at ``rate`` -> ``n`` samples at ``to`` (cut or zero-padded as renders are)."""
    import soxr

    return to_mono(soxr.resample(np.asarray(audio, dtype=np.float32), rate, to) if to != rate else audio, n)


def refine(
    target: np.ndarray,
    starts: dict[str, list[Candidate]],
    options: SearchOptions | None = None,
    settings: RenderSettings | None = None,
    priors: dict[str, list[np.ndarray]] | None = None,
    renderer: Callable[[str, RenderSettings], Renderer] = get_renderer,
    screens: dict[str, Callable[[list[np.ndarray], int], np.ndarray]] | None = None,
    screen_factor: int = 4,
    band_hz: float | None = None,
) -> dict[str, SynthResult]:
    """Search every synth of ``starts`` for the preset closest to ``target`` (see the module docstring).

    Args:
        target: (n_samples,) mono clip at ``settings.sample_rate``, ``settings.n_samples`` long.
        starts: per synth its candidates, the first one the one-shot prediction.
        options: budget, method, objective ...
        settings: how presets are played at full quality (the target's rate and length).
        priors: per synth the model's class probabilities per discrete parameter (``SearchSpace.disc`` order).
        renderer: ``(synth, settings) -> Renderer`` (default: this process's cached renderers).
        screens: per synth a cheap ``(vectors, note) -> scores`` (lower is better, e.g.
            ``asp.models.proxy_training.Proxy.scorer(target)``): the optimiser draws ``screen_factor`` times more
            children, scores them with it and renders the best only (``SparseES``; other methods ignore it).
        band_hz: the band the target's file carries (``asp.features.band``); with ``options.file_band`` the
            objective compares spectra below it only.

    Returns:
        synth -> :class:`SynthResult`.
    """
    o = options or SearchOptions()
    full = settings or RenderSettings()
    seconds = min(o.search_seconds or full.render_seconds, full.render_seconds)
    cheap = replace(
        full,
        sample_rate=min(o.search_rate, full.sample_rate),
        render_seconds=seconds,
        note_seconds=min(full.note_seconds, seconds),
    )
    t0 = time.perf_counter()
    band = band_hz if o.file_band else None
    obj_full = Objective(o.objective, target, full.sample_rate, band)
    obj = (
        obj_full
        if cheap == full
        else Objective(
            o.objective,
            _resample(target, full.sample_rate, cheap.sample_rate, cheap.n_samples),
            cheap.sample_rate,
            band,
        )
    )
    synths = {name: _Synth(name, c, full, cheap, renderer) for name, c in starts.items()}

    def total() -> int:
        return sum(s.renders for s in synths.values())

    def out_of_time() -> bool:
        return o.seconds is not None and time.perf_counter() - t0 > o.seconds

    for st in synths.values():  # 1. starts, scored at full quality
        full_scores = [
            st.score_start(obj, obj_full, np.asarray(c.vector, dtype=np.float64), c.note, c.label) for c in st.starts
        ]
        first = st.seen[int(np.argmin(full_scores))]
        if o.octave_twins:  # the best start an octave up and down, its oscillators moved the other way
            for vector, note, word in st.space.octave_twins(first.vector, first.note):
                full_scores.append(st.score_start(obj, obj_full, vector, note, f"{first.label}, {word}"))
            first = st.seen[int(np.argmin(full_scores))]
        st.incumbent = (first.score, min(full_scores))
        st.note = first.note
        st.opt = make_optimizer(
            o.method, st.space, first.vector, o.sigma, _seed(o.seed, st.name), o.popsize, (priors or {}).get(st.name)
        )
        st.opt.start_score(first.score)
        screen = _at_note(screens[st.name], st.note) if screens and st.name in screens else None
        _configure(st.opt, o, obj, screen, screen_factor)
        st.trace.append((total(), st.best))

    n_final = o.finalists if cheap != full else 1  # full-quality search renders need no second opinion
    reserve = sum(min(n_final, len(st.seen)) for st in synths.values())  # (the starts are scored in full)
    left = o.budget - total() - reserve
    alive = list(synths)
    checks = CHECKS if o.verify and cheap != full else 0  # full renders a generation's check may add
    halving = o.halving and len(alive) > 1
    rounds = math.ceil(math.log2(len(alive))) + 1 if halving else 1
    for r in range(rounds):  # 2. rounds
        share = left // (rounds - r) // len(alive)
        for name in alive:
            st = synths[name]
            st.rounds += 1
            before = st.renders
            if o.polish and r == rounds - 1 > 0 and len(st.space.cont):  # the halving's last round: the polisher
                st.opt = _polisher(o, st, obj)
            while st.renders - before + st.opt.popsize + checks <= share and not out_of_time():
                gen = st.opt.ask()
                evaluated = [st.score(obj, v, st.note, "search", st.opt.wants_features) for v in gen]
                scores = [s for s, _ in evaluated]
                scores = st.verify(obj_full, gen, scores) if o.verify and cheap != full else scores
                st.opt.tell(scores, [f for _, f in evaluated] if st.opt.wants_features else None)
                st.trace.append((total(), st.best))
            used = st.renders - before
            left -= used
        if halving:
            alive = sorted(alive, key=lambda n: synths[n].best)[: max(1, math.ceil(len(alive) / 2))]
        if out_of_time():
            break

    results = {}
    for name, st in synths.items():  # 3. finals at full quality
        one = st.starts[0]
        finals: list[_Seen] = [_Seen(math.nan, np.asarray(one.vector, dtype=np.float64), one.note, one.label)]
        keys = {(finals[0].vector.tobytes(), one.note)}
        for s in sorted(st.seen, key=lambda s: s.score):
            if len(finals) > n_final or not math.isfinite(s.score):
                break
            if (s.vector.tobytes(), s.note) not in keys:
                keys.add((s.vector.tobytes(), s.note))
                finals.append(s)
        scored = []
        t = time.perf_counter()
        for f in finals:
            known = st.full_scores.get((f.vector.tobytes(), f.note))
            if known is not None:
                scored.append((known[0], f, known[1]))
                continue
            audio = st.render(f.vector, f.note, full=True)
            scored.append((obj_full(audio) if audio is not None else math.inf, f, audio))
        st.seconds += time.perf_counter() - t
        best = min(scored, key=lambda x: x[0])
        results[name] = SynthResult(
            name,
            best[1].vector,
            best[1].note,
            best[1].label,
            best[0],
            finals[0].vector,
            one.note,
            scored[0][0],
            st.renders,
            st.seconds,
            st.rounds,
            best[2],
            scored[0][2],
            st.trace,
        )
    return results


def _polisher(o: SearchOptions, st: _Synth, objective: Objective) -> Optimizer:
    """``o.polish``'s optimiser for a synth, from the best point its search has scored at its note (its score, the
    default pull and the proxy's screen carried over)."""
    assert o.polish is not None
    mine = [x for x in st.seen if x.note == st.note and math.isfinite(x.score)]
    start = min(mine, key=lambda x: x.score).vector if mine else st.starts[0].vector
    opt = make_optimizer(o.polish, st.space, np.asarray(start, dtype=np.float64), o.sigma, _seed(o.seed, st.name) + 1)
    opt.start_score(min(x.score for x in mine) if mine else math.inf)
    return _configure(opt, o, objective, st.opt.screen, st.opt.screen_factor)


def _configure(
    opt: Optimizer,
    o: SearchOptions,
    objective: Objective,
    screen: Callable[[list[np.ndarray]], np.ndarray] | None,
    screen_factor: int,
) -> Optimizer:
    """What every synth's optimiser is told by the driver: the options' pulls, the target's spectrogram (a method
    that ``wants_features``) and the proxy's screen (where the synth has one)."""
    opt.default_pull, opt.round_pull = o.default_pull, o.round_pull
    if opt.wants_features:
        opt.target_features = objective.target_features
    if screen is not None:
        opt.screen, opt.screen_factor = screen, screen_factor
    return opt


def refine_task(task: dict[str, Any], **extra: Any) -> dict[str, SynthResult]:
    """:func:`refine` on a job's ``task``, which holds its arguments (``target``, ``starts``, ``options``,
    ``settings``, ``priors``, ``band_hz``); ``extra``: more of them (the proxies' ``screens``)."""
    return refine(
        task["target"],
        task["starts"],
        task["options"],
        task["settings"],
        task.get("priors"),
        band_hz=task.get("band_hz"),
        **extra,
    )


def refine_job(task: dict[str, Any], report: Callable[[Any], None]) -> dict[str, SynthResult]:
    """:func:`refine_task` as a job for ``asp.jobs.run_pool``."""
    return refine_task(task)

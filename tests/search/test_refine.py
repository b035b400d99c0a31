"""The search on real Faust renders of a tiny registered synth (tests/search/conftest.py)."""

import numpy as np
import pytest

from asp.metrics import lsd
from asp.render import RenderSettings, get_renderer
from asp.search import Candidate, SearchOptions, SearchSpace, refine
from asp.synths import registry

SETTINGS = RenderSettings(note_seconds=0.6, render_seconds=1.0)


def _vector(synth, **natural):
    schema = registry.load_schema(synth)
    return schema.from_natural(natural)


def _target(synth, vector, note=57):
    return get_renderer(synth, SETTINGS).render(vector, note)


@pytest.mark.parametrize("objective", ["lsd", "audible"])
def test_a_known_preset_is_recovered_to_near_zero_distance(tiny_synths, objective):
    truth = _vector("tiny", wave=1, octave=-1, cutoff=2500.0, level=0.8, decay=0.15)
    target = _target("tiny", truth)
    start = _vector("tiny", wave=0, octave=0, cutoff=600.0, level=0.3, decay=0.8)
    opts = SearchOptions(budget=400, seed=1, objective=objective)
    res = refine(target, {"tiny": [Candidate(start, 57)]}, opts, SETTINGS)["tiny"]
    assert res.oneshot_score > 10 * max(res.score, 0.1)
    assert lsd(res.audio, target) < 2.0 < lsd(res.oneshot_audio, target)
    space = SearchSpace(registry.load_schema("tiny"))
    assert list(space.split(res.vector)[1]) == [1, 0]  # the classes found exactly: square, one octave down


def test_gauss_newton_finds_the_continuous_values_from_the_right_classes(tiny_synths):
    truth = _vector("tiny", wave=1, octave=-1, cutoff=2500.0, level=0.8, decay=0.15)
    target = _target("tiny", truth)
    start = _vector("tiny", wave=1, octave=-1, cutoff=600.0, level=0.3, decay=0.8)
    res = refine(target, {"tiny": [Candidate(start, 57)]}, SearchOptions(budget=60, method="gn"), SETTINGS)["tiny"]
    assert lsd(res.oneshot_audio, target) > 10.0 > 5 * lsd(res.audio, target)  # (a local method: level and decay
    space = SearchSpace(registry.load_schema("tiny"))  # trade against each other, so not to zero in 60 renders)
    np.testing.assert_array_equal(space.split(res.vector)[1], space.split(start)[1])  # the classes never move


def test_the_rounding_pass_finds_typed_values_exactly(tiny_synths):
    """``round``: from values near a preset of typed ones (600 Hz, 0.4, 0.5 s) it tries each parameter's round
    values and lands on the preset itself (its render equal but for Faust's own rounding), spending its budget."""
    truth = _vector("tiny", wave=1, octave=-1, cutoff=600.0, level=0.4, decay=0.5)
    target = _target("tiny", truth)
    start = _vector("tiny", wave=1, octave=-1, cutoff=612.0, level=0.41, decay=0.52)
    space = SearchSpace(registry.load_schema("tiny"))
    opts = SearchOptions(budget=30, method="round", seed=1)
    res = refine(target, {"tiny": [Candidate(start, 57)]}, opts, SETTINGS)["tiny"]
    np.testing.assert_allclose(space.split(res.vector)[0], space.split(truth)[0], atol=1e-9)
    assert lsd(res.oneshot_audio, target) > 5 * lsd(res.audio, target)
    assert res.renders == 30


def test_the_rounding_pass_keeps_the_best_try_and_retries_the_others(tiny_synths):
    """One generation where two parameters' round values both win: the better is kept, the other tried again on
    the new point; a sweep without a gain hands over to Gauss-Newton from the point reached, with its score."""
    from asp.search.methods import GaussNewton, RoundingPass

    space = SearchSpace(registry.load_schema("tiny"))
    start = _vector("tiny", wave=0, octave=0, cutoff=612.0, level=0.41, decay=0.52)
    opt = RoundingPass(space, start, 0.1, seed=0, popsize=64)
    opt.start_score(10.0)
    gen = opt.ask()
    tries = list(opt._gen)
    scores = [10.0] * len(gen)
    i_level = next(i for i, (j, v) in enumerate(tries) if j == 1)  # level's nearest round value
    i_cutoff = next(i for i, (j, v) in enumerate(tries) if j == 0)  # cutoff's
    scores[i_level], scores[i_cutoff] = 5.0, 7.0
    opt.tell(scores)
    assert opt.score == 5.0 and opt.x[1] == tries[i_level][1] and opt.x[0] == space.split(start)[0][0]
    assert opt._queue == [tries[i_cutoff]] and opt.then is None  # cutoff's win, to try again on the new point
    opt.ask()
    opt.tell([4.0])
    assert opt.score == 4.0 and opt.x[0] == tries[i_cutoff][1]
    while opt.then is None:  # sweeps without a gain
        opt.tell([9.0] * len(opt.ask()))
    assert isinstance(opt.then, GaussNewton) and opt.then.x[0] == tries[i_cutoff][1]


BRIGHT = {"wave": 1, "octave": 0, "cutoff": 7000.0, "level": 0.9, "decay": 1.5}  # beyond tinycat's fixed filter


def _two_synth_search(target, **options):
    """tiny from a wrong start and tinycat from its default, 120 renders, two rounds of halving."""
    starts = {
        "tiny": [Candidate(_vector("tiny", wave=0, octave=0, cutoff=600.0, level=0.3, decay=0.8), 57)],
        "tinycat": [Candidate(_vector("tinycat"), 57)],
    }
    return refine(target, starts, SearchOptions(budget=120, seed=1, **options), SETTINGS)


def test_the_polishing_method_searches_the_halvings_last_round(tiny_synths):
    target = _target("tiny", _vector("tiny", **BRIGHT))
    plain, polished = _two_synth_search(target, polish=None), _two_synth_search(target)  # (gn by default)
    assert plain["tiny"].rounds == polished["tiny"].rounds == 2 and polished["tinycat"].rounds == 1
    assert polished["tinycat"].trace == plain["tinycat"].trace
    a, b = plain["tiny"].trace, polished["tiny"].trace
    same = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)  # the first round is the evolution strategy's
    end_of_first = polished["tinycat"].trace[-1][0]  # (tinycat searched after tiny in the first round, then stopped)
    assert a[same - 1][0] <= end_of_first < b[same][0]  # then another method searches
    assert polished["tiny"].score <= b[same - 1][1]


def test_a_synth_without_continuous_parameters_keeps_its_method_to_the_end(tiny_synths):
    target = _target("tinycat", _vector("tinycat", wave=2, octave=1))
    plain, polished = _two_synth_search(target, polish=None), _two_synth_search(target)
    assert polished["tinycat"].rounds == 2  # it won the first round, and nothing was handed to gn
    assert polished["tinycat"].trace == plain["tinycat"].trace and polished["tinycat"].score == plain["tinycat"].score


def test_one_synth_is_searched_by_its_method_alone(tiny_synths):
    target = _target("tiny", _vector("tiny", wave=1, octave=-1, cutoff=2500.0, level=0.8, decay=0.15))
    starts = {"tiny": [Candidate(_vector("tiny"), 57)]}
    a, b = (refine(target, starts, SearchOptions(budget=60, seed=2, polish=p), SETTINGS)["tiny"] for p in ("gn", None))
    assert a.rounds == b.rounds == 1 and a.trace == b.trace


def test_a_polishing_method_starts_from_the_best_point_and_its_score(tiny_synths, monkeypatch):
    """Handed the last round, a fresh evolution strategy starts from the first round's best vector and is told
    its score (else its first child would replace that best, however far), with the default and round pulls carried
    over."""
    import sys

    module = sys.modules["asp.search.refine"]  # (the package's ``refine`` is the function)
    real, made = module.make_optimizer, []

    def make(*args, **kw):
        opt, told = real(*args, **kw), []
        start_score = opt.start_score
        opt.start_score = lambda score: (told.append(score), start_score(score))[1]
        made.append((opt, told))
        return opt

    monkeypatch.setattr(module, "make_optimizer", make)
    res = _two_synth_search(_target("tiny", _vector("tiny", **BRIGHT)), polish="es", default_pull=0.3, round_pull=0.2)
    assert res["tiny"].rounds == 2 and len(made) == 3  # tiny's and tinycat's methods, then the polisher
    end_of_first = res["tinycat"].trace[-1][0]
    first_round_best = min(b for n, b in res["tiny"].trace if n <= end_of_first)
    assert made[2][1] == [first_round_best] and made[2][0].inner.default_pull == 0.3
    assert made[2][0].inner.round_pull == 0.2


def test_a_categorical_only_synth_finds_its_classes(tiny_synths):
    truth = _vector("tinycat", wave=2, octave=1)
    target = _target("tinycat", truth)
    start = _vector("tinycat", wave=0, octave=-1)
    res = refine(target, {"tinycat": [Candidate(start, 57)]}, SearchOptions(budget=60, seed=0), SETTINGS)["tinycat"]
    np.testing.assert_allclose(res.vector, truth)
    assert res.score == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("method", ["catcma", "cma", "es", "esm", "gn", "random"])
def test_the_budget_is_respected_and_the_result_is_never_worse_than_the_start(tiny_synths, method):
    truth = _vector("tiny", wave=2, octave=0, cutoff=5000.0, level=0.4, decay=1.0)
    target = _target("tiny", truth, 50)
    one = _vector("tiny", wave=2, octave=0, cutoff=4500.0, level=0.45, decay=0.9)  # a good start: hard to beat
    starts = {
        "tiny": [Candidate(one, 50), Candidate(_vector("tiny", wave=0), 50, "draw 1")],
        "tinycat": [Candidate(_vector("tinycat", wave=1), 50)],
    }
    for budget in (5, 40, 97):
        out = refine(target, starts, SearchOptions(budget=budget, method=method, seed=3), SETTINGS)
        used = sum(r.renders for r in out.values())
        assert used <= max(budget, 3 + 2 + 2 + 1)  # a budget below the starts and finals still does those
        for r in out.values():
            assert r.score <= r.oneshot_score
            assert r.oneshot_note == 50


def test_same_seed_same_result_and_another_seed_differs(tiny_synths):
    target = _target("tiny", _vector("tiny", wave=1, octave=1, cutoff=300.0, level=0.9, decay=0.05))
    starts = {"tiny": [Candidate(_vector("tiny"), 57)]}
    a, b, c = (refine(target, starts, SearchOptions(budget=80, seed=s), SETTINGS)["tiny"] for s in (5, 5, 6))
    np.testing.assert_array_equal(a.vector, b.vector)
    assert a.score == b.score and a.trace == b.trace
    assert a.trace != c.trace


def test_successive_halving_stops_the_losing_synth_early(tiny_synths):
    target = _target("tiny", _vector("tiny", wave=0, octave=0, cutoff=7000.0, level=0.08, decay=0.03))
    near = _vector("tiny", wave=0, octave=0, cutoff=6000.0, level=0.09, decay=0.04)  # tinycat cannot get this quiet
    starts = {"tiny": [Candidate(near, 57)], "tinycat": [Candidate(_vector("tinycat", wave=2), 57)]}
    out = refine(target, starts, SearchOptions(budget=200, seed=0, popsize=8, halving=True), SETTINGS)
    assert out["tiny"].rounds == 2 and out["tinycat"].rounds == 1
    assert out["tiny"].renders > 2 * out["tinycat"].renders
    even = refine(target, starts, SearchOptions(budget=200, seed=0, popsize=8, halving=False), SETTINGS)
    assert abs(even["tiny"].renders - even["tinycat"].renders) <= 8


def test_the_search_plays_the_candidates_note(tiny_synths):
    truth = _vector("tiny", wave=2, cutoff=6000.0)
    target = _target("tiny", truth, 45)
    starts = {"tiny": [Candidate(truth, 57), Candidate(truth, 45, "oneshot at its own note")]}
    res = refine(target, starts, SearchOptions(budget=30), SETTINGS)["tiny"]
    assert res.note == 45 and res.oneshot_note == 57 and res.score < 1e-6 < res.oneshot_score


def test_unknown_method_and_objective_name_the_valid_ones(tiny_synths):
    starts = {"tiny": [Candidate(_vector("tiny"), 57)]}
    target = np.zeros(SETTINGS.n_samples, dtype=np.float32)
    with pytest.raises(KeyError, match="catcma"):
        refine(target, starts, SearchOptions(method="nope"), SETTINGS)
    with pytest.raises(KeyError, match="spectral"):
        refine(target, starts, SearchOptions(objective="nope"), SETTINGS)


def test_a_screen_draws_more_children_and_renders_only_the_best_screened(tiny_synths):
    truth = _vector("tiny", wave=1, octave=-1, cutoff=2500.0, level=0.8, decay=0.15)
    target = _target("tiny", truth)
    start = _vector("tiny", wave=0, octave=0, cutoff=600.0, level=0.3, decay=0.8)
    calls = []

    def screen(vectors, note):  # a cheap score: the distance to the true vector (as a good proxy would rank)
        calls.append((len(vectors), note))
        return np.abs(np.stack(vectors) - truth).sum(axis=1)

    opts = SearchOptions(budget=60, seed=1, halving=False)
    plain = refine(target, {"tiny": [Candidate(start, 57)]}, opts, SETTINGS)["tiny"]
    screened = refine(
        target, {"tiny": [Candidate(start, 57)]}, opts, SETTINGS, screens={"tiny": screen}, screen_factor=6
    )["tiny"]
    assert calls and all(n == 6 * 8 and note == 57 for n, note in calls)  # popsize 8, six times as many drawn
    assert screened.renders == plain.renders <= 60  # the screen costs no renders
    assert screened.score < plain.score


def _wrapped(real, log, spoil_full_except=None):
    """A renderer factory logging each render's length; with ``spoil_full_except``, full-length renders of any
    vector but those return loud noise (a child whose sound goes wrong after the cheap render ends)."""

    def make(synth, settings):
        r = real(synth, settings)

        class Wrapped:
            def render(self, vector, note):
                log.append(settings.render_seconds)
                audio = r.render(vector, note)
                keep = spoil_full_except is None or any(np.array_equal(vector, v) for v in spoil_full_except)
                if settings.render_seconds == SETTINGS.render_seconds and not keep:
                    return np.random.default_rng(0).uniform(-1, 1, audio.shape).astype(np.float32)
                return audio

        return Wrapped()

    return make


def test_the_starts_are_scored_at_full_quality_and_the_search_at_the_cheap_one(tiny_synths):
    truth = _vector("tiny", wave=1, octave=0, cutoff=2000.0, level=0.7, decay=0.2)
    target = _target("tiny", truth)
    starts = [Candidate(_vector("tiny", wave=0), 57), Candidate(_vector("tiny", wave=2), 57, "draw 1")]
    for verify in (False, True):
        lengths = []
        opts = SearchOptions(budget=40, seed=0, search_seconds=0.5, verify=verify)
        res = refine(target, {"tiny": starts}, opts, SETTINGS, renderer=_wrapped(get_renderer, lengths))["tiny"]
        assert lengths[:2] == [1.0, 1.0] and 0.5 in lengths[2:]  # starts in full, then the search cheaply
        assert (set(lengths[2:-3]) == {0.5}) is not verify  # a verified child is rendered in full too
        assert res.renders == len(lengths) <= 40
        # the one-shot's full score was kept from its start render, not rendered again
        one = lsd(get_renderer("tiny", SETTINGS).render(starts[0].vector, 57), target)
        assert res.oneshot_score == pytest.approx(one, rel=1e-5)


def test_a_child_better_only_on_the_cheap_render_does_not_lead_the_search(tiny_synths):
    truth = _vector("tiny", wave=1, octave=0, cutoff=2000.0, level=0.7, decay=0.2)
    target = _target("tiny", truth)
    start = _vector("tiny", wave=1, octave=0, cutoff=700.0, level=0.3, decay=0.2)
    bests = {}
    for verify in (False, True):
        opts = SearchOptions(budget=60, seed=0, search_seconds=0.5, verify=verify)
        spoilt = _wrapped(get_renderer, [], spoil_full_except=[start])
        res = refine(target, {"tiny": [Candidate(start, 57)]}, opts, SETTINGS, renderer=spoilt)["tiny"]
        np.testing.assert_array_equal(res.vector, start)  # every child sounds wrong in full: the start is kept
        bests[verify] = [b for _, b in res.trace]
    assert bests[False][-1] < bests[False][0]  # unverified, the search followed the cheap improvements
    assert bests[True][-1] == bests[True][0]  # verified, none of them was taken


def test_octave_twins_find_a_patch_played_an_octave_up_with_its_oscillators_down():
    """The target: subtractive's default patch at G5 with both oscillators an octave down (its filter and envelope
    hear G5). Started at G4 with the oscillators where the default has them, the same pitch, the search cannot move
    its note; with octave twins its best start is the target's own patch."""
    settings = RenderSettings(note_seconds=1.0, render_seconds=1.5)
    schema = registry.load_schema("subtractive")
    patch = schema.from_natural({"osc1_octave": -1, "osc2_octave": -1, "cutoff": 800.0, "filter_env_amount": 0.0})
    target = get_renderer("subtractive", settings).render(patch, 79)
    start = SearchSpace(schema).octave_twins(patch, 79)[1][0]  # the same patch an octave down: G4, octaves at 0
    found = {}
    for twins in (False, True):
        opts = SearchOptions(budget=12, seed=0, octave_twins=twins, search_seconds=None)
        found[twins] = refine(target, {"subtractive": [Candidate(start, 67)]}, opts, settings)["subtractive"]
    assert found[True].note == 79 and found[True].score < 0.5
    assert found[False].note == 67 and found[False].score > 1.0

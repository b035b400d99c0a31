"""The optimisers' shared wrapper: a method whose state breaks down restarts instead of ending the search."""

import numpy as np
import pytest

from asp.search import SearchSpace
from asp.search.methods import METHODS, Optimizer, SparseES, make_optimizer
from asp.synths import registry


class _Breaks(Optimizer):
    """Proposes its start; its ``tell`` fails the way ``error`` says (as ``cmaes`` does on an overflowing mean)."""

    error: type[BaseException] = AssertionError
    made: list[np.ndarray] = []

    def _setup(self, start, sigma, seed, popsize, class_probs):
        self.start, self.popsize = np.asarray(start, dtype=np.float64), 2
        _Breaks.made.append(self.start)

    def ask(self):
        return [self.start, self.start * 0.5]

    def tell(self, scores):
        raise self.error("Abs of all param values must be less than 1e+32 to avoid overflow errors.")


@pytest.mark.parametrize("error", [AssertionError, np.linalg.LinAlgError, ValueError])
def test_a_method_that_breaks_down_restarts_from_the_best_vector_seen(tiny_synths, monkeypatch, error):
    space = SearchSpace(registry.load_schema(tiny_synths[0]))
    monkeypatch.setitem(METHODS, "breaks", _Breaks)
    monkeypatch.setattr(_Breaks, "error", error)
    monkeypatch.setattr(_Breaks, "made", [])
    start = np.full(space.schema.n_params, 0.8)
    opt = make_optimizer("breaks", space, start, 0.1, seed=0)
    gen = opt.ask()
    opt.tell([2.0, 1.0])  # the second child is the best seen: the restart starts there
    assert len(_Breaks.made) == 2 and np.allclose(_Breaks.made[1], gen[1])
    assert len(opt.ask()) == 2


def test_an_error_that_is_not_numerical_is_not_hidden(tiny_synths, monkeypatch):
    space = SearchSpace(registry.load_schema(tiny_synths[0]))
    monkeypatch.setitem(METHODS, "breaks", _Breaks)
    monkeypatch.setattr(_Breaks, "error", KeyError)
    opt = make_optimizer("breaks", space, np.full(space.schema.n_params, 0.5), 0.1, seed=0)
    opt.ask()
    with pytest.raises(KeyError):
        opt.tell([1.0, 2.0])


def test_mutations_pulled_back_go_to_the_synths_defaults_and_only_there(tiny_synths):
    """``default_pull`` 1: every parameter a child changes goes to its default (none takes a random step); 0: none
    is pulled: no continuous value lands on its default (a binary's other class is its default, so those are left
    out)."""
    space = SearchSpace(registry.load_schema(tiny_synths[0]))
    default = space.schema.default_vector()
    start = space.snap(np.where(default > 0.5, 0.1, 0.9))  # every parameter away from its default
    opt = make_optimizer("es", space, start, 0.2, seed=3)
    opt.default_pull = 1.0
    for child in opt.ask():
        changed = ~np.isclose(child, start)
        assert changed.any() and np.allclose(child[changed], default[changed])
    opt = make_optimizer("es", space, start, 0.2, seed=3)
    cont = np.zeros(space.schema.n_params, dtype=bool)
    cont[space.cont] = True
    children = opt.ask()
    assert any((~np.isclose(c, start) & cont).any() for c in children)
    assert not any((np.isclose(c, default) & ~np.isclose(c, start) & cont).any() for c in children)


def test_values_round_to_significant_figures_in_natural_units():
    """``SearchSpace.rounded``: one or two significant figures of the value a synth's UI shows (a log-scale
    frequency and a bipolar tuning here), only where asked, and a round value stays where it is."""
    space = SearchSpace(registry.load_schema("wavetable"))
    params = [space.schema.params[i] for i in space.cont]
    j_rate = next(j for j, p in enumerate(params) if p.name == "lfo1_rate")  # 0.05-20 Hz, log scale
    j_fine = next(j for j, p in enumerate(params) if p.name == "a_fine")  # -100 to 100 cents
    x = np.full(len(params), 0.5)
    x[j_rate], x[j_fine] = params[j_rate].to_normalised(2.96), params[j_fine].to_normalised(-46.04)

    def nat(y: np.ndarray, j: int) -> float:
        return float(params[j].to_natural(y[j]))

    one, two = space.rounded(x, 1), space.rounded(x, 2)
    assert nat(one, j_rate) == pytest.approx(3.0) and nat(two, j_rate) == pytest.approx(3.0)
    assert nat(one, j_fine) == pytest.approx(-50.0) and nat(two, j_fine) == pytest.approx(-46.0)
    where = np.zeros(len(params), dtype=bool)
    where[j_rate] = True
    only = space.rounded(x, 1, where=where)
    assert nat(only, j_rate) == pytest.approx(3.0) and only[j_fine] == x[j_fine]
    assert np.allclose(space.rounded(one, 1), one)


def test_steps_pulled_to_round_values_land_on_them(tiny_synths):
    """``round_pull`` 1: every continuous value a child changes is round (one or two significant figures in
    natural units); 0: from a start of values that are not round, the children's steps are not round either."""
    space = SearchSpace(registry.load_schema(tiny_synths[0]))
    params = [space.schema.params[i] for i in space.cont]
    start = space.snap(np.full(space.schema.n_params, 0.4321))

    def round_steps(pull: float) -> list[bool]:
        opt = make_optimizer("es", space, start, 0.2, seed=5)
        opt.round_pull = pull
        out = []
        for child in opt.ask() + opt.ask():
            x, _ = space.split(child)
            for j in np.flatnonzero(~np.isclose(x, space.split(start)[0])):
                nat = float(params[j].to_natural(x[j]))
                out.append(any(np.isclose(nat, float(f"{nat:.{d}g}"), rtol=1e-6, atol=1e-9) for d in (1, 2)))
        return out

    pulled, free = round_steps(1.0), round_steps(0.0)
    assert pulled and all(pulled)
    assert free and not any(free)


def test_the_search_options_fingerprint_omits_a_default_pull_of_zero():
    """Outputs made before ``default_pull`` existed (the search then had none) still resume with ``--default-pull
    0``; any other value is part of the fingerprint."""
    from asp.search import SearchOptions

    assert "default_pull" not in SearchOptions(default_pull=0.0).as_dict()
    assert SearchOptions().as_dict()["default_pull"] == SearchOptions().default_pull > 0
    # so do the file's band and the octave twins, off (the search before them)
    off = SearchOptions(file_band=False, octave_twins=False).as_dict()
    assert "file_band" not in off and "octave_twins" not in off
    assert SearchOptions().as_dict()["file_band"] is SearchOptions(octave_twins=True).as_dict()["octave_twins"] is True
    # the round pull, 0 (the search before it)
    assert "round_pull" not in SearchOptions().as_dict()
    assert SearchOptions(round_pull=0.5).as_dict()["round_pull"] == 0.5
    # and no polishing method
    assert "polish" not in SearchOptions(polish=None).as_dict() and SearchOptions().as_dict()["polish"] == "gn"


def test_a_default_pull_outside_zero_to_one_is_refused():
    from asp.search import SearchOptions

    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="default_pull is a chance, between 0 and 1"):
            SearchOptions(default_pull=bad)
        with pytest.raises(ValueError, match="round_pull is a chance, between 0 and 1"):
            SearchOptions(round_pull=bad)


def test_an_unknown_polishing_method_names_the_valid_ones():
    from asp.search import SearchOptions

    with pytest.raises(ValueError, match="unknown polishing method 'newton'; valid: .*gn"):
        SearchOptions(polish="newton")


def test_gauss_newton_measures_the_jacobian_then_steps_toward_the_target():
    """On a linear 'synth' (features = A x) the measured Jacobian is A, and the least damped first step lands
    nearly on the target's parameters (within its damping of 1 %); the classes are never touched."""
    from asp.search.methods import GaussNewton
    from asp.search.space import SearchSpace
    from asp.synths import load_schema

    space = SearchSpace(load_schema("subtractive"))
    rng = np.random.default_rng(0)
    start = space.join(np.full(len(space.cont), 0.5), space.defaults[1])
    a = rng.normal(size=(40, len(space.cont))).astype(np.float32)
    goal = np.clip(0.5 + rng.normal(0.0, 0.05, len(space.cont)), 0.0, 1.0)
    opt = GaussNewton(space, start, 0.1, 0, popsize=8)
    opt.target_features = a @ goal
    gens = 0
    while True:
        gen = opt.ask()
        gens += 1
        xs = [space.split(v)[0] for v in gen]
        for v in gen:
            np.testing.assert_array_equal(space.split(v)[1], space.defaults[1])
        feats = [a @ x for x in xs]
        opt.tell([float(np.sqrt(np.mean((f - a @ goal) ** 2))) for f in feats], feats)
        if not opt._queue:
            break
    assert gens == int(np.ceil((len(space.cont) + 1) / 8))  # the point and one probe per continuous parameter
    assert opt.jac is not None
    np.testing.assert_allclose(opt.jac, a, atol=1e-3)
    steps = [space.split(v)[0] for v in opt.ask()]
    off = float(np.abs(0.5 - goal).max())
    assert min(float(np.abs(x - goal).max()) for x in steps) < 0.05 * off  # the least damped step: nearly onto it


def test_octave_twins_play_the_same_pitch_from_the_oscillators_moved_the_other_way():
    """Subtractive's default patch at G4 and its twins (G5 with both oscillators an octave down, G3 with both an
    octave up), rendered: the same pitch; at the ends of the octave range only the twin that can move is made."""
    from asp.features.pitch import estimate_pitch
    from asp.render import RenderSettings, get_renderer

    schema = registry.load_schema("subtractive")
    space = SearchSpace(schema)
    start = schema.default_vector()
    twins = space.octave_twins(start, 67)
    assert [(n, label) for _, n, label in twins] == [(79, "an octave up"), (55, "an octave down")]
    up = schema.to_natural(twins[0][0])
    assert up["osc1_octave"] == up["osc2_octave"] == -1.0
    assert {k: v for k, v in up.items() if "octave" not in k} == {
        k: v for k, v in schema.to_natural(start).items() if "octave" not in k
    }
    renderer = get_renderer("subtractive", RenderSettings(note_seconds=1.0, render_seconds=1.0))
    pitches = [estimate_pitch(renderer.render(v, n), 44100).midi for v, n in [(start, 67), *[t[:2] for t in twins]]]
    assert np.allclose(pitches, pitches[0], atol=0.3), pitches
    lowest = schema.from_natural({"osc1_octave": -2, "osc2_octave": -2})
    assert [label for *_, label in space.octave_twins(lowest, 67)] == ["an octave down"]
    assert SearchSpace(registry.load_schema("amsynth")).octave_twins(start[:0], 60) == []  # no transpose entry


def test_the_model_children_step_toward_the_target_once_the_strategy_has_moved_enough():
    """ModelES on a linear 'synth' (features = A x): once the strategy's children have moved the parameters enough,
    its two last children are Levenberg-Marquardt steps of the learnt model, with the parent's classes; on this
    landscape they reach the target, where the plain strategy (same seed, same children otherwise) is still off."""
    from asp.search.methods import ModelES
    from asp.search.space import SearchSpace
    from asp.synths import load_schema

    space = SearchSpace(load_schema("subtractive"))
    rng = np.random.default_rng(1)
    a = rng.normal(size=(60, len(space.cont)))
    goal = np.clip(0.5 + rng.normal(0.0, 0.1, len(space.cont)), 0.0, 1.0)

    def run(cls):
        opt = cls(space, space.join(np.full(len(space.cont), 0.5), space.defaults[1]), 0.1, 0, popsize=8)
        opt.target_features = a @ goal
        opt.start_score(float(np.sqrt(np.mean((a @ (np.full(len(goal), 0.5) - goal)) ** 2))))
        kinds = []
        for _ in range(40):
            vectors = opt.ask()
            kinds.append(list(getattr(opt, "_kinds", [])))
            for v, kind in zip(vectors, kinds[-1]):
                if kind == "model":
                    np.testing.assert_array_equal(space.split(v)[1], opt.k)
            feats = [a @ space.split(v)[0] for v in vectors]
            opt.tell([float(np.sqrt(np.mean((f - a @ goal) ** 2))) for f in feats], feats)
        return float(np.abs(opt.x - goal).max()), kinds

    off_model, kinds = run(ModelES)
    off_plain, _ = run(SparseES)
    assert kinds[0][0] == "parent" and "model" not in kinds[0]  # the parent's spectrogram first
    assert kinds[-1][-2:] == ["model", "model"]
    assert off_model < 1e-6 < 0.01 < off_plain

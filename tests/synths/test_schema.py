import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asp.synths import ParamSpec, SchemaError, SynthSchema, load_schema, registry
from asp.synths.schema import schema_from_records

PUBLISHED = {"serum": (315, 480), "diva": (281, 759), "tyrelln6": (92, 327)}


@pytest.mark.parametrize("name,sizes", PUBLISHED.items())
def test_published_schemas_have_the_papers_sizes(name, sizes):
    s = load_schema(name)
    assert (s.n_params, s.onehot_size) == sizes


def test_builtin_synths_are_real_inference_problems():
    for name in registry.builtin_names():
        s = load_schema(name)
        discrete = s.counts["categorical"] + s.counts["binary"]
        assert 29 <= s.n_params <= 120, name
        assert s.counts["categorical"] >= s.n_params / 5 or discrete >= s.n_params / 5, name
    assert len(registry.builtin_names()) >= 3


def test_amsynth_schema_matches_the_plugin_table():
    s = load_schema("amsynth")
    assert s.n_params == 41
    for name in ("osc1_waveform", "osc2_waveform", "lfo_waveform", "filter_type", "filter_slope", "keyboard_mode"):
        assert s[name].kind == "categorical"
    assert s["osc2_pitch"].n_classes == 25 and s["filter_type"].n_classes == 5


@st.composite
def schema_and_vectors(draw):
    n = draw(st.integers(1, 12))
    recs = []
    for i in range(n):
        kind = draw(st.sampled_from(["continuous", "categorical", "binary"]))
        rec = {"name": f"p{i}", "kind": kind}
        if kind == "categorical":
            rec["n_classes"] = draw(st.integers(2, 9))
        recs.append(rec)
    schema = schema_from_records("h", recs)
    b = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    from asp.synths import sample_presets

    return schema, sample_presets(schema, b, rng)


@settings(max_examples=60, deadline=None)
@given(schema_and_vectors())
def test_encode_decode_round_trip(sv):
    schema, x = sv
    onehot = schema.encode(x)
    assert onehot.shape == (len(x), schema.onehot_size)
    np.testing.assert_allclose(schema.decode(onehot), x, atol=1e-6)
    for _, start, c in schema.categorical_groups:
        np.testing.assert_array_equal(onehot[:, start : start + c].sum(axis=1), 1)


def test_encode_follows_the_papers_convention():
    s = schema_from_records("t", [{"name": "c", "kind": "categorical", "n_classes": 4}, {"name": "x"}])
    np.testing.assert_array_equal(s.encode(np.array([2 / 3, 0.25])), [0, 0, 1, 0, 0.25])
    assert s.decode(np.array([0.1, 0.9, 0.3, 0.2, 0.7]))[0] == pytest.approx(1 / 3)


def test_decode_is_argmax_per_group_on_scores():
    s = load_schema("subtractive")
    scores = np.random.default_rng(0).normal(size=(7, s.onehot_size))
    x = s.decode(scores)
    for i, start, c in s.categorical_groups:
        np.testing.assert_allclose(x[:, i], np.argmax(scores[:, start : start + c], axis=1) / (c - 1))


def test_natural_round_trip_and_log_scale():
    s = load_schema("subtractive")
    p = s["cutoff"]
    assert p.scale == "log"
    assert p.to_natural(0.5) == pytest.approx(np.sqrt(p.low * p.high))
    v = s.default_vector()
    back = s.from_natural(s.to_natural(v))
    np.testing.assert_allclose(back, v, atol=1e-6)


@pytest.mark.parametrize(
    "records,fragment",
    [
        ([{"name": "a", "kind": "categorical", "n_classes": 1}], "'a'"),
        ([{"name": "a"}, {"name": "a"}], "duplicate parameter name 'a'"),
        ([{"name": "w", "low": 0, "high": 1, "default": 2}], "'w'"),
        ([{"name": "b", "kind": "binary", "n_classes": 3}], "'b'"),
        ([{"name": "c", "kind": "categorical", "n_classes": 3, "labels": ["x", "y"]}], "'c'"),
    ],
)
def test_bad_schemas_name_the_parameter(records, fragment):
    with pytest.raises(SchemaError, match=fragment):
        schema_from_records("bad", records)


def test_preset_validation_names_the_parameter():
    s = load_schema("subtractive")
    with pytest.raises(SchemaError, match="'cutoff'.*outside"):
        s.from_natural({"cutoff": 1e6})
    with pytest.raises(SchemaError, match="'osc1_wave'.*class"):
        s.from_natural({"osc1_wave": 1.5})
    with pytest.raises(SchemaError, match="unknown parameter.*'nope'"):
        s.from_natural({"nope": 1})
    with pytest.raises(SchemaError, match="'resonance' has values outside"):
        bad = s.default_vector()
        bad[s.position["resonance"]] = 1.5
        s.validate(bad)


def test_content_hash_changes_with_meaning_not_labels():
    a = schema_from_records("t", [{"name": "x"}, {"name": "c", "kind": "categorical", "n_classes": 3}])
    b = schema_from_records("t", [{"name": "x"}, {"name": "c", "kind": "categorical", "n_classes": 4}])
    c = schema_from_records(
        "t",
        [
            {"name": "x", "group": "osc"},
            {"name": "c", "kind": "categorical", "n_classes": 3, "labels": ["a", "b", "c"]},
        ],
    )
    assert a.content_hash != b.content_hash
    assert a.content_hash == c.content_hash


def test_paramspec_rejects_nonsense():
    with pytest.raises(SchemaError, match="unknown kind"):
        ParamSpec("x", 0, kind="wobbly")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="has no parameters"):
        SynthSchema("empty", ())


def test_labels_for_display():
    s = load_schema("vapoly")
    assert s["filter_model"].label_of(s["filter_model"].to_normalised(2)) == "korg35"
    assert s["cutoff"].label_of(1.0) == "1.6e+04 Hz"

import numpy as np
import pytest

from asp.synths import SamplingSpec, SchemaError, load_sampling, load_schema, registry, sample_presets


def test_sampling_respects_ranges_fixed_and_exclusions():
    s = load_schema("amsynth")
    spec = SamplingSpec.from_mapping(
        {"fixed": {"master_vol": 0.5}, "ranges": {"amp_attack": [0.5, 1.0]}, "exclude": {"filter_type": [0, 4]}}
    )
    x = sample_presets(s, 500, np.random.default_rng(1), spec)
    s.validate(x)
    assert np.allclose(x[:, s.position["master_vol"]], 0.5)
    att = np.array([s["amp_attack"].to_natural(v) for v in x[:, s.position["amp_attack"]]])
    assert att.min() >= 0.5 - 1e-6 and att.max() <= 1.0 + 1e-6
    classes = s["filter_type"].class_of(x[:, s.position["filter_type"]])
    assert set(np.unique(classes)) == {1, 2, 3}


def test_sampling_is_seeded():
    s = load_schema("wavetable")
    a = sample_presets(s, 4, np.random.default_rng(3))
    b = sample_presets(s, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ({"ranges": {"nope": [0, 1]}}, "unknown parameter 'nope'"),
        ({"ranges": {"filter_type": [0, 1]}}, "'filter_type' is categorical"),
        ({"exclude": {"filter_type": [0, 1, 2, 3, 4]}}, "'filter_type'.*no valid class"),
        ({"fixed": {"amp_attack": 99}}, "'amp_attack'"),
        ({"ranges": {"amp_attack": [0, 99]}}, "'amp_attack'.*not inside"),
    ],
)
def test_bad_sampling_specs_name_the_parameter(spec, fragment):
    with pytest.raises(SchemaError, match=fragment):
        sample_presets(load_schema("amsynth"), 2, np.random.default_rng(0), SamplingSpec.from_mapping(spec))


@pytest.mark.parametrize("name", registry.names())
def test_shipped_sampling_specs_are_valid(name):
    load_sampling(name).check(load_schema(name))

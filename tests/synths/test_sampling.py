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


def test_default_share_keeps_defaults_and_leaves_the_other_values_as_drawn():
    s = load_schema("amsynth")
    spec = SamplingSpec.from_mapping({"fixed": {"master_vol": 0.5}, "exclude": {"filter_type": [4]}})
    plain = sample_presets(s, 2000, np.random.default_rng(5), spec)
    biased = sample_presets(s, 2000, np.random.default_rng(5), spec, default_share=0.5)
    defaults = s.default_vector()
    at_default = biased == defaults
    changed = biased != plain
    assert np.all(biased[changed] == np.broadcast_to(defaults, biased.shape)[changed])  # only defaults put in
    free = [i for i, p in enumerate(s.params) if p.name != "master_vol"]
    share = at_default[:, free].mean()
    assert 0.45 < share < 0.6  # half kept, plus the discrete draws that hit the default class anyway
    assert np.allclose(biased[:, s.position["master_vol"]], 0.5)  # fixed values stay fixed
    s.validate(biased)
    with pytest.raises(ValueError, match="default share"):
        sample_presets(s, 2, np.random.default_rng(0), spec, default_share=1.0)


def test_default_share_respects_ranges_and_exclusions():
    s = load_schema("amsynth")
    attack, ftype = s["amp_attack"], s["filter_type"]
    lo = float(attack.to_natural(min(attack.default_normalised + 0.2, 1.0)))  # a range without the default
    default_class = int(ftype.class_of(ftype.default_normalised))
    spec = SamplingSpec.from_mapping(
        {"ranges": {"amp_attack": [lo, attack.high]}, "exclude": {"filter_type": [default_class]}}
    )
    x = sample_presets(s, 500, np.random.default_rng(2), spec, default_share=0.9)
    assert x[:, s.position["amp_attack"]].min() >= attack.to_normalised(lo) - 1e-6
    assert default_class not in set(ftype.class_of(x[:, s.position["filter_type"]]).tolist())

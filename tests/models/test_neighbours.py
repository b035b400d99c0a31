"""The latent index of a run's training presets (``asp.models.neighbours``), on a real tiny dataset and checkpoint."""

import numpy as np
import pytest

from asp.data.store import Dataset
from asp.models.inference import Predictor
from asp.models.neighbours import INDEX_FILE, LatentIndex


@pytest.fixture(scope="module")
def predictor(tiny_checkpoint):
    return Predictor(tiny_checkpoint)


def test_a_training_clip_finds_its_own_preset_first(predictor, tiny_dataset):
    index = LatentIndex.build(predictor, tiny_dataset)
    ds = Dataset(tiny_dataset)
    train = ds.split("train")
    for synth in predictor.synths:
        rows = train[train.synth == synth]
        assert len(index.synths[synth].mu) == len(rows)
        mus = predictor.latent(ds.mels(rows), synth)
        native = ds.array(rows, "native")
        for i in range(len(rows)):
            near = index.nearest(synth, mus[i], 3)
            np.testing.assert_allclose(near[0], native[i], atol=1e-6)
            assert len({v.tobytes() for v in near}) == len(near) == 3  # distinct presets, nearest first


def test_the_index_is_cached_beside_the_run_and_rebuilt_when_stale(predictor, tiny_dataset, tmp_path, monkeypatch):
    cache = tmp_path / INDEX_FILE
    built = LatentIndex.cached(predictor, tiny_dataset, cache=cache)
    assert cache.is_file()

    def no_build(*a, **k):
        raise AssertionError("rebuilt a valid cache")

    monkeypatch.setattr(LatentIndex, "build", classmethod(no_build))
    again = LatentIndex.cached(predictor, tiny_dataset, cache=cache)
    assert again.key == built.key
    np.testing.assert_array_equal(again.synths["vapoly"].mu, built.synths["vapoly"].mu)
    monkeypatch.undo()
    other = LatentIndex.cached(predictor, tiny_dataset, split="valid", cache=cache)  # another key: rebuilt
    assert other.key != built.key and LatentIndex.load(cache).key == other.key


def test_a_synth_without_training_clips_is_named(predictor, tiny_dataset):
    with pytest.raises(ValueError, match="no subtractive clips in the nope split"):
        LatentIndex.build(predictor, tiny_dataset, split="nope")

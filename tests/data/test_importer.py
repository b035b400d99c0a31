"""The published multi-task layout, on a small replica written by the test."""

import numpy as np
import pytest

from asp.data.importers import import_multitask
from asp.data.store import Dataset
from asp.synths import load_schema, sample_presets

SYNTHS = {"serum": "serum", "diva": "diva", "tyrell": "tyrelln6"}


def write_replica(root, n_per_synth=3, mask_shape="vector"):
    rng = np.random.default_rng(0)
    truth = {}
    for split in ("train", "valid", "test"):
        n = n_per_synth * 3
        np.save(root / f"{split}_mels.npy", rng.normal(size=(n, 128, 431)).astype(np.float32))
        names, synth_col = [], []
        for k, (pub, name) in enumerate(SYNTHS.items()):
            s = load_schema(name)
            params = np.zeros((n, s.onehot_size), np.float32)
            mask = np.zeros(n, np.float32)
            rows = np.arange(k * n_per_synth, (k + 1) * n_per_synth)
            native = sample_presets(s, n_per_synth, rng)
            params[rows] = s.encode(native)
            mask[rows] = 1
            truth[(split, name)] = native
            np.save(root / f"{split}_{pub}_params.npy", params)
            np.save(root / f"{split}_{pub}_mask.npy", mask if mask_shape == "vector" else mask[:, None] * (params != 2))
            names += [f"{pub}-preset-{i}" for i in range(n_per_synth)]
            synth_col += [pub] * n_per_synth
        if split == "test":
            np.save(root / "test_name.npy", np.array(names))
            np.save(root / "test_synth.npy", np.array(synth_col))
            np.save(root / "test_hpss.npy", np.linspace(0.05, 0.95, n))
    return truth


@pytest.mark.parametrize("mask_shape", ["vector", "per_dim"])
def test_import_replica(tmp_path, mask_shape):
    src = tmp_path / "published"
    src.mkdir()
    truth = write_replica(src, mask_shape=mask_shape)
    ds = Dataset(import_multitask(src, tmp_path / "ds", shard_size=2))
    t = ds.table
    assert len(t) == 27 and set(t.synth) == set(SYNTHS.values())
    for (split, name), native in truth.items():
        rows = t[(t.split == split) & (t.synth == name)]
        np.testing.assert_allclose(ds.array(rows, "native"), native, atol=1e-6)
    test = t[t.split == "test"]
    assert test.preset_name.str.contains("-preset-").all()
    assert sorted(test.timbre_group.unique()) == [0, 1, 2, 3, 4]
    assert ds.card["splits"]["by"] == "clip (published)"
    assert ds.mels(t.head(2)).shape == (2, 128, 431)


def test_import_errors_name_the_file(tmp_path):
    src = tmp_path / "published"
    src.mkdir()
    write_replica(src)
    (src / "valid_mels.npy").unlink()
    with pytest.raises(FileNotFoundError, match="valid_mels.npy"):
        import_multitask(src, tmp_path / "ds")

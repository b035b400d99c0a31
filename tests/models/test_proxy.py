"""Neural proxies: both architectures learn a known mapping; training, loading and retrieval on a real dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from asp.models.proxy import ARCHS, ProxySettings, build_proxy
from asp.synths import load_sampling, registry, sample_presets


@pytest.mark.parametrize("arch", ARCHS)
def test_each_architecture_learns_a_known_mapping(arch: str) -> None:
    schema = registry.load_schema("subtractive")
    rng = np.random.default_rng(0)
    native = sample_presets(schema, 512, rng, load_sampling("subtractive"))
    x = torch.from_numpy(schema.encode(native))
    notes = torch.from_numpy(rng.integers(36, 85, len(x)).astype(np.float32))
    w = torch.from_numpy(rng.standard_normal((x.shape[1], 8)).astype(np.float32))
    y = x @ w + notes[:, None] / 127.0  # the "embedding": a fixed function of the preset and the note
    y = (y - y.mean(0)) / y.std(0)
    torch.manual_seed(0)
    net = build_proxy(schema, ProxySettings(arch=arch, embedding=8, hidden=64, d_model=32, dropout=0.0))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(300):
        b = torch.from_numpy(rng.integers(0, 384, 64))
        loss = torch.nn.functional.mse_loss(net(x[b], notes[b]), y[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        held_out = float(torch.nn.functional.mse_loss(net(x[384:], notes[384:]), y[384:]))
    assert held_out < 0.15  # predicting the mean scores 1.0


def test_unknown_architecture_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid: mlp, transformer"):
        build_proxy(registry.load_schema("subtractive"), ProxySettings(arch="rnn"))


def test_train_load_score_and_retrieve_on_a_real_dataset(tiny_dataset: Path, tmp_path: Path) -> None:
    from asp.eval.proxy import evaluate_retrieval, ranks, write_retrieval
    from asp.models.proxy_training import Proxy, train_proxy
    from asp.render import get_renderer

    card = train_proxy(
        tiny_dataset, "subtractive", tmp_path / "mlp", ProxySettings(arch="mlp"), epochs=3, log=lambda m: None
    )
    assert card["embedding"].startswith("mel statistics") and len(card["valid_mse"]) == 3
    # what learning nothing scores: the training split's mean embedding on the validation clips
    from asp.data.store import Dataset
    from asp.models.proxy_training import dataset_arrays

    _, _, y_tr = dataset_arrays(Dataset(tiny_dataset), "subtractive", "train")
    _, _, y_va = dataset_arrays(Dataset(tiny_dataset), "subtractive", "valid")
    expect = (((y_va - y_tr.mean(0)) / (y_tr.std(0) + 1e-3)) ** 2).mean()
    assert card["mean_valid_mse"] == pytest.approx(expect, rel=1e-4) and card["mean_valid_mse"] > 0
    again = train_proxy(tiny_dataset, "subtractive", tmp_path / "mlp", epochs=99, log=lambda m: None)
    assert again["epochs"] == 3  # a finished folder is kept
    proxy = Proxy(tmp_path / "mlp")
    schema = registry.load_schema("subtractive")
    v = sample_presets(schema, 5, np.random.default_rng(3), load_sampling("subtractive"))
    assert proxy.embed_presets(v, 60).shape == (5, 256)
    target = get_renderer("subtractive", proxy.render_settings).render(v[0], 60)
    scores = proxy.scorer(target)(list(v), 60)
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    result = evaluate_retrieval([proxy], limit=0, distractors=20, note=60)
    assert result["queries"] == 4 and result["candidates"] == 24  # presets/subtractive holds 4 hand-made presets
    m = result["proxies"]["mlp"]
    assert 1 / 24 <= m["mrr"] <= 1 and 0 <= m["top1"] <= m["top5"] <= m["top10"] <= 1
    assert "| mlp (mlp) |" in write_retrieval(result, tmp_path / "eval").read_text()
    # ranks: ties count against the true candidate; an exact match ranks first
    q = np.array([[0.0, 0.0], [1.0, 1.0]])
    c = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    assert list(ranks(q, c, np.array([0, 1]))) == [1, 2]


def test_a_split_without_the_synths_clips_is_named(tiny_dataset: Path) -> None:
    from asp.data.store import Dataset
    from asp.models.proxy_training import dataset_arrays

    ds = Dataset(tiny_dataset)
    assert len(dataset_arrays(ds, "subtractive", "train")[0])
    with pytest.raises(ValueError, match=r"no subtractive clips in the holdout split"):
        dataset_arrays(ds, "subtractive", "holdout")


def test_retrieval_leaves_out_the_hand_made_presets_a_proxy_was_trained_on(tiny_dataset: Path, tmp_path: Path) -> None:
    """A proxy trained on a dataset of hand-made presets is not scored on them: only the ones in neither its training
    nor its validation split are queries, and the report says how many were left out. Proxies trained on different
    datasets are each scored in their own standardised embedding space (the order they are given in is moot)."""
    from asp.data.generate import GenerateConfig, generate
    from asp.data.store import Dataset
    from asp.eval.proxy import evaluate_retrieval, write_retrieval
    from asp.models.proxy_training import Proxy, train_proxy
    from asp.render import RenderSettings

    root = generate(
        GenerateConfig(
            out=tmp_path / "ds",
            synths=("subtractive",),
            presets_per_synth=0,
            preset_files={"subtractive": str(registry.factory_presets("subtractive"))},
            workers=0,
            shard_size=4,
            splits=(0.5, 0.25, 0.25),
            render=RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=(60, 62)),
            self_distance_presets=0,
        ),
        progress=False,
    )
    splits = Dataset(root).table.drop_duplicates("preset_id").split.value_counts()
    seen = int(splits.get("train", 0) + splits.get("valid", 0))
    assert 0 < seen < 4
    train_proxy(root, "subtractive", tmp_path / "mlp", ProxySettings(arch="mlp"), epochs=1, log=lambda m: None)
    result = evaluate_retrieval([Proxy(tmp_path / "mlp")], limit=0, distractors=5, note=60)
    assert result["left_out_seen"] == seen and result["queries"] == 4 - seen and result["datasets_not_found"] == []
    assert f"Left out: {seen} hand-made presets" in write_retrieval(result, tmp_path / "eval").read_text()
    other = tmp_path / "other"
    train_proxy(tiny_dataset, "subtractive", other, ProxySettings(arch="mlp"), epochs=1, log=lambda m: None)
    pair = [Proxy(tmp_path / "mlp"), Proxy(other)]
    assert not np.allclose(pair[0].mean, pair[1].mean)
    ab = evaluate_retrieval(pair, limit=0, distractors=5, note=60)["proxies"]
    ba = evaluate_retrieval(pair[::-1], limit=0, distractors=5, note=60)["proxies"]
    assert ab == ba
    (tmp_path / "b").mkdir()
    twins = [Proxy(tmp_path / "mlp"), Proxy(other.rename(tmp_path / "b" / "mlp"))]  # two folders named mlp
    assert set(evaluate_retrieval(twins, limit=0, distractors=5, note=60)["proxies"]) == {
        f"{tmp_path.name}/mlp",
        "b/mlp",
    }

import pytest

from asp.data.generate import GenerateConfig, generate
from asp.render import RenderSettings

TINY_SYNTHS = ("subtractive", "vapoly")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A tiny real dataset (Faust renders): 2 synths x 10 presets x 2 notes, 1 s clips."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    return generate(GenerateConfig(out=out, synths=TINY_SYNTHS, presets_per_synth=10, workers=0, shard_size=5, seed=1,
                                   render=RenderSettings(note_seconds=0.5, render_seconds=1.0, notes=(60, 62)),
                                   self_distance_presets=0), progress=False)


def overrides(root, run_dir, *extra):
    return [f"data.root={root}", "data.synths=[subtractive,vapoly]", "trainer=debug", "logger=csv",
            "data.num_workers=0", "data.batch_size=4", f"run_dir={run_dir}", *extra]

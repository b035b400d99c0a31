import pytest

from asp.synths import PluginNotFoundError, SynthEntry, registry


def test_unknown_synth_lists_the_valid_names():
    with pytest.raises(KeyError) as info:
        registry.get("moog")
    for name in ("serum", "diva", "tyrelln6", "amsynth", "wavetable", "vapoly", "subtractive"):
        assert name in str(info.value)


def test_missing_plugin_says_how_to_set_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ASP_PLUGIN_SERUM", str(tmp_path / "Serum.so"))
    monkeypatch.setenv("ASP_CONFIG", str(tmp_path / "none.yaml"))
    with pytest.raises(PluginNotFoundError) as info:
        registry.plugin_path("serum")
    msg = str(info.value)
    assert "ASP_PLUGIN_SERUM" in msg and str(tmp_path / "Serum.so") in msg and "plugins:" in msg


def test_plugin_path_from_config_file(monkeypatch, tmp_path):
    fake = tmp_path / "Diva.so"
    fake.write_bytes(b"")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"plugins:\n  diva: {fake}\n")
    monkeypatch.delenv("ASP_PLUGIN_DIVA", raising=False)
    monkeypatch.setenv("ASP_CONFIG", str(cfg))
    assert registry.plugin_path("diva") == fake
    assert registry.render_status("diva")[0]


def test_register_a_new_synth(tmp_path):
    schema = tmp_path / "mine.yaml"
    schema.write_text("name: mine\nparams:\n- {name: a}\n- {name: w, kind: categorical, n_classes: 3}\n")
    registry.register(SynthEntry("mine", str(schema), "plugin", "/nonexistent.so"))
    try:
        assert "mine" in registry.names()
        assert registry.load_schema("mine").onehot_size == 4
        with pytest.raises(ValueError, match="already registered"):
            registry.register(SynthEntry("mine", str(schema), "plugin"))
    finally:
        registry.unregister("mine")
    assert "mine" not in registry.names()


def test_registry_is_not_empty():
    assert registry.names(), "no synth registered: every parametrised synth test would be vacuous"

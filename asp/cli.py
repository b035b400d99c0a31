"""The ``asp`` command line: thin verbs over the layers below."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from asp.synths import registry
from asp.tracking import LOGGERS, WANDB_MODES

QUICKSTART_OUT = Path("runs/quickstart")


def _notes(text: str) -> tuple[int, ...]:
    """'60-71' or '60,64,67' -> notes."""
    out: list[int] = []
    for part in text.split(","):
        if "-" in part.strip()[1:]:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return tuple(out)


def _names(text: str) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c')."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _synth_list(text: str) -> tuple[str, ...]:
    names = _names(text)
    if names == ("builtin",):
        return tuple(registry.builtin_names())
    for n in names:
        registry.get(n)  # KeyError listing the valid names
    return names


# ---------------------------------------------------------------------- synths
def cmd_synths_list(args: argparse.Namespace) -> int:
    import pandas as pd

    rows = []
    for name in registry.names():
        entry = registry.get(name)
        ok, where = registry.render_status(name)
        try:
            s = registry.load_schema(name)
            rows.append({"synth": name, "params": s.n_params, "continuous": s.counts["continuous"],
                         "categorical": s.counts["categorical"], "binary": s.counts["binary"],
                         "onehot": s.onehot_size, "backend": entry.backend, "renders_here": "yes" if ok else "no",
                         "where": where})
        except Exception as err:  # a broken user-registered schema should not hide the others
            rows.append({"synth": name, "backend": entry.backend, "renders_here": "no", "where": f"schema error: {err}"})
    table = pd.DataFrame(rows)
    print(table.to_json(orient="records", indent=1) if args.json else table.to_string(index=False))
    return 0


def cmd_synths_show(args: argparse.Namespace) -> int:
    import pandas as pd

    schema = registry.load_schema(args.name)
    if args.yaml:
        from asp.synths.schema_io import dump_schema_yaml

        print(dump_schema_yaml(schema), end="")
        return 0
    print(f"{schema.name}: {schema.description}")
    print(f"parameters {schema.n_params} ({schema.counts}), one-hot size {schema.onehot_size}, "
          f"hash {schema.content_hash}")
    rows = [{"index": p.index, "name": p.name, "kind": p.kind, "classes": p.n_classes or "", "low": p.low,
             "high": p.high, "default": p.default, "scale": p.scale, "group": p.group,
             "labels": ",".join(p.labels)} for p in schema.params]
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


def cmd_synths_draft(args: argparse.Namespace) -> int:
    from asp.render.draft import draft_from_faust, draft_from_plugin
    from asp.synths.schema_io import dump_schema_yaml

    path = Path(args.path)
    if not path.exists():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    schema = draft_from_faust(path, args.name) if path.suffix == ".dsp" else draft_from_plugin(path, args.name)
    text = dump_schema_yaml(schema)
    if args.out:
        from asp.atomic import atomic_write_bytes

        atomic_write_bytes(args.out, text.encode())
        print(f"wrote {args.out}: {schema.n_params} parameters ({schema.counts}), one-hot {schema.onehot_size}",
              file=sys.stderr)
    else:
        print(text, end="")
    return 0


# ---------------------------------------------------------------------- dataset
def _generate_config(args: argparse.Namespace):
    from asp.data.generate import GenerateConfig
    from asp.render.settings import RenderSettings

    files = {}
    for item in args.preset_files or []:
        if "=" not in item:
            raise SystemExit(f"error: --preset-files takes SYNTH=PATH, got {item!r}")
        synth, path = item.split("=", 1)
        registry.get(synth)
        files[synth] = path
    return GenerateConfig(
        out=Path(args.out), synths=_synth_list(args.synths), presets_per_synth=args.presets, preset_files=files,
        seed=args.seed, workers=args.workers, shard_size=args.shard_size, silence_db=args.silence_db,
        hpss=args.hpss, render=RenderSettings(notes=_notes(args.notes)), save_audio=args.save_audio,
        self_distance_presets=args.floor_presets, backend=args.backend, address=args.address,
        notes_per_preset=args.notes_per_preset, hpss_train=not args.no_hpss_train,
    )


def cmd_dataset_generate(args: argparse.Namespace) -> int:
    from asp.data.generate import clear, generate, summary_frame
    from asp.data.layout import read_card

    cfg = _generate_config(args)
    if args.overwrite:
        clear(cfg.out)
    out = generate(cfg, progress=not args.no_progress)
    print(summary_frame(read_card(out)).to_string(index=False))
    print(f"dataset: {out}")
    return 0


def cmd_dataset_info(args: argparse.Namespace) -> int:
    from asp.data.generate import summary_frame
    from asp.data.layout import read_card

    card = read_card(Path(args.path))
    if card is None:
        print(f"error: {args.path}: no card.json (not a finished asp dataset)", file=sys.stderr)
        return 2
    print(json.dumps(card, indent=1) if args.json else summary_frame(card).to_string(index=False))
    return 0


def cmd_dataset_import(args: argparse.Namespace) -> int:
    from asp.data.importers import import_multitask

    out = import_multitask(Path(args.src), Path(args.out), shard_size=args.shard_size)
    print(f"imported into {out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from asp.models.training import compose, train

    cfg = compose(args.overrides)
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(cfg))
        return 0
    result = train(cfg)
    print(json.dumps(result, indent=1))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from asp.models.sweep import sweep

    variants = list(_names(args.variants))
    latents = [int(z) for z in args.latents.split(",") if z.strip()]
    out = sweep(args.overrides, variants, latents, Path(args.out) if args.out else None, backend=args.backend,
                address=args.address, cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial,
                log=lambda m: print(m, file=sys.stderr))
    import pandas as pd

    print(pd.read_csv(out / "results.csv").to_string(index=False))
    print(f"results: {out / 'results.csv'}")
    return 0


def cmd_quickstart(args: argparse.Namespace) -> int:
    """The main job on the built-in default: dataset, a short J-S training run, held-back target sounds rendered from
    the hand-made presets, ``asp infer`` on them, and the report table. Every step resumes."""
    synths = registry.builtin_names()
    cmd_dataset_generate(build_parser().parse_args([
        "dataset", "generate", "--out", str(args.out / "dataset"), "--presets", str(args.presets),
        "--notes", args.notes, "--notes-per-preset", "1", "--no-hpss-train",
        "--seed", str(args.seed), "--workers", str(args.workers), "--shard-size", "32"]))
    if args.epochs <= 0:
        return 0
    from asp.models.training import compose, train

    run_dir = args.out / "train-J-S"
    if (run_dir / "results.json").is_file():
        result = json.loads((run_dir / "results.json").read_text())
        print(f"training already done: {run_dir}")
    else:
        cfg = compose(["experiment=quickstart", f"data.root={args.out / 'dataset'}", f"trainer.max_epochs={args.epochs}",
                       f"run_dir={run_dir}", f"seed={args.seed}", f"logger={args.logger}",
                       f"data.num_workers={min(args.workers, 1)}"])
        result = train(cfg)
    print("\nJ-S on the test split (continuous-parameter MSE and categorical accuracy per synth):")
    for key, value in sorted(result.items()):
        if key.startswith("test/"):
            print(f"  {key[5:]:28s} {value:.4f}")
    print(f"run folder: {result['run_dir']}")

    from asp.data.targets import render_targets
    from asp.infer import InferOptions, infer
    from asp.models.inference import Predictor

    ckpt = run_dir / "checkpoints" / "best.ckpt"
    targets = render_targets(args.out / "targets", synths, Predictor(ckpt).render_settings)
    print(f"\n{len(targets)} held-back target sounds (hand-made presets in presets/) in {args.out / 'targets'}")
    from asp.search import SearchOptions

    refine = None if args.no_refine else SearchOptions(budget=args.budget)
    table = infer(args.out / "targets", ckpt, args.out / "inferred",
                  InferOptions(refine=refine, workers=args.workers))
    print_report(table, args.out / "inferred")
    print_match_summary(table)
    return 0


def print_match_summary(table: Any) -> None:
    """For targets in ``<true synth>/...`` folders: the own synth's LSD, the best synth's LSD and how often the best
    synth is the true one, one-shot and (where refined) refined."""
    ok = table[table.status == "ok"].copy()
    if not len(ok):
        return
    ok["true_synth"] = ok.file.str.split("/").str[0]
    stages = [("one-shot", "oneshot_lsd"), ("refined", "lsd")] if ok.get("oneshot_lsd") is not None and \
        ok.oneshot_lsd.notna().any() else [("one-shot", "lsd")]
    print()
    for name, col in stages:
        own = ok[ok.synth == ok.true_synth]
        best = ok.loc[ok.groupby("file")[col].idxmin()]
        print(f"{name:9s} LSD of the target's own synth: mean {own[col].mean():.2f} dB over {len(own)} files; "
              f"best-matching synth: mean {best[col].mean():.2f} dB, the true one for "
              f"{(best.synth == best.true_synth).sum()} of {len(best)}")
    if "renders" in ok and ok.renders.notna().any():
        per_file = ok.groupby("file").agg(renders=("renders", "sum"), seconds=("search_seconds", "sum"))
        print(f"refinement: {per_file.renders.mean():.0f} renders and {per_file.seconds.mean():.1f} s of search "
              f"(one core) per file")


# ---------------------------------------------------------------------- infer
def print_report(table: Any, out: Path) -> None:
    """The report table, compactly: per file and synth the metrics, then the errors."""
    import pandas as pd

    ok = table[table.status == "ok"]
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 60):
        if len(ok):
            cols = ["file", "synth", "note", "lsd", "paper_lsd", "mfccd", "pcc", "mssmae", "best"]
            if "renders" in ok and ok.renders.notna().any():
                cols = ["file", "synth", "oneshot_note", "note", "oneshot_lsd", "lsd", "mssmae", "renders",
                        "search_seconds", "best"]
            if ok.effects.notna().any():
                cols += ["mssmae_effects", "effects"]
            print(ok[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        bad = table[table.status != "ok"]
        if len(bad):
            print(f"\n{len(bad)} file(s) or synth(s) not done:")
            print(bad[["file", "synth", "status", "error"]].to_string(index=False))
    files = table.file.nunique()
    print(f"\n{files} file(s), {ok.file.nunique()} inferred; report: {out / 'report.csv'} (and .parquet)")


def add_refine_args(p: argparse.ArgumentParser) -> None:
    """The render-in-the-loop refinement options (``asp.search``) of ``asp infer`` and ``asp eval``."""
    from asp.search import METHODS, OBJECTIVES, SearchOptions

    d = SearchOptions()
    g = p.add_argument_group("refinement (render-in-the-loop search from the model's prediction)")
    g.add_argument("--refine", action="store_true", help="refine every synth's preset with the real synth in the loop")
    g.add_argument("--budget", type=int, default=d.budget, help="renders per sound, all synths together")
    g.add_argument("--budget-seconds", type=float, default=None,
                   help="also stop a sound's search after this many seconds (results then depend on the machine)")
    g.add_argument("--search-method", default=d.method, choices=list(METHODS))
    g.add_argument("--objective", default=d.objective, choices=list(OBJECTIVES))
    g.add_argument("--search-rate", type=int, default=d.search_rate, help="sample rate of the search's renders")
    g.add_argument("--search-seconds", type=float, default=d.search_seconds,
                   help="clip length of the search's renders (the finalists are re-rendered in full); 0: full length")
    g.add_argument("--samples", type=int, default=0, help="posterior draws of the model added to the starts")
    g.add_argument("--workers", type=int, default=2, help="processes searching sounds in parallel")
    g.add_argument("--search-seed", type=int, default=d.seed)
    g.add_argument("--no-halving", dest="halving", action="store_false",
                   help="split the budget evenly over the synths instead of by successive halving")


def refine_options(args: argparse.Namespace) -> Any:
    """``SearchOptions`` from :func:`add_refine_args`'s flags, or None without ``--refine``."""
    from asp.search import SearchOptions

    if not args.refine:
        return None
    return SearchOptions(budget=args.budget, seconds=args.budget_seconds, method=args.search_method,
                         objective=args.objective, search_rate=args.search_rate, seed=args.search_seed,
                         halving=args.halving, search_seconds=args.search_seconds or None)


def cmd_infer(args: argparse.Namespace) -> int:
    from asp.infer import InferOptions, infer

    synths = None if args.synth == "all" else list(_names(args.synth))
    table = infer(args.audio, args.checkpoint, args.out,
                  InferOptions(synths=synths, batch_size=args.batch_size, device=args.device, note=args.note,
                               write_audio=not args.no_audio, effects=args.effects,
                               effects_patience=args.effects_patience,
                               effects_search_classes=args.effects_search_classes, refine=refine_options(args),
                               samples=args.samples, workers=args.workers))
    print_report(table, args.out)
    return 0 if (table.status == "ok").any() or table.empty else 1


def cmd_analyze(args: argparse.Namespace) -> int:
    from asp.eval.params import analyze

    summary = analyze(args.run, args.out, dataset=args.dataset, split=args.split, limit=args.limit or None,
                      presets=args.presets, step=args.step, seed=args.seed, workers=args.workers)
    import pandas as pd

    with pd.option_context("display.width", 200):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nreport: {args.out / 'report.md'} (params.csv: every parameter; params.png)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from asp.eval.reproduce import load_config, reproduce

    out = args.out or Path("runs/reproduce-quick" if args.quick else "runs/reproduce")
    report = reproduce(out, load_config(args.config, quick=args.quick), main,
                       log=lambda m: print(m, file=sys.stderr))
    print(report.read_text())
    print(f"report: {report}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from asp.eval.pipeline import EvalOptions, evaluate, evaluate_presets

    if args.presets:
        if len(args.runs) != 1:
            raise ValueError("--presets scores one run: give exactly one run folder or checkpoint")
        md = evaluate_presets(args.runs[0], args.presets, args.out, limit=args.limit or 200, seed=args.seed,
                              cross=not args.no_cross, refine=refine_options(args), workers=args.workers)
    else:
        notes = None if args.notes == "all" else "auto" if args.notes == "auto" else _notes(args.notes)
        md = evaluate(args.runs, args.out, dataset=args.dataset, sweep=args.sweep,
                      options=EvalOptions(split=args.split, notes=notes, limit=args.limit or None,
                                          cross=not args.no_cross, baselines=not args.no_baselines, seed=args.seed,
                                          refine=refine_options(args), workers=args.workers))
    print(md.read_text())
    print(f"\nreport: {md} (tables as CSV, plots as PNG beside it)")
    return 0


# ---------------------------------------------------------------------- parser
def cmd_effects_dataset(args: argparse.Namespace) -> int:
    from asp.effects.dataset import GROUPS_DIR, EffectDataConfig, generate

    cfg = EffectDataConfig(out=args.out, groups=_names(args.groups),
                           presets_dir=args.presets_dir or GROUPS_DIR, draws=args.draws, seed=args.seed,
                           workers=args.workers, only=_names(args.splits))
    out = generate(cfg)
    card = json.loads((out / "card.json").read_text())
    import pandas as pd

    print(pd.DataFrame(card["per_split"]).T.to_string())
    print(f"{card['families']} families, {card['renders']} renders: {out}")
    return 0


def cmd_effects_train(args: argparse.Namespace) -> int:
    from asp.effects.training import train_models

    res = train_models(args.data, args.out, features=args.features, epochs=args.epochs, batch_size=args.batch_size,
                       selectors=_names(args.selectors), seed=args.seed,
                       lr=args.lr, limit=args.limit or None, intermediate=args.intermediate,
                       selector_epochs=args.selector_epochs or None, order=args.order,
                       order_metric=args.order_metric, logger=args.logger,
                       wandb_mode=args.wandb_mode, wandb_project=args.wandb_project,
                       log=lambda m: print(m, file=sys.stderr))
    import pandas as pd

    table = pd.DataFrame({k: v for k, v in res.items() if not k.startswith("_")}).T
    print(table[[c for c in ("val/loss", "val/accuracy") if c in table]].to_string())
    print(f"models: {args.out}")
    return 0


def cmd_effects_eval(args: argparse.Namespace) -> int:
    from asp.effects.evaluate import EvalConfig, evaluate

    cfg = EvalConfig(groups=_names(args.groups) or None, systems=_names(args.systems) or EvalConfig.systems,
                     pairs_per_length=args.pairs_per_length, split=args.split, metric=args.metric,
                     patience=args.patience, seed=args.seed, search_classes=args.search_classes)
    md = evaluate(args.data, args.models, args.out, cfg, log=lambda m: print(m, file=sys.stderr))
    print(md.read_text())
    print(f"\nreport: {md} (tables as CSV, plots as PNG beside it)")
    return 0


SEARCH_HELP = ("render every class of the chosen effect's categorical parameters (the distortion mode) and keep "
               "the one closest to the target (beyond SerumRNN)")


def cmd_effects_steps(args: argparse.Namespace) -> int:
    from asp.effects.steps import load_pair, run_steps, serum_pair, summary
    from asp.effects.systems import Models

    models = Models(args.models)
    rack = None
    if args.backend == "serum":
        pair, rack = serum_pair(args.input, args.target, note=args.note, max_seconds=args.max_seconds)
    elif args.note is not None:
        raise ValueError("--note sets the note a Serum patch plays; it needs --backend serum")
    else:
        pair = load_pair(args.input, args.target, max_seconds=args.max_seconds)
    for note in pair.notes():
        print(f"note: {note}", file=sys.stderr)
    res = run_steps(pair, models, args.out, system=args.system, patience=args.patience,
                    rollback=args.rollback, metric=args.metric, rack=rack, search_classes=args.search_classes)
    print(f"stopped: {res.stopped}")
    print(summary(res))
    print(f"steps, audio and spectrograms: {args.out}")
    return 0


def cmd_effects_list(args: argparse.Namespace) -> int:
    from asp.effects import specs

    for name in specs.rack_order():
        spec = specs.get(name)
        print(f"{name} ({spec.label})")
        for p in spec.params:
            what = (f"{len(p.classes)} classes: {', '.join(p.classes)}" if p.categorical else
                    " or ".join(f"[{lo:g}, {hi:g}]" for lo, hi in p.sample_ranges))
            print(f"  {p.name:<10} {what}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="asp", description="Automatic synthesizer programming.")
    sub = p.add_subparsers(dest="command", required=True)

    synths = sub.add_parser("synths", help="registered synths and their schemas").add_subparsers(
        dest="verb", required=True)
    s = synths.add_parser("list", help="every registered synth")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_synths_list)
    s = synths.add_parser("show", help="a synth's schema")
    s.add_argument("name")
    s.add_argument("--yaml", action="store_true", help="print the schema file")
    s.set_defaults(fn=cmd_synths_show)
    s = synths.add_parser("draft", help="draft a schema from a VST2/VST3 plugin or a Faust .dsp")
    s.add_argument("path")
    s.add_argument("--name", default=None)
    s.add_argument("--out", default=None, help="write the YAML here (default: print it)")
    s.set_defaults(fn=cmd_synths_draft)

    data = sub.add_parser("dataset", help="build and inspect datasets").add_subparsers(dest="verb", required=True)
    g = data.add_parser("generate", help="render a multi-synth dataset")
    g.add_argument("--synths", default="builtin", help="comma-separated names, or 'builtin' (default)")
    g.add_argument("--presets", type=int, default=100, help="random presets per synth (cap when reading files)")
    g.add_argument("--preset-files", action="append", metavar="SYNTH=PATH",
                   help="read this synth's presets from a file or folder instead of sampling (repeatable)")
    g.add_argument("--notes", default="60-71", help="MIDI notes, e.g. 60-71 or 60,64")
    g.add_argument("--notes-per-preset", type=int, default=0,
                   help="render each preset at this many notes drawn from --notes (seeded); 0: at every note")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True)
    g.add_argument("--workers", type=int, default=2,
                   help="render processes (0 = this process); with --backend ray, actors (one CPU each)")
    g.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local process pool (default) or Ray actors (pip install 'asp[cluster]'); same shards")
    g.add_argument("--address", default=None,
                   help="Ray cluster to join (auto, HOST:PORT, ray://HOST:10001); default: start a local Ray")
    g.add_argument("--shard-size", type=int, default=16, help="presets per shard")
    g.add_argument("--silence-db", type=float, default=-60.0, help="drop clips whose RMS is below this (dBFS)")
    g.add_argument("--hpss", choices=("exact", "fast"), default="exact",
                   help="harmonic share: exact (paper settings) or fast (hop 1024)")
    g.add_argument("--no-hpss-train", action="store_true",
                   help="skip the harmonic share (and the extra C4 render) of training presets: evaluation reads it "
                        "on the valid and test splits only")
    g.add_argument("--save-audio", action="store_true", help="also store the audio of every clip")
    g.add_argument("--floor-presets", type=int, default=4, help="presets per synth for the self-distance floor")
    g.add_argument("--overwrite", action="store_true", help="delete the output folder first")
    g.add_argument("--no-progress", action="store_true")
    g.set_defaults(fn=cmd_dataset_generate)
    i = data.add_parser("info", help="summary of a dataset")
    i.add_argument("path")
    i.add_argument("--json", action="store_true")
    i.set_defaults(fn=cmd_dataset_info)
    m = data.add_parser("import", help="import the published multi-task dataset layout (*.npy)")
    m.add_argument("src")
    m.add_argument("out")
    m.add_argument("--shard-size", type=int, default=4096, help="clips per shard")
    m.set_defaults(fn=cmd_dataset_import)

    t = sub.add_parser("train", help="train a model from the Hydra configs (configs/), e.g. experiment=J-S")
    t.add_argument("overrides", nargs="*", help="key=value or group=option overrides")
    t.add_argument("--print-config", action="store_true", help="print the composed config and exit")
    t.set_defaults(fn=cmd_train)
    w = sub.add_parser("sweep", help="train variant x latent size and write one results table")
    w.add_argument("overrides", nargs="*", help="overrides applied to every run")
    w.add_argument("--variants", default="J-S,J-J,S-S")
    w.add_argument("--latents", default="2,4,8,16,32,64,128,256,512")
    w.add_argument("--out", default=None, help="sweep folder (re-running it resumes: finished runs are kept)")
    w.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local: trials one after another here; ray: one Ray task per trial (pip install 'asp[cluster]')")
    w.add_argument("--address", default=None, help="Ray cluster to join (auto, HOST:PORT); default: a local Ray")
    w.add_argument("--cpus-per-trial", type=float, default=1, help="Ray resources of each trial")
    w.add_argument("--gpus-per-trial", type=float, default=0, help="Ray resources of each trial (e.g. 1 with trainer=gpu)")
    w.set_defaults(fn=cmd_sweep)

    f = sub.add_parser("infer", help="presets for every sound in a folder, for each synth, re-rendered and scored")
    f.add_argument("audio", type=Path, help="folder of sounds (wav, flac, ogg, mp3, aiff), searched recursively, or "
                                            "one file")
    f.add_argument("--checkpoint", type=Path, required=True, help="a .ckpt from asp train (e.g. RUN/checkpoints/"
                                                                   "best.ckpt)")
    f.add_argument("--out", type=Path, required=True, help="output folder (mirrors the input tree; re-runs resume)")
    f.add_argument("--synth", default="all", help="'all' (every synth of the model) or names, comma-separated")
    f.add_argument("--note", type=int, default=None, help="render at this MIDI note instead of the pitch rule's")
    f.add_argument("--batch-size", type=int, default=16)
    f.add_argument("--device", default="cpu")
    f.add_argument("--no-audio", action="store_true", help="write no input.wav / <synth>.wav")
    f.add_argument("--effects", type=Path, default=None, metavar="MODELS",
                   help="effect-stage models (asp effects train): then infer the effect steps from the best synth's "
                        "patch toward each sound")
    f.add_argument("--effects-patience", type=int, default=1, help="bad effect steps tolerated")
    f.add_argument("--effects-search-classes", action="store_true", help=f"the effect stage: {SEARCH_HELP}")
    add_refine_args(f)
    f.set_defaults(fn=cmd_infer)

    e = sub.add_parser("eval", help="the paper's tables and plots for trained models (or a sweep), against baselines")
    e.add_argument("runs", type=Path, nargs="*", help="run folders or checkpoints")
    e.add_argument("--sweep", type=Path, default=None, help="an asp sweep folder (adds the latent-size plot)")
    e.add_argument("--dataset", type=Path, default=None, help="default: the dataset of the first run")
    e.add_argument("--out", type=Path, required=True, help="report folder (re-runs reuse scored systems)")
    e.add_argument("--presets", default=None, metavar="SYNTH[=PATH]",
                   help="score hand-made presets instead of a dataset split: the synth's factory presets (amsynth's "
                        "banks) or the preset files at PATH")
    e.add_argument("--split", default="test")
    e.add_argument("--notes", default="auto",
                   help="notes of the clips to score: '60', '60,64', 'all' or 'auto' (60 where every preset was "
                        "rendered at 60, else all)")
    e.add_argument("--limit", type=int, default=0, help="clips per synth at most (0: all; 200 with --presets)")
    e.add_argument("--no-cross", action="store_true", help="skip the cross-synth renders")
    e.add_argument("--no-baselines", action="store_true")
    e.add_argument("--seed", type=int, default=0)
    add_refine_args(e)
    e.set_defaults(fn=cmd_eval)

    a = sub.add_parser("analyze", help="per-parameter analysis of a model: its error against the mean preset's, and "
                                       "each parameter's audible sensitivity")
    a.add_argument("run", type=Path, help="a run folder or checkpoint")
    a.add_argument("--out", type=Path, required=True, help="report folder")
    a.add_argument("--dataset", type=Path, default=None, help="default: the run's dataset")
    a.add_argument("--split", default="test")
    a.add_argument("--limit", type=int, default=0, help="clips per synth at most (0: all)")
    a.add_argument("--presets", type=int, default=16, help="random presets per synth for the sensitivity probe")
    a.add_argument("--step", type=float, default=0.1, help="the probe's move of a continuous parameter")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--workers", type=int, default=2)
    a.set_defaults(fn=cmd_analyze)

    r = sub.add_parser("reproduce", help="the multi-task ASP paper's comparisons (S-S/J-S/J-J, ANOVA, latent sizes, "
                                         "timbre groups) with verdicts against the published findings")
    r.add_argument("--out", type=Path, default=None,
                   help="folder (a re-run resumes; default runs/reproduce, or runs/reproduce-quick)")
    r.add_argument("--config", type=Path, default=None, help="default: configs/reproduce/full.yaml")
    r.add_argument("--quick", action="store_true", help="configs/reproduce/quick.yaml: the pipeline in minutes")
    r.set_defaults(fn=cmd_reproduce)

    fx = sub.add_parser("effects", help="the effect stage (SerumRNN): data, models, steps").add_subparsers(
        dest="verb", required=True)
    d = fx.add_parser("dataset", help="render the preset groups through all 32 effect subsets")
    d.add_argument("--out", type=Path, required=True)
    from asp.effects.specs import PRESET_GROUPS

    d.add_argument("--groups", default=",".join(PRESET_GROUPS), help="preset groups (folders of preset JSON files)")
    d.add_argument("--presets-dir", type=Path, default=None, help="where the groups live (default: presets/effects)")
    d.add_argument("--draws", type=int, default=8, help="random effect settings per preset")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--workers", type=int, default=2, help="render processes (0 = this process)")
    d.add_argument("--splits", default="train,valid,test",
                   help="render these splits only (e.g. test with more --draws: a larger test set, same presets)")
    d.set_defaults(fn=cmd_effects_dataset)
    d = fx.add_parser("train", help="train the parameter models and the effect selectors")
    d.add_argument("--data", type=Path, required=True, help="an effect dataset (asp effects dataset)")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--features", default="mel", choices=("mel", "mfcc"))
    d.add_argument("--epochs", type=int, default=10)
    d.add_argument("--selector-epochs", type=int, default=0, help="the selectors' epochs (0: --epochs)")
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--selectors", default="rnn,rnn_ni,cnn,cnn_1s", help="selector variants to train")
    d.add_argument("--intermediate", default="both", choices=("true", "model", "both"),
                   help="selectors' steps on true intermediate audio, on the parameter models' own, or both")
    d.add_argument("--limit", type=int, default=0, help="at most this many examples per split and model (0: all)")
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--order", default="any", choices=("any", "greedy"),
                   help="selectors' label: any missing effect (the paper) or the one that helps most first")
    d.add_argument("--order-metric", default="mssmae", help="the metric of --order greedy")
    d.add_argument("--logger", default="wandb", choices=LOGGERS,
                   help="wandb (offline by default; a run per model, beside metrics.csv) or csv only")
    d.add_argument("--wandb-mode", default="offline", choices=WANDB_MODES)
    d.add_argument("--wandb-project", default="asp")
    d.set_defaults(fn=cmd_effects_train)
    d = fx.add_parser("eval", help="the paper's tables per preset group: every system on test pairs")
    d.add_argument("--data", type=Path, required=True)
    d.add_argument("--models", type=Path, required=True, help="a folder written by asp effects train")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--groups", default="", help="preset groups (default: all in the dataset)")
    d.add_argument("--systems", default="", help="comma list of systems (default: all; asp.effects.systems)")
    d.add_argument("--pairs-per-length", type=int, default=200, help="pairs per chain length 1-5 (the paper: 200)")
    d.add_argument("--split", default="test", choices=("train", "valid", "test"))
    d.add_argument("--metric", default="mssmae", help="the stopping rule's metric")
    d.add_argument("--patience", type=int, default=1, help="bad steps tolerated by the main tables' rule")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--search-classes", action="store_true", help=SEARCH_HELP)
    d.set_defaults(fn=cmd_effects_eval)
    d = fx.add_parser("steps", help="move INPUT toward TARGET one effect at a time")
    d.add_argument("input", type=Path, help="audio (built-in rack) or a Serum JSON preset (--backend serum)")
    d.add_argument("target", type=Path)
    d.add_argument("--models", type=Path, required=True, help="a folder written by asp effects train")
    d.add_argument("--out", type=Path, required=True, help="folder for the steps' audio, PNGs and steps.json")
    d.add_argument("--system", default="serumrnn", help="serumrnn, serumrnn_ni, serumcnn, serumcnn_1s or random")
    d.add_argument("--patience", type=int, default=1, help="bad steps tolerated before stopping")
    d.add_argument("--rollback", action="store_true", help="end on the best step instead of the last kept one")
    d.add_argument("--metric", default="mssmae", help="the stopping rule's metric")
    d.add_argument("--max-seconds", type=float, default=5.0, help="use at most this much of the target")
    d.add_argument("--backend", choices=("faust", "serum"), default="faust",
                   help="faust: the built-in rack after INPUT's audio; serum: Serum's own FX on the patch INPUT "
                        "(needs the plugin)")
    d.add_argument("--search-classes", action="store_true", help=SEARCH_HELP)
    d.add_argument("--note", type=int, default=None,
                   help="--backend serum: the MIDI note the patch plays (default: the effect datasets' note, 48)")
    d.set_defaults(fn=cmd_effects_steps)
    d = fx.add_parser("list", help="the effects, their parameters and sampling ranges, in rack order")
    d.set_defaults(fn=cmd_effects_list)

    q = sub.add_parser("quickstart", help="the main job on the built-in default")
    q.add_argument("--out", type=Path, default=QUICKSTART_OUT)
    q.add_argument("--presets", type=int, default=2000, help="random presets per synth, one note each")
    q.add_argument("--notes", default="36-84", help="the notes a preset's one note is drawn from (C2-C6)")
    q.add_argument("--workers", type=int, default=2)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--epochs", type=int, default=8, help="J-S training epochs (0: dataset only)")
    q.add_argument("--logger", default="wandb", choices=LOGGERS, help="wandb runs offline by default")
    q.add_argument("--budget", type=int, default=450, help="refinement: renders per target sound, all synths")
    q.add_argument("--no-refine", action="store_true", help="one-shot predictions only")
    q.set_defaults(fn=cmd_quickstart)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from asp.render.ray_pool import MissingExtra

    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError, MissingExtra) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

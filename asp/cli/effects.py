"""``asp effects``: the effect stage's data, models, evaluation and steps (``asp.effects``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from asp.cli.common import LOGGERS, SEARCH_HELP, WANDB_MODES, _names, add_config_arg

MEASURES = ("lufs", "lufs_peak", "t60")  # asp.eval.steer.MEASURES, named here so that --help needs no torch (tested)
EXPLORED = "explored"  # asp effects steer --explore: the chosen draw's model folder inside OUT


def cmd_effects_list(args: argparse.Namespace) -> int:
    from asp.synths import effect_specs as specs

    for name in specs.rack_order():
        spec = specs.get(name)
        print(f"{name} ({spec.label})")
        for p in spec.params:
            what = (
                f"{len(p.classes)} classes: {', '.join(p.classes)}"
                if p.categorical
                else " or ".join(f"[{lo:g}, {hi:g}]" for lo, hi in p.sample_ranges)
            )
            print(f"  {p.name:<10} {what}")
    return 0


def steered_effects(text: str) -> tuple[Any, ...]:
    """``--steered NAME=FOLDER,...``: trained steered effects (``asp effects steer``) as extra effects of the rack."""
    if not text.strip():
        return ()
    from asp.effects.steer import rack_spec

    out = []
    for item in _names(text):
        name, sep, folder = item.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise ValueError(f"--steered: {item!r} is not NAME=FOLDER (a folder written by asp effects steer)")
        out.append(rack_spec(name.strip(), folder.strip()))
    return tuple(out)


def cmd_effects_dataset(args: argparse.Namespace) -> int:
    from asp.data.effects import GROUPS, GROUPS_DIR, VITAL_GROUP, EffectDataConfig, generate
    from asp.synths import registry

    vital = args.backend == "vital"
    cfg = EffectDataConfig(
        out=args.out,
        groups=_names(args.groups) or ((VITAL_GROUP,) if vital else GROUPS),
        presets_dir=args.presets_dir or (registry.PRESETS_DIR if vital else GROUPS_DIR),
        backend=args.backend,
        draws=args.draws,
        seed=args.seed,
        workers=args.workers,
        only=_names(args.splits),
        extra=steered_effects(args.steered),
    )
    out = generate(cfg)
    card = json.loads((out / "card.json").read_text())
    import pandas as pd

    print(pd.DataFrame(card["per_split"]).T.to_string())
    print(f"{card['families']} families, {card['renders']} renders: {out}")
    return 0


def cmd_effects_train(args: argparse.Namespace) -> int:
    from asp.effects.training import train_models

    res = train_models(
        args.data,
        args.out,
        features=args.features,
        epochs=args.epochs,
        batch_size=args.batch_size,
        selectors=_names(args.selectors),
        seed=args.seed,
        lr=args.lr,
        limit=args.limit or None,
        intermediate=args.intermediate,
        selector_epochs=args.selector_epochs or None,
        order=args.order,
        order_metric=args.order_metric,
        logger=args.logger,
        wandb_mode=args.wandb_mode,
        wandb_project=args.wandb_project,
        log=lambda m: print(m, file=sys.stderr),
    )
    import pandas as pd

    table = pd.DataFrame({k: v for k, v in res.items() if not k.startswith("_")}).T
    print(table[[c for c in ("val/loss", "val/accuracy") if c in table]].to_string())
    print(f"models: {args.out}")
    return 0


def cmd_effects_eval(args: argparse.Namespace) -> int:
    from asp.eval.effects import EvalConfig, evaluate

    cfg = EvalConfig(
        groups=_names(args.groups) or None,
        systems=_names(args.systems) or EvalConfig.systems,
        pairs_per_length=args.pairs_per_length,
        split=args.split,
        metric=args.metric,
        patience=args.patience,
        seed=args.seed,
        search_classes=args.search_classes,
    )
    md = evaluate(args.data, args.models, args.out, cfg, log=lambda m: print(m, file=sys.stderr))
    print(md.read_text())
    print(f"\nreport: {md} (tables as CSV, plots as PNG beside it)")
    return 0


def cmd_effects_steps(args: argparse.Namespace) -> int:
    from asp.effects.steps import load_pair, patch_pair, run_steps, summary
    from asp.effects.systems import Models

    models = Models(args.models)
    rack = None
    if args.backend != "faust":
        pair, rack = patch_pair(
            args.input, args.target, note=args.note, max_seconds=args.max_seconds, backend=args.backend
        )
    elif args.note is not None:
        raise ValueError("--note sets the note a patch plays; it needs --backend serum or vital")
    else:
        pair = load_pair(args.input, args.target, max_seconds=args.max_seconds)
    for note in pair.notes():
        print(f"note: {note}", file=sys.stderr)
    res = run_steps(
        pair,
        models,
        args.out,
        system=args.system,
        patience=args.patience,
        rollback=args.rollback,
        metric=args.metric,
        rack=rack,
        search_classes=args.search_classes,
    )
    print(f"stopped: {res.stopped}")
    print(summary(res))
    print(f"steps, audio and spectrograms: {args.out}")
    return 0


def cmd_effects_pair(args: argparse.Namespace) -> int:
    from asp.effects.pairs import make_pair

    setting = {}
    for item in _names(args.setting):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--setting: {item!r} is not NAME=VALUE")
        setting[name.strip()] = float(value)
    card = make_pair(args.out, args.effect, setting, seconds=args.seconds, seed=args.seed)
    print(json.dumps(card, indent=2))
    print(f"dry.wav, wet.wav, ir.wav: {args.out}")
    return 0


def cmd_effects_steer(args: argparse.Namespace) -> int:
    from asp.effects.steer import SteeredEffect, SteerOptions, load_pair, train_steerable, with_options

    opts = with_options(
        SteerOptions(),
        sample_rate=args.rate,
        steps=args.steps,
        batch_size=args.batch_size,
        crop_seconds=args.crop_seconds,
        lr=args.lr,
        seed=args.seed,
        max_seconds=args.max_seconds,
        layers=args.layers,
        kernel=args.kernel,
        dilation_growth=args.growth,
        channels=args.channels,
        cond_layers=args.cond_layers,
    )
    dry, wet = load_pair(args.dry, args.wet, opts.sample_rate, opts.max_seconds)
    print(
        f"receptive field {opts.tcn.receptive_field / opts.sample_rate:.2f} s; "
        f"pair {len(dry) / opts.sample_rate:.1f} s at {opts.sample_rate} Hz",
        file=sys.stderr,
    )
    card = train_steerable(dry, wet, args.out, opts, source={"dry": str(args.dry), "wet": str(args.wet)})
    print(f"loss: first 25 steps {card['loss_first_25']:.3f}, last 25 {card['loss_last_25']:.3f}")
    effect = SteeredEffect(args.out)
    _analyse(args, effect, dry, wet)
    if args.explore is not None:
        print(f"exploring other directions for the controls ({args.explore_draws} draws, {args.explore}):")
        _explore(args, effect, dry, wet, args.out / EXPLORED, args.explore, args.explore_draws)
    return 0


def _analyse(args: argparse.Namespace, effect: Any, dry: Any, wet: Any) -> None:
    """The control-grid analyses of ``effect`` (the model in ``args.out``), for ``asp effects steer`` and
    ``analyze``."""
    from asp.eval.steer import SPANS, GridOptions, span_folder, write_analysis

    reference = None
    if args.reference_ir is not None:
        import soxr

        from asp.effects.steer import read_whole

        ir, rate = read_whole(args.reference_ir)
        reference = soxr.resample(ir, rate, effect.sample_rate) if rate != effect.sample_rate else ir
    try:
        spans = [float(v) for v in _names(str(args.grid_span))] if args.grid_span is not None else list(SPANS)
    except ValueError:
        raise ValueError(f"--grid-span: {args.grid_span!r} is not a comma-separated list of numbers") from None
    for span in spans:
        given = {"span": span, "points": args.grid_points}
        grid = GridOptions(**{k: v for k, v in given.items() if v is not None})  # unset: GridOptions' defaults
        summary = write_analysis(effect, dry, wet, span_folder(args.out / "analysis", span), grid, reference)
        print(f"controls over [-{span:g}, {span:g}]:")
        for what, unit in (("lufs", "LUFS"), ("lufs_peak", "LUFS at equal peak"), ("t60", "s")):
            m = summary[what]
            c1, c2 = m["control_1"], m["control_2"]
            print(
                f"  {what}: {m['min']:.2f} to {m['max']:.2f} {unit}; Spearman along control 1 {c1['spearman']:+.2f}"
                f" ({c1['monotone_share']:.0%} of lines monotone), control 2 {c2['spearman']:+.2f}"
                f" ({c2['monotone_share']:.0%})"
            )
    print(f"analysis (analysis/span_S/: lufs_grid.png, lufs_peak_grid.png, t60_grid.png, grid.csv): {args.out}")


def cmd_effects_analyze(args: argparse.Namespace) -> int:
    """The analyses again, on a model ``asp effects steer`` trained (other spans or points; no training)."""
    from asp.effects.steer import SteeredEffect

    effect = SteeredEffect(args.out)
    dry, wet = _trained_pair(effect, args)
    _analyse(args, effect, dry, wet)
    return 0


def _trained_pair(effect: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """The pair ``effect`` was trained on (or ``--dry`` / ``--wet``), at its rate."""
    from asp.effects.steer import load_pair

    source = effect.card.get("source", {})
    files = [args.dry or source.get("dry"), args.wet or source.get("wet")]
    if None in files:
        raise ValueError(f"{effect.folder}: its card names no dry/wet pair; give --dry and --wet")
    for f in files:  # the card's paths are as given to asp effects steer, perhaps relative to another folder
        if not Path(f).is_file():
            raise FileNotFoundError(
                f"{f}: no such file (the pair {effect.folder} was trained on); give --dry and --wet"
            )
    return load_pair(files[0], files[1], effect.sample_rate, effect.options.max_seconds)


def cmd_effects_explore(args: argparse.Namespace) -> int:
    """Other directions for a steered effect's controls, measured, the most ordered saved as a new model."""
    from asp.effects.steer import SteeredEffect

    effect = SteeredEffect(args.model)
    dry, wet = _trained_pair(effect, args)
    _explore(args, effect, dry, wet, args.out, args.measure, args.draws, args.draw, args.probe_span, args.probe_points)
    return 0


def _explore(
    args: argparse.Namespace,
    effect: Any,
    dry: Any,
    wet: Any,
    out: Path,
    measure: str,
    draws: int,
    draw: int | None = None,
    probe_span: float | None = None,
    probe_points: int | None = None,
) -> None:
    """Each draw of ``effect``'s control directions measured on the probe grid (or only ``draw``), the most ordered
    saved in ``out`` with its analyses; for ``asp effects explore`` and ``asp effects steer --explore``."""
    from asp.atomic import atomic_write_bytes
    from asp.effects.steer import SteeredEffect, save_redrawn
    from asp.eval.steer import ExploreOptions, best_draw, explore_controls

    grid = ExploreOptions().grid  # the probe's defaults where unset
    if probe_span is not None:
        grid = dataclasses.replace(grid, span=probe_span)
    if probe_points is not None:
        grid = dataclasses.replace(grid, points=probe_points)
    opts = ExploreOptions(draws=draws, measure=measure, grid=grid)
    if draw is None:
        rows = explore_controls(effect, dry, opts)
        for r in rows:
            print(
                f"draw {r['draw']:3d}: {measure} along {r['axis']}: consistency {r['score']:.2f}, Spearman "
                f"{r['spearman']:+.2f}, {r['monotone_share']:.0%} of lines monotone, range {r['range']:.2f}"
            )
        chosen = best_draw(rows)
        ordered = sum(r["monotone_share"] == 1.0 for r in rows)
        print(f"{ordered} of {len(rows)} draws monotone on every line of the probe grid; chosen: draw {chosen['draw']}")
        note = {"measure": measure, "probe": chosen, "draws": len(rows), "draws_monotone": ordered}
    else:
        rows, chosen, note = [], {"draw": draw}, {}
    saved = save_redrawn(effect, out, int(chosen["draw"]), note)
    if rows:
        header = ",".join(rows[0])
        cell = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)
        text = header + "\n" + "".join(",".join(cell(r[k]) for k in rows[0]) + "\n" for r in rows)
        atomic_write_bytes(saved / "explore.csv", text.encode())
    _analyse(argparse.Namespace(**{**vars(args), "out": saved}), SteeredEffect(saved), dry, wet)


def cmd_effects_apply(args: argparse.Namespace) -> int:
    from asp.effects.steer import SteeredEffect, apply_folder

    effect = SteeredEffect(args.model)
    controls = [float(v) for v in _names(args.controls)] if args.controls else [0.0] * effect.n_controls
    rows = apply_folder(effect, args.input, args.out, controls)
    bad = [r for r in rows if r["status"] == "error"]
    for r in bad:
        print(f"error: {r['error']}", file=sys.stderr)
    print(f"{len(rows) - len(bad)} of {len(rows)} files through the effect at controls {controls}: {args.out}")
    return 1 if bad else 0


def _pair_args(d: argparse.ArgumentParser) -> None:
    """--dry / --wet: another pair than the one a steered effect was trained on (``_trained_pair``)."""
    d.add_argument("--dry", type=Path, default=None, help="the dry input (default: the one it was trained on)")
    d.add_argument("--wet", type=Path, default=None, help="the target (default: the one it was trained on)")


def _grid_args(d: argparse.ArgumentParser) -> None:
    d.add_argument("--reference-ir", type=Path, default=None, help="the effect's impulse response (its T60 shown)")
    d.add_argument(
        "--grid-span",
        default=None,
        help="the grids span [-SPAN, SPAN] per control; one or more, comma-separated (default 1,5: near the trained "
        "setting and far from it), each written to analysis/span_SPAN/",
    )
    d.add_argument("--grid-points", type=int, default=None, help="grid values per control (default 7)")


def add_parsers(sub: Any) -> None:
    """The ``asp effects`` command line(s)."""
    fx = sub.add_parser(
        "effects", help="the effect stage (SerumRNN): data, models, steps; steerable neural effects"
    ).add_subparsers(dest="verb", required=True)
    d = fx.add_parser("dataset", help="render the preset groups through every effect subset (32 of the five)")
    d.add_argument("--out", type=Path, required=True)
    from asp.synths.effect_specs import PRESET_GROUPS

    d.add_argument(
        "--groups",
        default="",
        help=f"preset groups (folders of preset JSON files; default: {','.join(PRESET_GROUPS)}, or with --backend "
        "vital the hand-made Vital patches, presets/vital)",
    )
    d.add_argument(
        "--presets-dir",
        type=Path,
        default=None,
        help="where the groups live (default: presets/effects; presets with --backend vital)",
    )
    d.add_argument(
        "--backend",
        choices=("faust", "vital"),
        default="faust",
        help="faust: each preset's render through the built-in rack; vital: Vital patches through Vital's own "
        "effects (pip install 'asp[vital]')",
    )
    d.add_argument("--draws", type=int, default=8, help="random effect settings per preset")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--workers", type=int, default=2, help="render processes (0 = this process)")
    d.add_argument(
        "--splits",
        default="train,valid,test",
        help="render these splits only (e.g. test with more --draws: a larger test set, same presets)",
    )
    d.add_argument(
        "--steered",
        default="",
        metavar="NAME=FOLDER,...",
        help="steered effects (asp effects steer) joining the rack after the five, their controls as parameters",
    )
    add_config_arg(d, "configs/effects/dataset.yaml")
    d.set_defaults(fn=cmd_effects_dataset)
    d = fx.add_parser("train", help="train the parameter models and the effect selectors")
    d.add_argument("--data", type=Path, required=True, help="an effect dataset (asp effects dataset)")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--features", default="mel", choices=("mel", "mfcc"))
    d.add_argument("--epochs", type=int, default=10)
    d.add_argument("--selector-epochs", type=int, default=0, help="the selectors' epochs (0: --epochs)")
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--selectors", default="rnn,rnn_ni,cnn,cnn_1s", help="selector variants to train")
    d.add_argument(
        "--intermediate",
        default="both",
        choices=("true", "model", "both"),
        help="selectors' steps on true intermediate audio, on the parameter models' own, or both",
    )
    d.add_argument("--limit", type=int, default=0, help="at most this many examples per split and model (0: all)")
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument(
        "--order",
        default="any",
        choices=("any", "greedy"),
        help="selectors' label: any missing effect (the paper) or the one that helps most first",
    )
    d.add_argument("--order-metric", default="mssmae", help="the metric of --order greedy")
    d.add_argument(
        "--logger",
        default="wandb",
        choices=LOGGERS,
        help="wandb (offline by default; a run per model, beside metrics.csv) or csv only",
    )
    d.add_argument("--wandb-mode", default="offline", choices=WANDB_MODES)
    d.add_argument("--wandb-project", default="asp")
    add_config_arg(d, "configs/effects/train.yaml")
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
    add_config_arg(d, "configs/effects/eval.yaml")
    d.set_defaults(fn=cmd_effects_eval)
    d = fx.add_parser("steps", help="move INPUT toward TARGET one effect at a time")
    d.add_argument(
        "input", type=Path, help="audio (built-in rack) or a Serum or Vital JSON preset (--backend serum|vital)"
    )
    d.add_argument("target", type=Path)
    d.add_argument("--models", type=Path, required=True, help="a folder written by asp effects train")
    d.add_argument("--out", type=Path, required=True, help="folder for the steps' audio, PNGs and steps.json")
    d.add_argument("--system", default="serumrnn", help="serumrnn, serumrnn_ni, serumcnn, serumcnn_1s or random")
    d.add_argument("--patience", type=int, default=1, help="bad steps tolerated before stopping")
    d.add_argument("--rollback", action="store_true", help="end on the best step instead of the last kept one")
    d.add_argument("--metric", default="mssmae", help="the stopping rule's metric")
    d.add_argument("--max-seconds", type=float, default=5.0, help="use at most this much of the target")
    d.add_argument(
        "--backend",
        choices=("faust", "serum", "vital"),
        default="faust",
        help="faust: the built-in rack after INPUT's audio; serum, vital: the synth's own effects on the patch "
        "INPUT (Serum needs the plugin; Vital pip install 'asp[vital]')",
    )
    d.add_argument("--search-classes", action="store_true", help=SEARCH_HELP)
    d.add_argument(
        "--note",
        type=int,
        default=None,
        help="--backend serum|vital: the MIDI note the patch plays (default: the effect datasets' note, 48)",
    )
    add_config_arg(d, "configs/effects/steps.yaml")
    d.set_defaults(fn=cmd_effects_steps)
    d = fx.add_parser("pair", help="a dry/wet pair for asp effects steer: built-in synth notes through one effect")
    d.add_argument("--effect", required=True, help="an effect of the built-in rack (asp effects list)")
    d.add_argument("--setting", default="", help="NAME=VALUE,... of the effect (default: strong settings)")
    d.add_argument("--seconds", type=float, default=12.0)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--out", type=Path, required=True, help="folder for dry.wav, wet.wav, ir.wav, pair.json")
    d.set_defaults(fn=cmd_effects_pair)
    d = fx.add_parser("steer", help="learn a steerable neural effect (FiLM TCN) from one dry/wet pair")
    d.add_argument("dry", type=Path)
    d.add_argument("wet", type=Path, help="the same recording through the effect, aligned with DRY")
    d.add_argument("--out", type=Path, required=True, help="model folder (resumes a killed run)")
    d.add_argument("--steps", type=int, default=1500)
    d.add_argument("--rate", type=int, default=22050, help="the model's sample rate")
    d.add_argument("--batch-size", type=int, default=4)
    d.add_argument("--crop-seconds", type=float, default=0.5, help="the length of a training crop")
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--max-seconds", type=float, default=30.0, help="use at most this much of the pair")
    d.add_argument("--layers", type=int, default=4)
    d.add_argument("--kernel", type=int, default=13)
    d.add_argument("--growth", type=int, default=10, help="dilation growth per layer")
    d.add_argument("--channels", type=int, default=16)
    d.add_argument(
        "--cond-layers",
        type=int,
        default=1,
        help="hidden layers between the controls and the FiLM layers (0: the controls feed them directly, the paper's)",
    )
    d.add_argument(
        "--explore",
        default=None,
        choices=MEASURES,
        help="then draw other directions for the controls and keep the one that orders this measure best, in "
        f"OUT/{EXPLORED}/ (as asp effects explore)",
    )
    d.add_argument("--explore-draws", type=int, default=16, help="--explore: control directions to try")
    _grid_args(d)
    add_config_arg(d, "configs/effects/steer_compressor.yaml")
    d.set_defaults(fn=cmd_effects_steer)
    d = fx.add_parser("analyze", help="the control-grid analyses of a steered effect again (other spans; no training)")
    d.add_argument("out", type=Path, help="a folder written by asp effects steer (analysis/span_SPAN/ written there)")
    _pair_args(d)
    _grid_args(d)
    d.set_defaults(fn=cmd_effects_analyze)
    d = fx.add_parser(
        "explore",
        help="other directions for a steered effect's controls (no training): each draw measured, the most ordered "
        "saved as a new model with its analyses",
    )
    d.add_argument("model", type=Path, help="a folder written by asp effects steer (left as it is)")
    d.add_argument("--out", type=Path, required=True, help="folder for the new model (explore.csv, analysis/)")
    d.add_argument("--draws", type=int, default=16, help="control directions to try (draw 0: the model's own)")
    d.add_argument(
        "--measure",
        default="lufs",
        choices=MEASURES,
        help="what should move in order along a control (lufs for a compressor, t60 for a reverb)",
    )
    d.add_argument("--probe-span", type=float, default=1.0, help="the probe grid spans [-SPAN, SPAN] per control")
    d.add_argument("--probe-points", type=int, default=6, help="the probe grid's values per control")
    d.add_argument("--draw", type=int, default=None, help="save this draw without measuring the others")
    _pair_args(d)
    _grid_args(d)
    d.set_defaults(fn=cmd_effects_explore)
    d = fx.add_parser("apply", help="audio through a steered effect (asp effects steer) at given controls")
    d.add_argument("model", type=Path, help="a folder written by asp effects steer")
    d.add_argument("input", type=Path, help="an audio file or a folder of them")
    d.add_argument("--controls", default="", help="comma-separated control values (default: all 0)")
    d.add_argument("--out", type=Path, required=True, help="output folder (the input tree mirrored, float WAV)")
    d.set_defaults(fn=cmd_effects_apply)
    d = fx.add_parser("list", help="the effects, their parameters and sampling ranges, in rack order")
    d.set_defaults(fn=cmd_effects_list)

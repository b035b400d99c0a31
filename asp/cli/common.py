"""What the command groups share: argument parsers of lists and notes, the report printer, the refinement flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asp.synths import registry
from asp.tracking import LOGGERS, WANDB_MODES

__all__ = ["LOGGERS", "QUICKSTART_OUT", "SEARCH_HELP", "WANDB_MODES"]

QUICKSTART_OUT = Path("runs/quickstart")
SEARCH_HELP = (
    "render every class of the chosen effect's categorical parameters (the distortion mode) and keep "
    "the one closest to the target (beyond SerumRNN)"
)


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
    """Comma-separated synth names; ``builtin`` stands for the built-in synths (``builtin,dexed``: those and Dexed)."""
    expanded = (m for n in _names(text) for m in (registry.builtin_names() if n == "builtin" else (n,)))
    names = tuple(dict.fromkeys(expanded))
    for n in names:
        registry.get(n)  # KeyError listing the valid names
    return names


def print_report(table: Any, out: Path) -> None:
    """The report table, compactly: per file and synth the metrics, then the errors."""
    import pandas as pd

    ok = table[table.status == "ok"]
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 60):
        if len(ok):
            cols = ["file", "synth", "note", "lsd", "audible_lsd", "paper_lsd", "mfccd", "pcc", "mssmae", "best"]
            if "renders" in ok and ok.renders.notna().any():
                cols = [
                    "file",
                    "synth",
                    "oneshot_note",
                    "note",
                    "oneshot_lsd",
                    "lsd",
                    "band_lsd",
                    "audible_lsd",
                    "mssmae",
                    "renders",
                    "search_seconds",
                    "best",
                ]
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
    g.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        help="also stop a sound's search after this many seconds (results then depend on the machine)",
    )
    g.add_argument("--search-method", default=d.method, choices=list(METHODS))
    g.add_argument("--objective", default=d.objective, choices=list(OBJECTIVES))
    g.add_argument("--search-rate", type=int, default=d.search_rate, help="sample rate of the search's renders")
    g.add_argument(
        "--search-seconds",
        type=float,
        default=d.search_seconds,
        help="clip length of the search's renders (the finalists are re-rendered in full); 0: full length",
    )
    g.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="take a child that beats the best on the shortened search render without checking it at full length",
    )
    g.add_argument("--samples", type=int, default=0, help="posterior draws of the model added to the starts")
    g.add_argument("--workers", type=int, default=2, help="processes searching sounds in parallel")
    g.add_argument("--search-seed", type=int, default=d.seed)
    g.add_argument(
        "--no-halving",
        dest="halving",
        action="store_false",
        help="split the budget evenly over the synths instead of by successive halving",
    )
    g.add_argument(
        "--default-pull",
        type=float,
        default=d.default_pull,
        help="chance that a parameter the search mutates goes back to the synth's default value instead (0: never)",
    )
    g.add_argument(
        "--round-pull",
        type=float,
        default=d.round_pull,
        help="chance that a step of a continuous parameter lands on a round value (one or two significant figures "
        "in its natural units; 0: never)",
    )
    g.add_argument(
        "--octave-twins",
        action="store_true",
        help="also try the best start an octave up and down with its oscillators moved the other way (the same "
        "pitch from another patch)",
    )
    g.add_argument(
        "--polish",
        default=d.polish,
        choices=[*METHODS, "none"],
        help="the method that searches each synth's last round of the halving (default gn: Levenberg-Marquardt on "
        "the continuous parameters, asp.search.methods.GaussNewton; none: --search-method throughout)",
    )
    g.add_argument(
        "--whole-band",
        dest="file_band",
        action="store_false",
        help="compare spectra over the whole band, also above what a lower-rate or lossy file carries (a lossy "
        "codec's low-pass, asp.features.band)",
    )
    g.add_argument(
        "--proxy",
        action="append",
        metavar="SYNTH=FOLDER",
        help="a neural proxy (asp proxy train) screening SYNTH's search (repeatable; needs --refine)",
    )
    g.add_argument("--proxy-factor", type=int, default=4, help="children the proxy screens per rendered child")
    g.add_argument(
        "--neighbours",
        type=int,
        default=0,
        help="the search also starts from the K training presets whose sounds the model's encoder puts nearest "
        "each sound (per synth; needs --refine and the run's dataset)",
    )


def proxies_arg(items: list[str] | None) -> dict[str, Path] | None:
    """``--proxy SYNTH=FOLDER`` flags -> synth -> folder (None without any)."""
    out = {}
    for item in items or []:
        synth, sep, folder = item.partition("=")
        if not sep or not synth or not folder:
            raise ValueError(f"--proxy {item!r}: expected SYNTH=FOLDER (a folder written by asp proxy train)")
        out[synth.strip()] = Path(folder)
    return out or None


def refine_options(args: argparse.Namespace) -> Any:
    """``SearchOptions`` from :func:`add_refine_args`'s flags, or None without ``--refine``."""
    from asp.search import SearchOptions

    if not args.refine:
        return None
    return SearchOptions(
        budget=args.budget,
        seconds=args.budget_seconds,
        method=args.search_method,
        objective=args.objective,
        search_rate=args.search_rate,
        seed=args.search_seed,
        halving=args.halving,
        search_seconds=args.search_seconds or None,
        verify=args.verify,
        default_pull=args.default_pull,
        round_pull=args.round_pull,
        file_band=args.file_band,
        octave_twins=args.octave_twins,
        polish=None if args.polish == "none" else args.polish,
    )


def add_config_arg(p: argparse.ArgumentParser, example: str) -> None:
    """``--config FILE``: the command's settings from a YAML file (keys are its flags, dashes or underscores);
    flags given on the command line win over the file, the file over the built-in defaults."""
    p.add_argument(
        "--config",
        dest="settings_file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"settings from a YAML file (keys: this command's flags; given flags win), e.g. {example}",
    )
    p.set_defaults(settings_parser=p)


def read_settings(path: Path, p: argparse.ArgumentParser) -> dict[str, Any]:
    """A ``--config`` file's settings as ``p``'s defaults, each converted as its flag would convert it.

    Raises:
        FileNotFoundError, ValueError: naming the file and, for an unknown key, the valid ones.
    """
    import yaml

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such settings file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: settings must be a mapping of flag names to values")
    flags = {a.dest: a for a in p._actions if a.option_strings and a.dest not in ("help", "settings_file")}
    out: dict[str, Any] = {}
    for key, value in data.items():
        dest = str(key).lstrip("-").replace("-", "_")
        if dest not in flags:
            valid = ", ".join(sorted(d.replace("_", "-") for d in flags))
            raise ValueError(f"{path}: unknown setting {key!r}; valid: {valid}")
        action = flags[dest]
        if isinstance(value, list):
            value = ",".join(map(str, value))
        if isinstance(value, str) and callable(action.type):
            value = action.type(value)
        if action.choices is not None and value not in action.choices:
            raise ValueError(f"{path}: {key}: {value!r} is not one of {', '.join(map(str, action.choices))}")
        out[dest] = value
    return out

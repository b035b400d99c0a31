"""``report.html``: a batch inference a person can listen to.

Per file: audio players for the target and, per synth, the one-shot and the refined match; their mel spectrograms
side by side; the distances, notes and search cost. One self-contained file (audio as Ogg Vorbis and pictures as
PNG, embedded), so it opens from disk and survives being mailed. A status line at the end counts the players the
browser could load (the browser test reads it).
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asp.atomic import atomic_write_bytes
from asp.features.lib import load_librosa
from asp.plotting import png_bytes, pyplot

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}td.l{text-align:left}
audio{height:32px;width:260px}.best{background:#e8f6e8}section{border-top:2px solid #888;margin-top:1.5em}
img{max-width:100%}"""
SCRIPT = """(function(){var a=document.querySelectorAll('audio'),ok=0,bad=0,s=document.getElementById('audio-status');
function show(){s.textContent=ok+' of '+a.length+' players ready, '+bad+' failed';}
a.forEach(function(x){if(x.readyState>=1){ok++;}else{x.addEventListener('loadedmetadata',function(){ok++;show();});
x.addEventListener('error',function(){bad++;show();});}});show();})();"""


def _read(path: Path) -> tuple[np.ndarray, int] | None:
    """(mono audio, rate) of a wav the inference wrote, or None if it is missing or unreadable."""
    import soundfile as sf

    try:
        audio, rate = sf.read(str(path), dtype="float32")
    except (OSError, RuntimeError):
        return None
    return (audio if audio.ndim == 1 else audio.mean(1)), rate


def _ogg_uri(clip: tuple[np.ndarray, int] | None) -> str | None:
    import soundfile as sf

    if clip is None:
        return None
    buf = io.BytesIO()
    sf.write(buf, clip[0], clip[1], format="OGG", subtype="VORBIS")
    return "data:audio/ogg;base64," + base64.b64encode(buf.getvalue()).decode()


def _spectrograms(clips: list[tuple[str, tuple[np.ndarray, int] | None]]) -> str | None:
    """One PNG (as a data URI) with the mel spectrogram of each clip side by side, titled."""
    librosa = load_librosa()

    mels = []
    for title, clip in clips:
        if clip is not None:
            m = librosa.feature.melspectrogram(y=clip[0], sr=clip[1], n_mels=96)
            mels.append((title, librosa.power_to_db(m, ref=1.0, top_db=90.0)))
    if not mels:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(mels), figsize=(2.3 * len(mels), 2.0), squeeze=False)
    lo = min(float(m.min()) for _, m in mels)
    hi = max(float(m.max()) for _, m in mels)
    for ax, (title, m) in zip(axes[0], mels):
        ax.imshow(m, origin="lower", aspect="auto", vmin=lo, vmax=hi, cmap="magma")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig, dpi=80)).decode()


def _num(v: Any, digits: int = 2) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v)) if v is not None and v == v else ""
    return "" if math.isnan(f) else f"{f:.{digits}f}"


def _player(uri: str | None) -> str:
    return f'<audio controls preload="metadata" src="{uri}"></audio>' if uri else ""


def write_listening_report(out: Path, table: pd.DataFrame, title: str = "asp infer") -> Path:
    """Write ``out/report.html`` from ``asp infer``'s report table and the audio in ``out`` (see the module
    docstring); returns its path."""
    ok = table[table.status == "ok"]
    refined = "renders" in ok and ok.renders.notna().any()
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    parts.append(
        f"<p>{table.file.nunique()} file(s), {ok.file.nunique()} matched"
        f"{' with render-in-the-loop refinement' if refined else ''}. LSD: textbook log-spectral distance "
        f"in dB (lower is closer), below the top of the band each file carries (a lower-rate or lossy file's).</p>"
    )
    for file, rows in ok.groupby("file", sort=True):
        folder = out / str(file)
        parts.append(f"<section><h2>{html.escape(str(file))}</h2>")
        band = rows["band_hz"].iloc[0] if "band_hz" in rows else None
        if band is not None and band == band:
            parts.append(f"<p>the file carries sound up to {band / 1000:.1f} kHz: the LSD is measured below that</p>")
        target = _read(folder / "input.wav")
        clips: list[tuple[str, tuple[np.ndarray, int] | None]] = [("target", target)]
        head = (
            "<tr><th>synth</th><th>one-shot</th>"
            + ("<th>refined</th>" if refined else "")
            + "<th>note</th><th>LSD one-shot</th>"
            + ("<th>LSD refined</th><th>renders</th><th>search s</th>" if refined else "")
            + "</tr>"
        )
        body = []
        for _, r in rows.sort_values("synth").iterrows():
            one = _read(folder / f"{r.synth}.oneshot.wav" if refined else folder / f"{r.synth}.wav")
            clips.append((f"{r.synth} one-shot", one))
            cells = [
                f"<td class='l'>{html.escape(str(r.synth))}{' (best)' if r.best else ''}</td>",
                f"<td>{_player(_ogg_uri(one))}</td>",
            ]
            if refined:
                fin = _read(folder / f"{r.synth}.wav")
                clips.append((f"{r.synth} refined", fin))
                note = f"{_num(r.get('oneshot_note'), 0)} → {_num(r.note, 0)}"
                cells += [
                    f"<td>{_player(_ogg_uri(fin))}</td>",
                    f"<td>{note}</td>",
                    f"<td>{_num(r.get('oneshot_band_lsd', r.oneshot_lsd))}</td>",
                    f"<td>{_num(r.get('band_lsd', r.lsd))}</td>",
                    f"<td>{_num(r.renders, 0)}</td>",
                    f"<td>{_num(r.search_seconds, 1)}</td>",
                ]
            else:
                cells += [f"<td>{_num(r.note, 0)}</td>", f"<td>{_num(r.get('band_lsd', r.lsd))}</td>"]
            body.append(f"<tr{' class=best' if r.best else ''}>{''.join(cells)}</tr>")
        parts.append(f"<p>target: {_player(_ogg_uri(target))}</p>")
        parts.append(f"<table>{head}{''.join(body)}</table>")
        img = _spectrograms(clips)
        if img:
            parts.append(f"<img alt='mel spectrograms of {html.escape(str(file))}' src='{img}'>")
        parts.append("</section>")
    bad = table[table.status != "ok"]
    if len(bad):
        items = "".join(
            f"<tr><td class='l'>{html.escape(str(r.file))}</td><td class='l'>"
            f"{html.escape(str(r.synth if r.synth == r.synth else ''))}</td><td class='l'>"
            f"{html.escape(str(r.error))}</td></tr>"
            for _, r in bad.iterrows()
        )
        parts.append(
            f"<section><h2>Not matched</h2><table><tr><th>file</th><th>synth</th><th>reason</th></tr>"
            f"{items}</table></section>"
        )
    parts.append(f"<p id='audio-status'>audio not checked (scripts off)</p><script>{SCRIPT}</script></body></html>")
    path = out / "report.html"
    atomic_write_bytes(path, "".join(parts).encode())
    return path


__all__ = ["write_listening_report"]

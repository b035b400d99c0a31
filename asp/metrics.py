"""Every metric asp reports, defined once and shared by training, the effect stage and evaluation.

Audio (numpy, mono clips of equal length at one sample rate):

* :func:`lsd`: the textbook log-spectral distance in dB.
* :func:`audible_lsd`: the same distance with both spectra floored ``AUDIBLE_RANGE_DB`` (80 dB) below the reference
  clip's strongest bin, so what lies under the reference's audible range (a file's band limit, its codec's and
  16-bit noise against a render's digital silence) does not count; the search's ``audible`` objective.
* :func:`paper_lsd`: what the multi-task ASP code (Faronbi et al., ICASSP 2023) reports as "LSD"; kept only to
  compare with the published tables, and always labelled ``paper_lsd``.
* :func:`match_distance`: the render-in-the-loop search's objective (multi-resolution log spectra plus the loudness
  envelope, ``asp.search``).
* :func:`effect_metrics`: the six audio metrics of SerumRNN (Mitcheltree & Koike, EvoMUSART 2021): MSE, MAE, LSD,
  MFCC distance and Pearson correlation on the dB mel spectrogram, and the multi-scale spectral MAE on the audio.

Parameters (numpy arrays or torch tensors in the one-hot layout, so the training loop and the evaluation share one
definition; native vectors go through :func:`preset_metrics`):

* :func:`continuous_mse`: squared error over continuous parameters, mean per sample (ours) or summed per sample
  (the multi-task ASP paper's "param MSE").
* :func:`categorical_accuracy`: per sample, the share of categorical parameters whose class is right.

In the layering it sits just above ``asp.features`` (numpy and librosa only), below the search, models and eval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from asp.features.effect import EffectFeatures, Spectra, effect_mfcc, magnitudes, spectra
from asp.features.spectral import stft_power

if TYPE_CHECKING:
    from asp.synths.schema import SynthSchema

EPS_POWER = 1e-10
AUDIBLE_RANGE_DB = 80.0  # audible_lsd: dB below the reference's strongest STFT bin that still count
PAPER_POWER_FLOOR = float(np.finfo(np.float32).tiny)
EFFECT_METRICS = ("mse", "mae", "lsd", "mfccd", "pcc", "mssmae")


def check_metric(name: str) -> str:
    """``name`` if it is one of the six effect metrics; else a ValueError listing them."""
    if name not in EFFECT_METRICS:
        raise ValueError(f"unknown metric {name!r}; valid: {', '.join(EFFECT_METRICS)}")
    return name


# ---------------------------------------------------------------------- log-spectral distances
def lsd(a: np.ndarray, b: np.ndarray, n_fft: int = 2048, hop_length: int = 512, eps: float = EPS_POWER) -> float:
    """Textbook log-spectral distance in dB between two clips of equal length.

    Per STFT frame, the root mean square over frequency bins of ``10 log10((P_a + eps) / (P_b + eps))``, then the mean
    over frames. 0 for identical clips; 20 log10(2) = 6.02 dB when one clip is the other at half amplitude.
    """
    return lsd_from_power(stft_power(a, n_fft, hop_length), stft_power(b, n_fft, hop_length), eps)


def lsd_from_power(pa: np.ndarray, pb: np.ndarray, eps: float = EPS_POWER) -> float:
    """:func:`lsd` from two (..., bins, frames) power spectrograms."""
    return lsd_from_log_power(log_power(pa, eps), log_power(pb, eps))


def band_limit(power: np.ndarray, band_hz: float | None, rate: int) -> np.ndarray:
    """The bins of a (..., bins, frames) spectrogram (an STFT of ``2 (bins - 1)`` points at ``rate``) at or below
    ``band_hz`` (``asp.features.band``); all of them when None."""
    if band_hz is None:
        return power
    n_fft = 2 * (power.shape[-2] - 1)
    return power[..., : int(band_hz * n_fft / rate) + 1, :]


def log_power(p: np.ndarray, eps: float = EPS_POWER) -> np.ndarray:
    """``log10(P + eps)``: a power spectrogram as :func:`lsd_from_log_power` takes it (a search computes its
    target's once)."""
    return np.log10(p + eps)


def lsd_from_log_power(la: np.ndarray, lb: np.ndarray) -> float:
    """:func:`lsd` from two :func:`log_power` spectrograms."""
    d = 10.0 * (la - lb)
    return float(np.mean(np.sqrt(np.mean(d**2, axis=-2))))


def audible_lsd(
    a: np.ndarray, ref: np.ndarray, n_fft: int = 2048, hop_length: int = 512, range_db: float = AUDIBLE_RANGE_DB
) -> float:
    """:func:`lsd` of ``a`` against the reference clip ``ref`` over ``ref``'s audible range: both power spectrograms
    floored ``range_db`` below ``ref``'s strongest bin (one floor for the whole clip, so a quiet release still
    counts at its level). Frames and bins where both clips lie under the floor add nothing.

    Why: the textbook LSD's floor (``EPS_POWER``) is about 200 dB under a loud bin, so it weighs content far
    below hearing like the sound itself. On the quickstart's held-back files the *true* presets score 8.7 dB
    textbook LSD, nearly all of it from bins 80 dB and more under each file's peak (a file's band limit after
    resampling, codec and 16-bit noise where the synth renders digital silence); here they score 1.2 dB
    (docs/RESULTS.md). Not symmetric: the floor is the reference's.
    """
    return audible_lsd_from_power(stft_power(a, n_fft, hop_length), stft_power(ref, n_fft, hop_length), range_db)


def audible_lsd_from_power(pa: np.ndarray, pref: np.ndarray, range_db: float = AUDIBLE_RANGE_DB) -> float:
    """:func:`audible_lsd` from two (..., bins, frames) power spectrograms, ``pref`` the reference's."""
    floor = max(float(np.max(pref)) * 10.0 ** (-range_db / 10.0), EPS_POWER)
    d = 10.0 * (np.log10(np.maximum(pa, floor)) - np.log10(np.maximum(pref, floor)))
    return float(np.mean(np.sqrt(np.mean(d**2, axis=-2))))


def paper_lsd(a: np.ndarray, b: np.ndarray, n_fft: int = 2048, hop_length: int = 512) -> float:
    """The multi-task ASP paper's "LSD" (not a log-spectral distance): the mean over every STFT bin and frame of
    ``(log10 P_a - log10 P_b)^2``, with no square root, no dB scale and no epsilon.

    Where a power is exactly 0 the published code reads whatever is in memory; here it is floored at the smallest
    normal float32, so digital silence against sound gives a very large value, as the published outliers suggest.
    """
    return paper_lsd_from_power(stft_power(a, n_fft, hop_length), stft_power(b, n_fft, hop_length))


def paper_lsd_from_power(pa: np.ndarray, pb: np.ndarray) -> float:
    """:func:`paper_lsd` from two power spectrograms."""
    pa, pb = np.maximum(pa, PAPER_POWER_FLOOR), np.maximum(pb, PAPER_POWER_FLOOR)
    return float(np.mean((np.log10(pa) - np.log10(pb)) ** 2))


# ---------------------------------------------------------------------- the search's spectral distance
def fft_size(sample_rate: int, seconds: float) -> int:
    """The power of two nearest ``seconds`` of audio at ``sample_rate`` (window sizes that keep their length in
    time at any rate: 2048 at 44.1 kHz is 1024 at 22.05 kHz)."""
    return int(2 ** round(np.log2(max(16.0, sample_rate * seconds))))


@dataclass(frozen=True)
class MatchFeatures:
    """What :func:`match_distance` reads from one clip (:func:`match_features`): dB power spectrograms per
    resolution and the frame loudness in dB."""

    db: tuple[np.ndarray, ...]  # per resolution (bins, frames), 10 log10(power + eps)
    loudness: np.ndarray  # (frames,) of the middle resolution: 10 log10(mean power over bins + eps)


MATCH_WINDOWS = (0.0058, 0.0232, 0.0929)  # seconds: 256, 1024 and 4096 points at 44.1 kHz


def match_features(
    audio: np.ndarray, sample_rate: int, windows: Sequence[float] = MATCH_WINDOWS, eps: float = EPS_POWER
) -> MatchFeatures:
    """:class:`MatchFeatures` of a mono clip; hops are a quarter window."""
    dbs = []
    for w in windows:
        n = fft_size(sample_rate, w)
        dbs.append((10.0 * np.log10(stft_power(audio, n, n // 4) + eps)).astype(np.float32))
    return MatchFeatures(tuple(dbs), match_loudness(dbs[len(dbs) // 2], eps))


def match_loudness(db: np.ndarray, eps: float = EPS_POWER) -> np.ndarray:
    """(frames,) loudness in dB of a (bins, frames) dB power spectrogram: the mean power over its bins."""
    return (10.0 * np.log10(np.mean(10.0 ** (db / 10.0), axis=0) + eps)).astype(np.float32)


def match_distance(a: MatchFeatures, b: MatchFeatures, loudness_weight: float = 1.0) -> float:
    """Multi-resolution log-spectral distance plus a loudness-envelope term, in dB.

    Per resolution the mean over bins and frames of ``|dB_a - dB_b|`` (an L1 cousin of the textbook LSD, spread
    over short, medium and long windows so both onsets and fine pitch structure count; after the multi-resolution
    STFT losses of Yamamoto et al., ICASSP 2020, on log magnitudes only), averaged over resolutions, plus
    ``loudness_weight`` times the mean ``|L_a - L_b|`` of the frame loudness envelopes (a patch's level and its
    envelope over time, which the spectral terms weigh only through many bins at once).
    """
    spec = float(np.mean([np.mean(np.abs(x - y)) for x, y in zip(a.db, b.db)]))
    return spec + loudness_weight * float(np.mean(np.abs(a.loudness - b.loudness)))


# ---------------------------------------------------------------------- SerumRNN's audio metrics


def mel_mse(ma: np.ndarray, mb: np.ndarray) -> float:
    """Mean squared difference of two normalised dB mels (tables print it x100)."""
    return float(np.mean((ma - mb) ** 2))


def mel_mae(ma: np.ndarray, mb: np.ndarray) -> float:
    """Mean absolute difference of two normalised dB mels (tables print it x100)."""
    return float(np.mean(np.abs(ma - mb)))


def mel_lsd(ma: np.ndarray, mb: np.ndarray, top_db: float = 80.0) -> float:
    """LSD in dB on the mel: per frame the RMS over mel bins of the dB difference, averaged over frames."""
    d = (ma - mb) * top_db
    return float(np.mean(np.sqrt(np.mean(d**2, axis=0))))


def mfcc_distance(ma: np.ndarray, mb: np.ndarray, f: EffectFeatures = EffectFeatures()) -> float:
    """Mean over frames of the Euclidean distance between the frames' MFCC vectors (from the dB mels)."""
    return mfcc_distance_from_mfccs(effect_mfcc(ma, f), effect_mfcc(mb, f))


def mfcc_distance_from_mfccs(ca: np.ndarray, cb: np.ndarray) -> float:
    """``mfcc_distance`` from the clips' MFCCs (``effect_mfcc``), if already computed."""
    return float(np.mean(np.linalg.norm(ca - cb, axis=0)))


def pcc(ma: np.ndarray, mb: np.ndarray) -> float:
    """Pearson correlation of the two dB mels, all bins and frames together (higher is better; NaN if one is flat)."""
    a, b = np.ravel(ma).astype(np.float64), np.ravel(mb).astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / den) if den > 0 else float("nan")


def mssmae(a: np.ndarray, b: np.ndarray, f: EffectFeatures = EffectFeatures()) -> float:
    """Multi-scale spectral MAE: per scale (n_fft, hop n_fft/4) the mean |S_a - S_b| of the magnitude spectrograms plus
    ``log_weight`` times the mean |log(S_a + eps) - log(S_b + eps)|, averaged over scales (tables print it x100)."""
    return mssmae_from_magnitudes(magnitudes(a, f), magnitudes(b, f), f)


def mssmae_from_magnitudes(
    ma: dict[int, np.ndarray], mb: dict[int, np.ndarray], f: EffectFeatures = EffectFeatures()
) -> float:
    """:func:`mssmae` from two clips' :func:`magnitudes`."""
    total = 0.0
    for n in f.scales:
        total += float(np.mean(np.abs(ma[n] - mb[n])))
        total += f.log_weight * float(np.mean(np.abs(np.log(ma[n] + EPS_POWER) - np.log(mb[n] + EPS_POWER))))
    return total / len(f.scales)


def effect_metrics(
    a: np.ndarray | Spectra, b: np.ndarray | Spectra, f: EffectFeatures = EffectFeatures()
) -> dict[str, float]:
    """The six SerumRNN metrics of clip ``a`` against clip ``b`` (audio, or their :func:`spectra`)."""
    sa = a if isinstance(a, Spectra) else spectra(a, f)
    sb = b if isinstance(b, Spectra) else spectra(b, f)
    ma, mb = sa.mel, sb.mel
    return {
        "mse": mel_mse(ma, mb),
        "mae": mel_mae(ma, mb),
        "lsd": mel_lsd(ma, mb, f.top_db),
        "mfccd": mfcc_distance_from_mfccs(sa.mfcc, sb.mfcc),
        "pcc": pcc(ma, mb),
        "mssmae": mssmae_from_magnitudes(sa.mags, sb.mags, f),
    }


def audio_metrics(
    a: np.ndarray | Spectra, b: np.ndarray | Spectra, f: EffectFeatures = EffectFeatures()
) -> dict[str, float]:
    """Every audio metric of ``a`` against the reference ``b``: ``lsd``, ``audible_lsd`` and ``paper_lsd`` (STFT
    2048/512) and the six SerumRNN metrics, the mel LSD named ``mel_lsd``."""
    sa = a if isinstance(a, Spectra) else spectra(a, f)
    sb = b if isinstance(b, Spectra) else spectra(b, f)
    em = effect_metrics(sa, sb, f)
    em["mel_lsd"] = em.pop("lsd")
    return {
        "lsd": lsd_from_power(sa.power, sb.power),
        "audible_lsd": audible_lsd_from_power(sa.power, sb.power),
        "paper_lsd": paper_lsd_from_power(sa.power, sb.power),
        **em,
    }


# ---------------------------------------------------------------------- parameter metrics
def _rows_full(x: Any, value: float) -> Any:
    """An array (numpy) or tensor (torch) of ``value`` per row of ``x``."""
    if hasattr(x, "new_full"):
        return x.new_full(tuple(x.shape[:-1]), value)
    return np.full(np.shape(x)[:-1], value, dtype=np.float64)


def continuous_mse(pred: Any, target: Any, continuous: Any, reduction: str = "mean") -> Any:
    """Per sample, the squared error over continuous parameters in normalised units.

    Args:
        pred, target: (..., onehot_size) numpy arrays or torch tensors.
        continuous: one-hot positions of the continuous parameters.
        reduction: ``mean`` (asp's parameter MSE) or ``sum`` (the multi-task ASP paper's "param MSE").

    Returns:
        (...,) values; 0 for a synth without continuous parameters.
    """
    if reduction not in ("mean", "sum"):
        raise KeyError(f"unknown reduction {reduction!r}; valid: mean, sum")
    if len(continuous) == 0:
        return _rows_full(pred, 0.0)
    d = (pred[..., continuous] - target[..., continuous]) ** 2
    return d.mean(-1) if reduction == "mean" else d.sum(-1)


def categorical_accuracy(pred: Any, target: Any, groups: Sequence[tuple[int, int]]) -> Any:
    """Per sample, the share of categorical parameters whose argmax is the target's class.

    Args:
        pred, target: (..., onehot_size) scores / one-hot vectors (numpy or torch).
        groups: (one-hot start, n_classes) per categorical parameter.

    Returns:
        (...,) shares in [0, 1]; NaN for a synth without categorical parameters.
    """
    if not groups:
        return _rows_full(pred, float("nan"))
    hits = sum((pred[..., s : s + n].argmax(-1) == target[..., s : s + n].argmax(-1)) * 1.0 for s, n in groups)
    return hits / len(groups)


def preset_metrics(schema: SynthSchema, pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Parameter metrics of native vectors (N, n_params) or (n_params,) against the targets, per row:
    ``param_mse`` (mean over continuous), ``paper_param_mse`` (sum over continuous) and ``cat_acc``."""
    p, t = schema.encode(np.atleast_2d(pred)), schema.encode(np.atleast_2d(target))
    cont = np.flatnonzero(schema.onehot_kinds == 0)
    groups = [(start, n) for _, start, n in schema.categorical_groups]
    return {
        "param_mse": continuous_mse(p, t, cont),
        "paper_param_mse": continuous_mse(p, t, cont, "sum"),
        "cat_acc": categorical_accuracy(p, t, groups),
    }

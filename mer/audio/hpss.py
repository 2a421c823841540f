"""Constant features of seed 002 (§III.A–B, §IV): energy and tempo of an excerpt's
harmonic part and of its percussive part.

* HPSS by median filtering (§III.A, FitzGerald): on the magnitude STFT, mh is the
  median of the K bins around each bin along time and mv along frequency; the
  harmonic mask is 1 where mh > mv and the percussive mask is its negation, so the
  two parts partition every bin (librosa's ``decompose.hpss`` with ``power=inf``
  gives that binary mask). K = 17, the filter length of FitzGerald (DAFx 2010), the
  method seed 002 cites ([10]); it gives no length itself. The medians are
  scipy's ``ndimage.median_filter`` with librosa's reflect mode, run one row
  at a time: scipy's 1-D path is about 4× faster than the 2-D filter of shape
  (1, K) that librosa runs, and its results are the same values
  (:func:`harmonic_mask`).
* energy (eq. 4): y(m, k) = |χ_part(m, k)|² summed over the bins of each STFT
  window, averaged over the windows (the mean, so excerpts of any length compare),
  scaled by Parseval, 2 / (n_fft · Σ w²), so that it is the part's mean power in the
  units of mean(y²) whatever n_fft and hop; the two energies add up to the
  excerpt's. Linear power as in eq. 4: a caller may take logs before standardising.
* tempo (§III.B): the part's onset strength (librosa's: the frame-to-frame rise of
  its log-power mel spectrogram), then the autocorrelation tempogram averaged over
  time and its peak under librosa's log-normal prior around 120 BPM
  (``librosa.feature.tempo``). A part without onsets (silence, a steady tone) gets
  the prior's mode.

STFT sizes are those of the chroma (:func:`mer.audio.chroma.stft_sizes`).
"""

from __future__ import annotations

import librosa
import numpy as np
from scipy.ndimage import median_filter

from mer.audio.chroma import stft_sizes

CONSTANT_NAMES = ("harmonic_energy", "percussive_energy", "harmonic_tempo", "percussive_tempo")
KERNEL = 17  # FitzGerald 2010's median filter length


def median_along(S: np.ndarray, size: int, axis: int) -> np.ndarray:
    """The median of the ``size`` values around each entry of the 2-D ``S`` along ``axis`` (reflect at the edges)."""
    rows = np.ascontiguousarray(np.moveaxis(S, axis, -1))
    medians = np.empty_like(rows)
    for i, row in enumerate(rows):
        medians[i] = median_filter(row, size=size, mode="reflect")
    out = np.empty_like(S)  # S's memory layout, as librosa keeps it: the sums over the masked STFT then add up in the same order
    out[:] = np.moveaxis(medians, -1, axis)
    return out


def harmonic_mask(S: np.ndarray, kernel_size: int = KERNEL) -> np.ndarray:
    """True where the median along time exceeds the median along frequency: the harmonic
    mask of ``librosa.decompose.hpss(S, kernel_size=kernel_size, power=np.inf, mask=True)``."""
    return median_along(S, kernel_size, axis=-1) > median_along(S, kernel_size, axis=-2)


def separate(y: np.ndarray, n_fft: int, hop_length: int, kernel_size: int = KERNEL) -> tuple[np.ndarray, np.ndarray]:
    """Complex STFTs ``(harmonic, percussive)`` of ``y`` under the binary median-filter mask."""
    stft = librosa.stft(np.asarray(y, dtype=np.float32), n_fft=n_fft, hop_length=hop_length)
    harmonic = harmonic_mask(np.abs(stft), kernel_size)
    return stft * harmonic, stft * ~harmonic


def energy(part: np.ndarray, n_fft: int) -> float:
    """Mean over the STFT windows of Σ_k |χ(m, k)|² (eq. 4), as mean power (Parseval, Hann window)."""
    window = librosa.filters.get_window("hann", n_fft, fftbins=True)
    per_frame = np.sum(np.abs(part) ** 2, axis=0)
    return float(2.0 * per_frame.mean() / (n_fft * np.sum(window**2)))


def tempo(part: np.ndarray, sr: int, hop_length: int) -> float:
    """BPM of the part's onset strength from the time-averaged autocorrelation tempogram."""
    mel = librosa.feature.melspectrogram(S=np.abs(part) ** 2, sr=sr)
    onset = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sr, hop_length=hop_length)
    return float(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=hop_length)[0])


def constant_features(
    y: np.ndarray, sr: int, n_fft: int | None = None, hop_length: int | None = None, kernel_size: int = KERNEL
) -> np.ndarray:
    """``(4,)`` float32 in the order of :data:`CONSTANT_NAMES` (§IV): harmonic and
    percussive energy (mean power), harmonic and percussive tempo (BPM)."""
    default_fft, default_hop = stft_sizes(sr)
    n_fft, hop_length = n_fft or default_fft, hop_length or default_hop
    harmonic, percussive = separate(y, n_fft, hop_length, kernel_size)
    values = (
        energy(harmonic, n_fft),
        energy(percussive, n_fft),
        tempo(harmonic, sr, hop_length),
        tempo(percussive, sr, hop_length),
    )
    return np.asarray(values, dtype=np.float32)

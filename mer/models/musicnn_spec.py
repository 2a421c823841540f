"""What the musicnn ports share without torch: the converted weights' place, the models, their tags and input.

See :mod:`mer.models.musicnn` (the network in torch) and :mod:`mer.models.musicnn_numpy` (the same in numpy,
for ``mer predict``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default epsilon
N_MELS = 96
PATCH_FRAMES = 187  # the models' training input: 3 s of 16-kHz audio at hop 256
MODELS = ("MSD_musicnn", "MTT_musicnn")
WEIGHTS = Path(__file__).parent / "weights" / "musicnn"
TRAINED_ON = {"MSD_musicnn": "the Million Song Dataset's 50 most frequent Last.fm tags", "MTT_musicnn": "MagnaTagATune's 50 most frequent tags"}

MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano", "ambient", "beat", "violin",
    "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute",
    "woman", "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance",
    "male voice", "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
)
MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock", "jazz", "beautiful",
    "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist", "guitar",
    "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)
TAGS = {"MSD_musicnn": MSD_TAGS, "MTT_musicnn": MTT_TAGS}


def weights_digest(name: str) -> str:
    """SHA-256 (first 16 hex digits) of a model's converted weights: a bundle records the weights it was trained over."""
    import hashlib

    return hashlib.sha256((WEIGHTS / f"{name}.npz").read_bytes()).hexdigest()[:16]


def mel_basis() -> np.ndarray:
    """librosa's 96-band Slaney filterbank for 16 kHz, n_fft 512 (stored beside the weights): ``(96, 257)``."""
    return np.load(WEIGHTS / "mel_basis.npy")

"""Layouts of the seeds' networks as plain data, importable without torch (the presets use them).

``VGG16``: seed 001's segment classifier (:mod:`mer.models.vgg`); ``TAGGER_*``:
seed 003's spectrogram CNN (:mod:`mer.models.tagger`, ``PAPER`` / ``QUICK`` there).
"""

from __future__ import annotations

VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")

TAGGER_PAPER = {  # seed 003's CNN, full size
    "channels": (32, 64, 128, 256),
    "kernel": 3,
    "pools": ((2, 2), (2, 2), (2, 2), (2, 2)),
    "pool": (1, 1),
    "dense": (256,),
    "dropout": 0.5,
    "batch_norm": True,
}
TAGGER_QUICK = {  # the same style, small enough for a 2-core CPU
    "channels": (8, 16),
    "kernel": 3,
    "pools": ((4, 4), (4, 4)),
    "pool": (1, 4),  # average over time, keep 4 frequency bands
    "dense": (32,),
    "dropout": 0.3,
    "batch_norm": True,
}

"""openSMILE's functionals from its C library, without the ``opensmile`` package's Python stack.

The ``opensmile`` wheel holds three things: the openSMILE library (``libSMILEapi``), its
feature-set configurations, and a Python front end built on ``audinterface`` /
``audformat`` / ``pandas`` whose import alone takes about 1.3 s. ``mer predict`` answers
one clip in a couple of seconds, so both the ``smile`` stage and the predictor use the
wheel's ctypes binding (``opensmile/core/lib.py``, which needs only ctypes and numpy),
loaded by its path so that the package's ``__init__`` never runs, and give it the same
configuration the front end gives it: the feature set's ``.conf`` with the shared
external wave source and the single-level external sink at the functionals level.
``tests/audio/test_smile_api.py`` holds the two equal on synthetic audio stored as the
``pad`` stage stores clips. (The front end itself scales by 32768 and truncates in
float32: the loudest stored samples, |k| ≥ 32736, come out one step off, and a clip's
full-scale peak, 32767/32767 = 1.0, becomes −32768; this module hands openSMILE the
stored 16-bit samples themselves.)
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from mer.audio.pad import to_pcm16
from mer.errors import AudioError, ConfigError

CONFIGS = {  # feature set → its configuration, relative to the wheel's config folder
    "ComParE_2016": "compare/ComParE_2016.conf",
    "eGeMAPSv02": "egemaps/v02/eGeMAPSv02.conf",
}
SOURCE, SINK = "extsource", "extsink"  # the component names of the shared source and sink configurations
_BINDING = "mer_opensmile_binding"


@cache
def binding():
    """The wheel's ctypes binding and its configuration folder: ``(module, config_root)``."""
    spec = importlib.util.find_spec("opensmile")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("openSMILE is not installed: `pip install opensmile` (free for research and education; commercial use needs a licence)")
    core = Path(next(iter(spec.submodule_search_locations))) / "core"
    lib_file, config_root = core / "lib.py", core / "config"
    if not lib_file.is_file() or not config_root.is_dir():
        raise ConfigError(f"the installed opensmile package has no {lib_file.name} / config folder under {core}; install opensmile 2.5 or later")
    module_spec = importlib.util.spec_from_file_location(_BINDING, lib_file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[_BINDING] = module
    module_spec.loader.exec_module(module)
    return module, config_root


class Functionals:
    """One feature set's functionals of a mono signal: ``Functionals("ComParE_2016")(y, sr)``."""

    def __init__(self, feature_set: str):
        if feature_set not in CONFIGS:
            raise ConfigError(f"unknown openSMILE feature set {feature_set!r}; one of {', '.join(CONFIGS)}")
        self.feature_set = feature_set
        self.lib, root = binding()
        self.config = root / CONFIGS[feature_set]
        self.options = {
            "source": root / "shared/standard_external_wave_input.conf.inc",
            "sink": root / "shared/standard_external_data_output_single.conf.inc",
            "sinkLevel": "func",
            "bufferModeRbConf": root / "shared/BufferModeRb.conf.inc",
            "frameModeFunctionalsConf": root / "shared/FrameModeFunctionals.conf.inc",
            "nBits": 16,
        }

    def _instance(self, sample_rate: int):
        smile = self.lib.OpenSMILE()
        smile.initialize(str(self.config), {**self.options, "sampleRate": int(sample_rate)}, loglevel=0)
        return smile

    @cached_property
    def names(self) -> list[str]:
        smile = self._instance(16000)
        try:
            return [smile.external_sink_get_element_name(SINK, i) for i in range(smile.external_sink_get_num_elements(SINK))]
        finally:
            smile.free()

    def __call__(self, y: np.ndarray, sample_rate: int) -> np.ndarray:
        """Functionals of ``y`` (samples in [−1, 1]), float64.

        openSMILE reads 16-bit samples: ``y`` is quantised as the ``pad`` stage stores clips
        (:func:`mer.audio.pad.to_pcm16`), so a stored clip reaches it sample for sample.
        Raises :class:`AudioError` ``opensmile_failed`` when openSMILE yields no single vector."""
        pcm = to_pcm16(np.asarray(y, dtype=np.float32)).astype("<i2")
        rows: list[np.ndarray] = []
        smile = self._instance(sample_rate)
        try:
            smile.external_sink_set_callback(SINK, lambda data: rows.append(np.array(data, dtype=np.float64)))
            if not smile.external_audio_source_write_data(SOURCE, pcm.tobytes()):
                raise AudioError("opensmile_failed", f"openSMILE did not accept {len(pcm)} samples")
            smile.external_audio_source_set_eoi(SOURCE)
            smile.run()
        finally:
            smile.free()
        if len(rows) != 1:
            raise AudioError("opensmile_failed", f"openSMILE gave {len(rows)} functional vectors for one clip (expected 1)")
        return rows[0]

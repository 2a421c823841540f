"""Music emotion recognition: segment-level methods under one DVC pipeline."""

__version__ = "0.1.0"

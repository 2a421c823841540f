"""Errors that stop a stage with a clear message instead of a traceback."""


class MerError(Exception):
    """Base class: the message is meant for the user, as is."""


class ConfigError(MerError):
    """params.yaml holds an unknown name or an invalid value."""


class DataError(MerError):
    """A dataset is missing, malformed, or has too few usable songs."""


class FoldMismatchError(DataError):
    """Two methods' scores of one fold come from different test songs: a paired comparison would be meaningless."""


class DownloadError(MerError):
    """A dataset could not be fetched from its official address."""


class AudioError(MerError):
    """One audio file cannot be used; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class WorkerError(MerError):
    """A worker process of a parallel map died before returning its results."""

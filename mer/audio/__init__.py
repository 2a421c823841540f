"""Audio front end: decode → pad (seed 000 §4.1) → segment → log-mel (§4.2, seed 001)."""


def warm_up() -> None:
    """Build one mel filterbank in the parent before worker processes fork: librosa's
    first call imports scipy.signal (~1.5 s), which the workers then inherit instead
    of each importing it. Only librosa is touched: no thread pool starts before the fork."""
    import librosa

    librosa.filters.mel(sr=22050, n_fft=1024, n_mels=128)

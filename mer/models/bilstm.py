"""Sequence classifiers over a clip's segments (seed 000 §3.2, §4.4).

``BiLSTMClassifier``: a clip is the sequence of its segments' feature vectors →
bidirectional LSTM (512 units per direction in the paper) → its final outputs of
both directions → dropout 0.5 → a dense layer with softmax over 2 classes (the
softmax is in the loss). ``CnnBiLSTM`` is the baseline of §4.4: the encoder's
structure applied to every segment, followed by the same BiLSTM, trained jointly
from scratch. Initialised like Keras's LSTM (Glorot input kernels, orthogonal
recurrent kernels, zero biases with the forget gate's at 1).

``BiLSTMClassifier`` can standardise its input features, ``(x − mean) / std`` per
feature, by ``input_mean`` / ``input_std`` buffers: identity until the caller sets
statistics of its training songs with :meth:`BiLSTMClassifier.set_input_scaling`
(the ``standardize`` training setting); they are saved with the weights.

On a CPU the BiLSTM over segment codes runs torch's native LSTM, not oneDNN's
(``mkldnn``): with thousands of input features and a few time steps oneDNN's training
step is slower (one thread, ms per step of the LSTM alone, oneDNN → native; ``python
bench/lstm.py --paper``): 3456-value codes of 6 segments with 32 units 6.8 → 6.2, with
64 units 13.7 → 10.3, Table 2's 13824-value codes with 512 units 389 → 234. The values
are the same LSTM's up to float rounding. Long sequences of few features (the chroma
BiLSTM of :mod:`mer.models.chroma_bilstm`: 1.5 vs 6.7 ms) are the other way round and
keep oneDNN.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from mer.models.autoencoder import TABLE2_CHANNELS, ConvEncoder


def init_lstm(lstm: nn.LSTM, forget_bias: float = 1.0) -> None:
    """Keras's LSTM initialisation: Glorot input kernels, orthogonal recurrent kernels,
    zero biases with the forget gate's at ``forget_bias``."""
    for name, p in lstm.named_parameters():
        if "weight_ih" in name:
            for gate in p.chunk(4, 0):
                nn.init.xavier_uniform_(gate)
        elif "weight_hh" in name:
            for gate in p.chunk(4, 0):
                nn.init.orthogonal_(gate)
        else:
            nn.init.zeros_(p)
            if "bias_ih" in name:
                p.data.chunk(4, 0)[1].fill_(forget_bias)  # PyTorch gate order i, f, g, o


@contextmanager
def native_rnn(device: torch.device) -> Iterator[None]:
    """On a CPU, a block where recurrent layers run torch's native kernels instead of oneDNN's
    (the module docstring); elsewhere nothing changes. Only the recurrent layer belongs inside:
    convolutions are faster with oneDNN. Only ``torch.backends.mkldnn.enabled`` is switched
    (and restored): oneDNN's other settings stay as they are."""
    if device.type != "cpu":
        yield
        return
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = enabled


class BiLSTMClassifier(nn.Module):
    def __init__(self, input_size: int, hidden: int = 512, dropout: float = 0.5, n_classes: int = 2):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, n_classes)
        init_lstm(self.lstm)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("input_mean", torch.zeros(input_size))
        self.register_buffer("input_std", torch.ones(input_size))

    def set_input_scaling(self, mean, std) -> None:
        """Standardise every input feature by ``(x − mean) / std`` (a zero std counts as 1)."""
        std = torch.as_tensor(std, dtype=torch.float32)
        self.input_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.input_std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # weights saved before the buffers existed: identity scaling
        state_dict.setdefault(prefix + "input_mean", torch.zeros_like(self.input_mean))
        state_dict.setdefault(prefix + "input_std", torch.ones_like(self.input_std))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """(B, S, D) → logits (B, n_classes)."""
        # the recurrent part always runs in float32, also under bf16 autocast on a GPU: it is
        # cheap next to the CNN, and not every backend has a bf16 LSTM
        with torch.autocast(device_type=seq.device.type, enabled=False):
            seq = (seq.to(self.lstm.weight_ih_l0.dtype) - self.input_mean) / self.input_std
            with native_rnn(seq.device):
                _, (h, _) = self.lstm(seq)
        both = torch.cat([h[-2], h[-1]], dim=1)  # last forward state, last backward state
        return self.head(self.dropout(both))


class CnnBiLSTM(nn.Module):
    """Baseline: per-segment CNN (the encoder's structure) + BiLSTM, trained end to end."""

    def __init__(self, channels: Sequence[int] = TABLE2_CHANNELS, hidden: int = 512, dropout: float = 0.5, n_classes: int = 2):
        super().__init__()
        self.encoder = ConvEncoder(channels)
        self.classifier = BiLSTMClassifier(self.encoder.code_size(), hidden, dropout, n_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, S, 216, 128) → logits (B, n_classes)."""
        b, s = clips.shape[:2]
        codes = self.encoder(clips.reshape(b * s, 1, *clips.shape[2:]))
        return self.classifier(codes.reshape(b, s, -1))

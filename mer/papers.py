"""The papers the methods come from, by the names a user reads.

The code's docstrings and claims.yaml cite the papers by their seed numbers (``seed 000 §4.3``);
everything a user reads — the report, the claims report, the command line — names them instead
(:func:`cite`), so that nobody has to look a number up.
"""

from __future__ import annotations

import re

PAPERS = {
    "000": "the two-stage paper (He & Ferguson 2022)",  # Music emotion recognition based on segment-level two-stage learning, IJMIR
    "001": "the SSSL paper (Sun et al.)",  # Semi-supervised self-learning enhanced music emotion recognition
    "002": "the chroma paper (Liu, Fang & Huang)",  # chroma + HPSS BiLSTM on antonym soft labels
    "003": "the tagging paper",  # spectrogram CNN emotion tagging (its abstract)
}
_SEED = re.compile(r"\b([Ss])eed (00[0-3])\b")


def cite(text: str, start: bool = False) -> str:
    """``text`` with every "seed 00N" replaced by the paper's name (capitalised where the seed was, and
    at the start of ``text`` where it ``start``s a line)."""

    def name(match: re.Match) -> str:
        paper = PAPERS[match.group(2)]
        return paper[0].upper() + paper[1:] if match.group(1) == "S" else paper

    out = _SEED.sub(name, text)
    return out[:1].upper() + out[1:] if start else out

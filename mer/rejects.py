"""Recorded, counted exclusions: nothing is dropped without a row saying why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mer.io import write_csv

COLUMNS = ["song", "stage", "reason", "detail"]


@dataclass
class Rejects:
    """Collects ``(song, reason, detail)`` rows for one stage."""

    stage: str
    rows: list[dict] = field(default_factory=list)

    def add(self, song: str, reason: str, detail: str = "") -> None:
        self.rows.append({"song": str(song), "stage": self.stage, "reason": reason, "detail": detail})

    def extend(self, other: Rejects) -> None:
        self.rows.extend(other.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def songs(self) -> set[str]:
        return {r["song"] for r in self.rows}

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r["reason"] for r in self.rows).items()))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def write(self, path: str | Path) -> None:
        write_csv(path, self.frame())

    def summary(self, kept: int, what: str = "songs") -> str:
        """One line per reason, e.g. for the stage log."""
        lines = [f"[{self.stage}] kept {kept} {what}; excluded {len(self)}"]
        for reason, n in self.counts().items():
            example = next(r for r in self.rows if r["reason"] == reason)
            detail = f" (e.g. {example['song']}: {example['detail']})" if example["detail"] else f" (e.g. {example['song']})"
            lines.append(f"  - {reason}: {n}{detail}")
        return "\n".join(lines)

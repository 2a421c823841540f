"""Your own labelled music: a folder of audio files and one CSV that labels them.

``dataset: folder`` reads ``data.root`` (required: nothing is downloaded). The
audio files may sit at any depth below it (symbolic links are followed, hidden
files and folders skipped); the CSV ``data.labels`` (a path relative to
``data.root``) has a ``file`` column and one of three kinds of label:

* continuous ``valence`` and ``arousal`` on the scale ``data.scale`` declares
  (e.g. ``[1, 9]``), rescaled to [0, 1]; the labels stage thresholds them by
  k-means, as for PMEmo and DEAM;
* binary ``valence`` and ``arousal`` (``high``/``low`` or ``1``/``0``, with
  ``data.scale: null``): each pair is its Russell quadrant (high/high = Q1,
  low/high = Q2, low/low = Q3, high/low = Q4), so the labels stage reads them
  as it reads 4Q's quadrants and gives the same binary valence and arousal back;
* a ``quadrant`` column (``Q1``..``Q4``), as 4Q.

Continuous values and a quadrant column may come together (the quadrant is then
annotated, as in the synthetic set) if every row's quadrant lies on the side of
the scale's midpoint its values do; binary values and a quadrant must agree.

A ``file`` value is the audio file's path relative to ``data.root``
(``calm/track01.wav``), or that path, or the bare file name, without the
extension when only one file has it (``calm/track01``, ``track01``). The value
is the song's id in every table. The ``download`` stage copies the CSV and every
audio file into ``data/raw/source`` (DVC then tracks them); a CSV it cannot use
stops it before any copy, with the expected layout in the message.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from mer.data.base import AUDIO_EXTENSIONS, QUADRANTS, Annotations, Dataset, check_labels, finish, walk_files
from mer.errors import ConfigError, DataError
from mer.rejects import Rejects

LABELS = "labels.csv"  # the CSV's name in data/raw/source
SETTINGS = "folder.json"  # what the download stage read: data.labels, data.scale, broken links
QUADRANT_VA = {"Q1": (1, 1), "Q2": (0, 1), "Q3": (0, 0), "Q4": (1, 0)}  # (valence, arousal), as mer.labels
VA_QUADRANT = {va: q for q, va in QUADRANT_VA.items()}
BINARY = {"high": 1, "low": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}
WORDS = {"high", "low"}

LAYOUT = """  <data.root>/                      your folder: audio files at any depth (.wav .flac .mp3 .ogg .aiff .m4a)
    calm/track01.wav
    loud/track02.flac
    labels.csv                      data.labels: one row per clip; other columns are ignored
  labels.csv holds ONE kind of label:
    file,valence,arousal            continuous, on the scale data.scale declares, e.g. [1, 9]
    calm/track01.wav,7,2.5
    loud/track02.flac,3,8
  or
    file,valence,arousal            binary (high/low or 1/0), with data.scale: null
    calm/track01.wav,high,low
    loud/track02.flac,low,high
  or
    file,quadrant                   Q1 (V+ A+), Q2 (V- A+), Q3 (V- A-), Q4 (V+ A-)
    calm/track01.wav,Q4
    loud/track02.flac,Q2
  file: the path relative to data.root; the extension, and the folders, may be left out where
  only one audio file has the name"""

NEEDS_ROOT = (
    "params.yaml: dataset 'folder' reads your own audio files: set data.root to their folder, e.g.\n"
    "  dvc exp run -S dataset=folder -S data.root=/path/to/clips -S data.labels=labels.csv -S 'data.scale=[1, 9]'\n"
    f"Expected layout:\n{LAYOUT}"
)


def bad_csv(where: str, problem: str) -> DataError:
    return DataError(f"{where}: {problem}.\nExpected layout:\n{LAYOUT}")


def parse_scale(value: Any) -> tuple[float, float] | None:
    """``data.scale``: None (binary or quadrant labels), or ``(low, high)`` of continuous values."""
    if value is None:
        return None
    numbers = isinstance(value, (list, tuple)) and len(value) == 2
    numbers = numbers and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not numbers or value[0] >= value[1]:
        raise ConfigError(
            "params.yaml: data.scale must be null (binary or quadrant labels) or [low, high] with low < high, "
            f"the scale of the continuous valence/arousal values, e.g. [1, 9] (got {value!r})"
        )
    return float(value[0]), float(value[1])


def _scale_text(scale: tuple[float, float]) -> str:
    return f"[{scale[0]:g}, {scale[1]:g}]"


# --------------------------------------------------------------------------- the CSV


@dataclass
class Table:
    """The parsed CSV: ``songs`` (song = the ``file`` value, valence and arousal in [0, 1] or NaN,
    quadrant or ""), ``problems`` (why each row is unusable; empty if usable), the label ``kind``
    (continuous | binary | quadrant) and whether a quadrant column came with the values."""

    songs: pd.DataFrame
    problems: list[list[str]]
    kind: str
    with_quadrant: bool


def _read_csv(path: Path, where: str) -> pd.DataFrame:
    if not path.is_file():
        raise bad_csv(where, "no such file (data.labels names the CSV, relative to data.root)")
    text = None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = path.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
    header = (text or "").lstrip().split("\n", 1)[0]
    sep = next((s for s in (",", ";", "\t") if s in header), ",")  # spreadsheets may write ; or tabs
    try:
        with warnings.catch_warnings():  # rows longer than the header: an error, not a silent loss
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding, skipinitialspace=True, index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise bad_csv(where, f"not a readable CSV ({type(exc).__name__}: {str(exc).strip()})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table.apply(lambda col: col.str.strip())


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _kind(table: pd.DataFrame, where: str, scale: tuple[float, float] | None) -> str:
    cols = set(table.columns)
    if "file" not in cols:
        raise bad_csv(where, f"no 'file' column (found {', '.join(table.columns) or 'no columns'})")
    va = {"valence", "arousal"} & cols
    if len(va) == 1:
        (given,) = va
        raise bad_csv(where, f"a '{given}' column without its '{'arousal' if given == 'valence' else 'valence'}' column")
    if not va:
        if "quadrant" not in cols:
            raise bad_csv(where, f"no label columns: valence and arousal, or quadrant (found {', '.join(table.columns)})")
        return "quadrant"
    values = pd.concat([table["valence"], table["arousal"]])
    values = values[values != ""].str.lower()
    if scale is None:
        other = [v for v in values if _is_number(v) and v not in BINARY]
        if other:
            raise bad_csv(
                where,
                f"valence/arousal hold continuous values (e.g. {other[0]}) but data.scale is null: declare their scale, "
                "e.g. -S 'data.scale=[1, 9]' (or [0, 1], [-1, 1]); binary labels are high/low or 1/0",
            )
        return "binary"
    if len(values) and values.isin(WORDS).all():
        raise bad_csv(where, f"valence/arousal hold high/low labels but data.scale is {_scale_text(scale)}: set data.scale to null for binary labels")
    return "continuous"


def read_table(path: Path, scale: tuple[float, float] | None, where: str | None = None) -> Table:
    """Read and check the label CSV; a CSV the pipeline cannot use raises :class:`DataError` with the layout."""
    where = where or str(path)
    table = _read_csv(path, where)
    kind = _kind(table, where, scale)
    if table.empty:
        raise bad_csv(where, "no rows (a header and one row per audio file are expected)")
    n = len(table)
    with_quadrant = kind != "quadrant" and "quadrant" in table.columns
    songs = pd.DataFrame({"song": table["file"].str.replace("\\", "/", regex=False).map(_plain), "valence": np.nan, "arousal": np.nan, "quadrant": ""})
    problems: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero((songs["song"] == "").to_numpy()):
        problems[i].append("the file column is empty")
    if kind == "continuous":
        lo, hi = scale
        for col in ("valence", "arousal"):
            for i, raw in enumerate(table[col]):
                if raw == "":
                    problems[i].append(f"{col} is missing")
                elif not _is_number(raw):
                    problems[i].append(f"{col} = {raw!r} is not a number")
                elif not lo <= float(raw) <= hi:
                    problems[i].append(f"{col} = {raw} is outside data.scale {_scale_text(scale)}")
                else:
                    songs.at[i, col] = (float(raw) - lo) / (hi - lo)
    if kind == "binary":
        bits: dict[str, list[int | None]] = {}
        for col in ("valence", "arousal"):
            bits[col] = [BINARY.get(raw.lower()) for raw in table[col]]
            for i, raw in enumerate(table[col]):
                if bits[col][i] is None:
                    problems[i].append(f"{col} = {raw!r} is not high/low or 1/0" if raw else f"{col} is missing")
        songs["quadrant"] = [VA_QUADRANT.get((v, a), "") for v, a in zip(bits["valence"], bits["arousal"])]
    if kind == "quadrant" or with_quadrant:
        given = table["quadrant"].str.upper()
        for i in np.flatnonzero(~given.isin(QUADRANTS).to_numpy()):
            problems[i].append(f"quadrant = {table.at[i, 'quadrant']!r} is not one of Q1..Q4" if table.at[i, "quadrant"] else "quadrant is missing")
        if with_quadrant:
            _check_agreement(songs, given, problems, kind, where)
        songs["quadrant"] = given.where(given.isin(QUADRANTS), "")
    return Table(songs, problems, kind, with_quadrant)


def _plain(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _check_agreement(songs: pd.DataFrame, given: pd.Series, problems: list[list[str]], kind: str, where: str) -> None:
    """Values and a quadrant column together must say the same: a contradiction stops the stage."""
    clash = []
    for i, q in enumerate(given):
        if problems[i] or q not in QUADRANT_VA:
            continue
        if kind == "binary":
            agree = songs.at[i, "quadrant"] == q
        else:
            want = QUADRANT_VA[q]
            # the scale's midpoint is 0.5 after rescaling; a value on it agrees with either side
            agree = all(x == 0.5 or int(x > 0.5) == w for x, w in zip((songs.at[i, "valence"], songs.at[i, "arousal"]), want))
        if not agree:
            clash.append(f"{songs.at[i, 'song']} ({q})")
    if clash:
        side = "their high/low" if kind == "binary" else "the side of the scale's midpoint their values lie on"
        raise bad_csv(
            where,
            f"valence/arousal and quadrant contradict each other in {len(clash)} rows (e.g. {', '.join(clash[:3])}): "
            f"each quadrant must match {side}; keep one kind of label",
        )


# --------------------------------------------------------------------------- the audio files


def audio_tree(root: Path, skip: Path | None = None) -> dict[str, Path | None]:
    """``{path relative to root: path}`` of every audio file below ``root``, at any depth, following
    symbolic links (:func:`mer.data.base.walk_files`); hidden files and folders are skipped; None: a
    symbolic link to nothing. ``skip``: a folder left out (the copy, were it inside ``root``)."""
    root = Path(root)
    skip_real = os.path.realpath(skip) if skip is not None else None
    out: dict[str, Path | None] = {}
    for path in walk_files(root):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        if skip_real is not None and os.path.realpath(path.parent).startswith(skip_real.rstrip(os.sep) + os.sep):
            continue
        out[rel.as_posix()] = path if path.is_file() else None
    return out


def _names(files: Mapping[str, Path | None]) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """The other names a ``file`` value may give: the path without extension, the file name, the bare name."""
    no_ext: dict[str, list[str]] = {}
    name: dict[str, list[str]] = {}
    stem: dict[str, list[str]] = {}
    for rel in files:
        p = PurePosixPath(rel)
        no_ext.setdefault(p.with_suffix("").as_posix(), []).append(rel)
        name.setdefault(p.name, []).append(rel)
        stem.setdefault(p.stem, []).append(rel)
    return no_ext, name, stem


def _match(value: str, files: Mapping[str, Path | None], names) -> list[str]:
    """The audio files a ``file`` value names: one, none, or (ambiguous) several."""
    if value in files:
        return [value]
    for table in names:
        if value in table:
            return table[value]
    return []


# --------------------------------------------------------------------------- the dataset


def read_folder(root: Path, labels: Path, scale: tuple[float, float] | list | None, broken: tuple[str, ...] = (), where: str | None = None) -> Annotations:
    """The annotations of a folder of audio files and its label CSV; every row or file left out is in
    ``rejects``: bad or missing labels, duplicate rows, rows that name no audio file (or several),
    audio files no row names. Audio paths are relative to ``root``."""
    scale = parse_scale(list(scale) if scale is not None else None)
    where = where or labels.name
    table = read_table(labels, scale, where)
    rejects = Rejects("download")
    songs, problems = table.songs, table.problems
    files = audio_tree(root)
    for rel in broken:
        files[rel] = None
    names = _names(files)
    # rows without a name, then repeated names (first row kept)
    for i in [i for i, s in enumerate(songs["song"]) if s == ""]:
        rejects.add(f"line {i + 2}", "bad_label", "; ".join(problems[i]))
    keep = (songs["song"] != "").to_numpy()
    songs, problems = songs.loc[keep].reset_index(drop=True), [p for p, k in zip(problems, keep) if k]
    first = ~songs["song"].duplicated(keep="first").to_numpy()
    songs = check_labels(songs, rejects, continuous=False, quadrant=False)  # records the repeated names
    problems = [p for p, k in zip(problems, first) if k]
    # the files the rows name, also those of rows rejected below (their audio is not "unlabelled")
    matched = [_match(s, files, names) for s in songs["song"]]
    claimed = {rel for found in matched for rel in found}
    used: dict[str, str] = {}  # file → the kept row that names it
    ok = np.ones(len(songs), dtype=bool)
    audio = [""] * len(songs)
    for i, (song, found) in enumerate(zip(songs["song"], matched)):
        if problems[i]:
            rejects.add(song, "bad_label", "; ".join(problems[i]))
            ok[i] = False
        elif len(found) > 1:
            rejects.add(song, "ambiguous_audio", f"names {len(found)} audio files ({', '.join(found[:3])}); give the path relative to data.root")
            ok[i] = False
        elif len(found) == 1 and found[0] in used:
            rejects.add(song, "duplicate_annotation", f"names {found[0]}, as {used[found[0]]} does; first row kept")
            ok[i] = False
        elif len(found) == 1 and files[found[0]] is None:
            rejects.add(song, "no_audio", f"{found[0]} is a symbolic link to a missing file")
            ok[i] = False  # a row without audio is left out: your own labels count only the songs that can be heard
        elif len(found) == 1:
            audio[i] = found[0]
        else:
            rejects.add(song, "no_audio", f"no audio file {song!r} under data.root (its path, or its name with or without the extension)")
            ok[i] = False
        if ok[i] and len(found) == 1:
            used[found[0]] = song
    songs["audio"] = audio
    songs = songs.loc[ok].reset_index(drop=True)
    for rel, path in files.items():
        if rel not in claimed and path is not None:
            rejects.add(PurePosixPath(rel).with_suffix("").as_posix(), "no_annotation", f"{rel} has no row in {where}")
    songs = check_labels(songs, rejects, continuous=table.kind == "continuous", quadrant=table.kind != "continuous" or table.with_quadrant)
    counts = rejects.counts()
    kind = {
        "continuous": f"continuous valence/arousal on {_scale_text(scale) if scale else ''}, rescaled to [0, 1]",
        "binary": "binary valence/arousal, read as quadrants",
        "quadrant": "quadrants",
    }[table.kind] + (", and quadrants" if table.with_quadrant else "")
    notes = [
        f"folder: {len(songs)} labelled songs with audio ({kind}); {counts.get('no_audio', 0)} rows of {where} name no audio file "
        f"and {counts.get('no_annotation', 0)} audio files have no row (both left out, listed in data/raw/rejects.csv)"
    ]
    if scale is not None and table.kind == "quadrant":
        notes.append(f"folder: data.scale {_scale_text(scale)} is not used: {where} holds quadrants only")
    return Annotations(songs=finish(songs), rejects=rejects, notes=notes)


def labels_path(root: Path, data: Mapping[str, Any]) -> Path:
    """``data.labels``: relative to ``data.root`` (an absolute path is taken as it is)."""
    labels = data.get("labels") or LABELS
    return Path(root) / Path(str(labels)).expanduser()


def gather(dest: Path, root: Path | None, data: Mapping[str, Any]) -> None:
    """The ``download`` stage's work for ``folder``: check the CSV, then copy it (as ``labels.csv``) and
    every audio file (same relative paths, links followed) into ``dest``."""
    if root is None:
        raise ConfigError(NEEDS_ROOT)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data.root {root} is not a folder (dataset 'folder' reads a folder of audio files).\nExpected layout:\n{LAYOUT}")
    scale = parse_scale(data.get("scale"))
    labels = labels_path(root, data)
    where = f"data.labels {labels}"
    read_table(labels, scale, where)  # a CSV that cannot be used stops here, before any copy
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(labels, dest / LABELS)
    broken = []
    for rel, path in audio_tree(root, skip=dest).items():
        if path is None:
            broken.append(rel)
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)  # contents only: a link is followed, the user's file never shared
    settings = {"labels": str(data.get("labels") or LABELS), "scale": list(scale) if scale else None, "broken": broken}
    (dest / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")


def load(root: Path) -> Annotations:
    """Annotations of a folder gathered into ``root`` by :func:`gather`."""
    settings = json.loads((root / SETTINGS).read_text())
    return read_folder(root, root / LABELS, settings["scale"], tuple(settings.get("broken", ())), where=settings["labels"])


DATASET = Dataset(
    name="folder",
    title="your own labelled audio folder",
    sample_rate=22050,  # pad.sample_rate overrides it
    sssl_max_dur=30.0,  # as the real datasets: the SSSL segments cover the first 30 s
    layout=LAYOUT,
    parts=(LABELS,),
    load=load,
    gather=gather,
    continuous=None,  # decided by the labels: continuous values, or quadrants (given, or from binary labels)
)

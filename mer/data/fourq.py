"""4Q audio emotion dataset (Panda, Malheiro & Paiva, IEEE TAFFC 2018).

The "AllMusic dataset" of seed 000 §4.1 and the "4Q dataset" of seed 001:
900 ~30-s AllMusic previews, 225 per Russell quadrant, annotated by quadrant only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer.data.base import QUADRANTS, Annotations, Archive, Dataset, audio_files, check_labels, finish, match_audio, subset_note
from mer.errors import DataError
from mer.rejects import Rejects

ANNOTATIONS = "panda_dataset_taffc_annotations.csv"
PER_QUADRANT = 225

LAYOUT = """  MER_audio_taffc_dataset/
    Q1/ Q2/ Q3/ Q4/                         MT*.mp3 (225 clips each in the full release)
    panda_dataset_taffc_annotations.csv     Song,Quadrant
    panda_dataset_taffc_metadata.csv        (optional) mood tags and genres"""


def load(root: Path) -> Annotations:
    rejects = Rejects("download")
    table = pd.read_csv(root / ANNOTATIONS, dtype=str, encoding="latin-1")
    table.columns = [c.strip() for c in table.columns]
    if not {"Song", "Quadrant"} <= set(table.columns):
        raise DataError(f"{ANNOTATIONS} must have columns Song,Quadrant (found {list(table.columns)})")
    songs = check_labels(
        table.rename(columns={"Song": "song", "Quadrant": "quadrant"})[["song", "quadrant"]],
        rejects,
        continuous=False,
        quadrant=True,
    )
    audio: dict[str, Path] = {}
    folder_of: dict[str, str] = {}
    for q in QUADRANTS:
        for stem, path in audio_files(root / q).items():
            audio[stem] = path
            folder_of[stem] = q
    # the folder is part of the release's labelling: a disagreement makes the label ambiguous
    clash = songs["song"].map(folder_of).fillna(songs["quadrant"]) != songs["quadrant"]
    for song, q in zip(songs.loc[clash, "song"], songs.loc[clash, "quadrant"]):
        rejects.add(song, "quadrant_mismatch", f"annotated {q} but stored in {folder_of[song]}/")
    songs = match_audio(songs.loc[~clash], audio, root, rejects)
    notes = []
    with_audio = songs[songs["audio"] != ""]
    note = subset_note("4Q", len(with_audio), 4 * PER_QUADRANT)
    if note:
        per_q = with_audio["quadrant"].value_counts().reindex(list(QUADRANTS), fill_value=0)
        notes.append(note + " — per quadrant " + ", ".join(f"{q} {n}/{PER_QUADRANT}" for q, n in per_q.items()))
    return Annotations(songs=finish(songs), rejects=rejects, notes=notes)


DATASET = Dataset(
    name="4q",
    title="4Q (Panda et al. 2018, MER_audio_taffc_dataset)",
    sample_rate=22050,
    sssl_max_dur=30.0,  # seed 001 Tab. 1: about 30 segments of 1 s per song
    layout=LAYOUT,
    parts=("Q1", "Q2", "Q3", "Q4", ANNOTATIONS),
    optional=("panda_dataset_taffc_metadata.csv", "readme.txt"),
    archives=(Archive("http://mir.dei.uc.pt/resources/MER_audio_taffc_dataset.zip", "MER_audio_taffc_dataset.zip"),),
    homepage="http://mir.dei.uc.pt/downloads.html",
    load=load,
    continuous=False,
)

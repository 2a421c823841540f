import pandas as pd
import pytest

from mer.errors import DataError
from mer.folds import assign_folds, strata


def table(per_class: int) -> tuple[pd.Series, pd.Series]:
    songs = [f"s{q}{i:03d}" for q in range(4) for i in range(per_class)]
    strata = [f"Q{q + 1}" for q in range(4) for _ in range(per_class)]
    return pd.Series(songs), pd.Series(strata)


def test_folds_are_stratified_by_song():
    songs, strata = table(25)
    folds = assign_folds(songs, strata, 10, seed=3)
    assert sorted(folds["song"]) == sorted(songs) and folds["fold"].between(0, 9).all()
    merged = folds.merge(pd.DataFrame({"song": songs, "q": strata}), on="song")
    per = merged.groupby(["fold", "q"]).size().unstack()
    assert per.min().min() >= 2 and per.max().max() <= 3  # 25 per class over 10 folds


def test_folds_are_deterministic_and_seeded():
    songs, strata = table(12)
    a = assign_folds(songs, strata, 4, seed=1)
    b = assign_folds(songs.sample(frac=1, random_state=0), strata.sample(frac=1, random_state=0), 4, seed=1)
    assert a.equals(b)  # input order does not matter
    assert not a.equals(assign_folds(songs, strata, 4, seed=2))


def test_more_folds_than_songs_in_a_class_is_a_clear_error():
    songs, strata = table(3)
    with pytest.raises(DataError, match=r"cv.folds = 10.*at most 3"):
        assign_folds(songs, strata, 10, seed=0)


def test_no_songs_is_an_error():
    with pytest.raises(DataError):
        assign_folds(pd.Series([], dtype=str), pd.Series([], dtype=str), 2, seed=0)


def test_four_songs_one_per_quadrant_fold_when_stratified_by_less():
    labels = pd.DataFrame({"song": ["108", "372", "634", "683"], "quadrant": ["Q1", "Q2", "Q3", "Q4"], "valence": [1, 0, 0, 1],
                           "arousal": [1, 1, 0, 0]})
    with pytest.raises(DataError, match="stratify by less"):
        assign_folds(labels["song"], strata(labels, "quadrant"), 2, seed=0)
    by_valence = assign_folds(labels["song"], strata(labels, "valence"), 2, seed=0).merge(labels, on="song")
    assert by_valence.groupby("fold")["valence"].sum().tolist() == [1, 1]  # one high-valence song per fold
    assert assign_folds(labels["song"], strata(labels, "none"), 2, seed=0)["fold"].value_counts().tolist() == [2, 2]
    with pytest.raises(DataError, match="cv.stratify"):
        strata(labels, "genre")


def test_the_number_of_folds_adapts_to_the_smallest_class():
    """24 songs, 6 per quadrant, and cv.folds 10: 6 folds, each testing a song of every quadrant, and a line saying why."""
    from mer.folds import fold_count

    songs, strata = table(6)
    assert fold_count(strata, 5) == (5, None)  # enough songs: cv.folds stands
    k, why = fold_count(strata, 10)
    assert k == 6 and why.startswith("cv.folds = 10 lowered to 6: the smallest class (Q1) has 6 songs")
    folds = assign_folds(songs, strata, k, seed=0)
    per = folds.merge(pd.DataFrame({"song": songs, "q": strata}), on="song").groupby(["fold", "q"]).size().unstack()
    assert per.shape == (6, 4) and (per == 1).all().all()
    uneven = pd.Series(["Q1"] * 9 + ["Q2"] * 3 + ["Q3"] * 5 + ["Q4"] * 4)
    assert fold_count(uneven, 10)[0] == 3
    with pytest.raises(DataError, match=r"at least 2 songs of every class.*Q2 has 1"):
        fold_count(pd.Series(["Q1", "Q1", "Q2", "Q3", "Q3"]), 10)

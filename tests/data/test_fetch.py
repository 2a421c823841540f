"""``mer.data.fetch``: bring a (tiny, fake) release into place from data.root or a download."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import socket
import threading
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import mer.data.download
from mer.data import deam, fourq, pmemo
from mer.data.base import QUADRANTS, Annotations, Archive
from mer.data.fetch import fetch, how_to_set_root, obtain, offline_message
from mer.errors import DataError, DownloadError

FOURQ = fourq.DATASET
DEAM = deam.DATASET
PMEMO = pmemo.DATASET
TOP = "MER_audio_taffc_dataset"
SR = 8000


# --------------------------------------------------------------------------- fake releases


def wav(path: Path, freq: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.05 * SR)) / SR
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR)
    return path


def make_fourq(folder: Path, per_q: int = 2, *, skip: tuple[str, ...] = (), metadata: bool = True) -> dict[str, str]:
    """A 4Q release in ``folder`` (Q1..Q4 + annotations); returns ``{song: quadrant}``."""
    labels = {}
    n = 0
    for q in QUADRANTS:
        for _ in range(per_q):
            n += 1
            song = f"MT{n:010d}"
            labels[song] = q
            if q not in skip:
                wav(folder / q / f"{song}.wav", 200.0 + 50 * n)
    if fourq.ANNOTATIONS not in skip:
        rows = "\n".join(f"{s},{q}" for s, q in labels.items())
        (folder / fourq.ANNOTATIONS).write_text(f"Song,Quadrant\n{rows}\n", encoding="latin-1")
    if metadata:
        (folder / "panda_dataset_taffc_metadata.csv").write_text("Song,Moods\nMT0000000001,happy\n")
    return labels


def make_deam(folder: Path, songs=(2, 3, 5), raters: bool = True) -> dict[str, tuple[float, float]]:
    """An unpacked DEAM release in ``folder``; returns ``{song: (valence, arousal)}`` in [0, 1]."""
    truth = {}
    rows = []
    for i, song in enumerate(songs):
        v, a = 3.0 + i, 7.0 - i
        truth[str(song)] = ((v - 1) / 8, (a - 1) / 8)
        rows.append(f"{song}, {v}, 0.5, {a}, 0.5")
        wav(folder / "MEMD_audio" / f"{song}.wav", 300.0 + 40 * i)
    avg = folder / deam.AVERAGED
    avg.mkdir(parents=True, exist_ok=True)
    (avg / deam.AVERAGED_FILES[0]).write_text(
        "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n" + "\n".join(rows) + "\n"
    )
    if raters:
        per = folder / deam.PER_RATER
        per.mkdir(parents=True, exist_ok=True)
        (per / deam.RATER_FILE).write_text(
            "workerID,SongId,Valence,Arousal\n" + "\n".join(f"w1,{s},5,5" for s in songs) + "\n"
        )
    return truth


def zip_tree(zpath: Path, folder: Path, prefix: str = "", *, junk_first: list[str] = (), dirs: bool = True) -> Path:
    """Zip every file under ``folder`` as ``prefix/<relative path>``; ``junk_first`` entries go in first."""
    zpath.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in junk_first:
            zf.writestr(name, b"\x00\x05\x16\x07 junk")
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            arc = f"{prefix}/{rel}" if prefix else rel
            if path.is_dir():
                if dirs:
                    zf.writestr(arc + "/", b"")
            else:
                zf.write(path, arc)
    return zpath


def check_fourq(dest: Path, labels: dict[str, str], metadata: bool = True) -> Annotations:
    for q in QUADRANTS:
        assert (dest / q).is_dir(), q
        assert sorted(p.name for p in (dest / q).iterdir()) == sorted(f"{s}.wav" for s, lq in labels.items() if lq == q)
    assert (dest / fourq.ANNOTATIONS).is_file()
    assert (dest / "panda_dataset_taffc_metadata.csv").is_file() == metadata
    ann = FOURQ.load(dest)
    songs = ann.songs.set_index("song")
    assert sorted(songs.index) == sorted(labels)
    assert dict(songs["quadrant"]) == labels
    for song, q in labels.items():
        assert songs.loc[song, "audio"] == f"{q}/{song}.wav"
    # the audio survived the copy / extraction intact
    y, sr = sf.read(dest / songs.iloc[0]["audio"])
    assert sr == SR and len(y) == int(0.05 * SR)
    assert ann.rejects.counts() == {}
    return ann


def check_deam(dest: Path, truth: dict[str, tuple[float, float]], raters: bool = True) -> None:
    assert sorted(p.name for p in (dest / "MEMD_audio").iterdir()) == sorted(f"{s}.wav" for s in truth)
    assert (dest / deam.AVERAGED / deam.AVERAGED_FILES[0]).is_file()
    assert (dest / deam.PER_RATER / deam.RATER_FILE).is_file() == raters
    ann = DEAM.load(dest)
    songs = ann.songs.set_index("song")
    assert sorted(songs.index) == sorted(truth)
    for song, (v, a) in truth.items():
        assert songs.loc[song, "valence"] == pytest.approx(v)
        assert songs.loc[song, "arousal"] == pytest.approx(a)
        assert songs.loc[song, "audio"] == f"MEMD_audio/{song}.wav"
    assert len(ann.raters) == (len(truth) if raters else 0)


def top_level(dest: Path) -> set[str]:
    return {p.name for p in dest.iterdir()}


FOURQ_TOP = {*QUADRANTS, fourq.ANNOTATIONS, "panda_dataset_taffc_metadata.csv"}


# --------------------------------------------------------------------------- a tiny local HTTP server


class _Serve(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_files():
    """``(files, hits, base_url)``: put ``{"/path": bytes}`` into ``files`` to serve them."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    srv.daemon_threads = True
    srv.files, srv.hits = {}, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv.files, srv.hits, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def no_sleep(monkeypatch):
    """The downloader's retry back-off, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(mer.data.download, "time", types.SimpleNamespace(sleep=waits.append))
    return waits


def closed_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------- data.root: folders


def test_root_is_release_folder(tmp_path):
    src = tmp_path / "download" / TOP
    labels = make_fourq(src)
    (src / "unrelated.txt").write_text("not part of the layout")
    (src / "extras").mkdir()
    (src / "extras" / "big.bin").write_bytes(b"x" * 10)
    dest = tmp_path / "raw" / "source"
    fetch(FOURQ, dest, src, tmp_path / "downloads")
    assert top_level(dest) == FOURQ_TOP  # only the parts (and optional ones) are copied
    check_fourq(dest, labels)
    assert (src / "Q1").is_dir()  # the source is left alone
    assert not (tmp_path / "downloads").exists()


def test_root_is_parent_folder(tmp_path):
    parent = tmp_path / "download"
    labels = make_fourq(parent / TOP, metadata=False)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, str(parent), tmp_path / "downloads")  # a str works too
    assert top_level(dest) == {*QUADRANTS, fourq.ANNOTATIONS}
    check_fourq(dest, labels, metadata=False)


def test_fetch_twice_into_same_dest(tmp_path):
    src = tmp_path / TOP
    labels = make_fourq(src)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, src, tmp_path / "dl")
    fetch(FOURQ, dest, src, tmp_path / "dl")
    check_fourq(dest, labels)


def linked_fourq(tmp_path: Path, *, files: bool = False) -> tuple[Path, dict[str, str]]:
    """A 4Q release whose Q1..Q4 are symbolic links to folders on a "shared disk" (with ``files``:
    real folders of links to the clips there), beside a real annotation table."""
    shared = tmp_path / "shared"
    labels = make_fourq(shared)
    root = tmp_path / "linked" / TOP
    root.mkdir(parents=True)
    for q in QUADRANTS:
        if files:
            (root / q).mkdir()
            for clip in (shared / q).iterdir():
                (root / q / clip.name).symlink_to(clip)
        else:
            (root / q).symlink_to(shared / q, target_is_directory=True)
    for name in (fourq.ANNOTATIONS, "panda_dataset_taffc_metadata.csv"):
        (root / name).write_bytes((shared / name).read_bytes())
    return root, labels


@pytest.mark.parametrize("files", [False, True], ids=["linked_folders", "linked_files"])
@pytest.mark.parametrize("given", ["release", "parent"])
def test_root_with_symlinked_folders_and_files(tmp_path, files, given):
    """Datasets linked in from a shared disk: the links are followed and the copy holds the clips themselves."""
    root, labels = linked_fourq(tmp_path, files=files)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, root if given == "release" else root.parent, tmp_path / "dl")
    assert top_level(dest) == FOURQ_TOP
    check_fourq(dest, labels)
    assert not any(p.is_symlink() for p in dest.rglob("*"))  # a copy, not links to the shared disk


def test_symlink_cycle_in_root_ends(tmp_path):
    src = tmp_path / TOP
    labels = make_fourq(src)
    (src / "extras").mkdir()
    (src / "extras" / "loop").symlink_to(src, target_is_directory=True)  # extras/loop/extras/loop/... forever
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, src, tmp_path / "dl")
    check_fourq(dest, labels)


def test_broken_symlink_in_root_is_named(tmp_path):
    src = tmp_path / TOP
    make_fourq(src)
    (src / "Q2" / "MT0000000099.wav").symlink_to(tmp_path / "gone.wav")
    with pytest.raises(DataError, match=r"Q2 could not be copied \(broken symbolic links\?\).*MT0000000099.wav"):
        fetch(FOURQ, tmp_path / "dest", src, tmp_path / "dl")


def test_root_is_unpacked_deam_folder(tmp_path):
    src = tmp_path / "DEAM"
    truth = make_deam(src, raters=False)
    dest = tmp_path / "dest"
    fetch(DEAM, dest, src, tmp_path / "dl")
    assert top_level(dest) == {"MEMD_audio", "annotations"}
    check_deam(dest, truth, raters=False)


# --------------------------------------------------------------------------- data.root: archives


def test_root_is_zip_with_top_folder_and_mac_junk(tmp_path):
    tree = tmp_path / "tree"
    labels = make_fourq(tree)
    # junk listed first, at the same depth as the real Q1: picked up if __MACOSX were not ignored
    junk = ["__MACOSX/Q1/._MT0000000001.wav", f"__MACOSX/{TOP}/Q1/._MT0000000001.wav", f"__MACOSX/{TOP}/._{fourq.ANNOTATIONS}"]
    archive = zip_tree(tmp_path / "my-download.zip", tree, TOP, junk_first=junk)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, archive, tmp_path / "dl")
    assert top_level(dest) == FOURQ_TOP
    assert not list(dest.rglob("._*"))
    assert not (dest / "__MACOSX").exists()
    check_fourq(dest, labels)


def test_root_is_zip_without_top_folder(tmp_path):
    tree = tmp_path / "tree"
    labels = make_fourq(tree, per_q=1)
    archive = zip_tree(tmp_path / "flat.zip", tree, "", dirs=False)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, archive, tmp_path / "dl")
    check_fourq(dest, labels)


def test_root_is_folder_holding_official_archive(tmp_path):
    tree = tmp_path / "tree"
    labels = make_fourq(tree)
    holder = tmp_path / "downloads-by-hand"
    zip_tree(holder / FOURQ.archives[0].filename, tree, TOP)
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, holder, tmp_path / "dl")
    assert top_level(dest) == FOURQ_TOP
    check_fourq(dest, labels)


def test_unpacked_layout_preferred_over_archive_beside_it(tmp_path):
    # the release is unpacked next to a (broken) copy of its archive: the layout is used
    src = tmp_path / "download"
    labels = make_fourq(src / TOP)
    (src / FOURQ.archives[0].filename).write_bytes(b"<html>not a zip</html>")
    dest = tmp_path / "dest"
    fetch(FOURQ, dest, src, tmp_path / "dl")
    check_fourq(dest, labels)


def test_deam_split_across_two_official_archives(tmp_path):
    tree = tmp_path / "tree"
    truth = make_deam(tree)
    holder = tmp_path / "deam-download"
    holder.mkdir()
    with zipfile.ZipFile(holder / "DEAM_audio.zip", "w") as zf:
        for p in sorted((tree / "MEMD_audio").iterdir()):
            zf.write(p, f"MEMD_audio/{p.name}")
    with zipfile.ZipFile(holder / "DEAM_Annotations.zip", "w") as zf:
        for p in sorted((tree / "annotations").rglob("*.csv")):
            zf.write(p, p.relative_to(tree).as_posix())
        zf.writestr("__MACOSX/annotations/._junk.csv", b"junk")
    assert [a.filename for a in DEAM.archives] == ["DEAM_audio.zip", "DEAM_Annotations.zip"]
    dest = tmp_path / "dest"
    fetch(DEAM, dest, holder, tmp_path / "dl")
    assert top_level(dest) == {"MEMD_audio", "annotations"}
    check_deam(dest, truth, raters=True)


# --------------------------------------------------------------------------- clear errors


def assert_explains(msg: str, ds, *needles: str) -> None:
    for needle in needles:
        assert needle in msg, (needle, msg)
    assert ds.layout in msg, msg
    assert "data.root" in msg
    assert f"dataset={ds.name}" in msg  # the how-to names the dataset


def test_folder_missing_a_part(tmp_path):
    src = tmp_path / TOP
    make_fourq(src, skip=("Q3",))
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as err:
        fetch(FOURQ, dest, src, tmp_path / "dl")
    msg = str(err.value)
    assert_explains(msg, FOURQ, "missing Q3", str(src))
    assert "Q1" not in msg.split("missing", 1)[1].split("\n", 1)[0]  # only what is missing is named
    assert not (dest / "Q1").exists()  # nothing copied from a release that is not usable


def test_folder_missing_annotations(tmp_path):
    src = tmp_path / TOP
    make_fourq(src, skip=(fourq.ANNOTATIONS,))
    with pytest.raises(DataError) as err:
        fetch(FOURQ, tmp_path / "dest", src, tmp_path / "dl")
    assert_explains(str(err.value), FOURQ, f"missing {fourq.ANNOTATIONS}")


def test_empty_folder_names_every_part(tmp_path):
    src = tmp_path / "empty"
    src.mkdir()
    with pytest.raises(DataError) as err:
        fetch(FOURQ, tmp_path / "dest", src, tmp_path / "dl")
    assert_explains(str(err.value), FOURQ, "missing " + ", ".join(FOURQ.parts))


def test_zip_missing_a_part(tmp_path):
    tree = tmp_path / "tree"
    make_fourq(tree, skip=("Q2", "Q4"))
    archive = zip_tree(tmp_path / "partial.zip", tree, TOP)
    with pytest.raises(DataError) as err:
        fetch(FOURQ, tmp_path / "dest", archive, tmp_path / "dl")
    assert_explains(str(err.value), FOURQ, "missing Q2, Q4", str(archive))


def test_deam_with_only_the_audio_archive(tmp_path):
    tree = tmp_path / "tree"
    make_deam(tree)
    holder = tmp_path / "holder"
    zip_tree(holder / "DEAM_audio.zip", tree / "MEMD_audio", "MEMD_audio")
    with pytest.raises(DataError) as err:
        fetch(DEAM, tmp_path / "dest", holder, tmp_path / "dl")
    msg = str(err.value)
    assert_explains(msg, DEAM, f"missing {deam.AVERAGED}")
    assert "DEAM_audio.zip" in msg


def test_nonexistent_root(tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(DataError) as err:
        fetch(FOURQ, tmp_path / "dest", missing, tmp_path / "dl")
    assert_explains(str(err.value), FOURQ, str(missing), "does not exist")


def test_root_file_that_is_not_a_zip(tmp_path):
    bogus = tmp_path / "MER_audio_taffc_dataset.zip"
    bogus.write_text("<html><body>Please log in</body></html>")
    with pytest.raises(DataError) as err:
        fetch(FOURQ, tmp_path / "dest", bogus, tmp_path / "dl")
    msg = str(err.value)
    assert str(bogus) in msg
    assert "not a zip" in msg


# --------------------------------------------------------------------------- root=None: download


def test_download_refused_explains_manual_route(tmp_path, no_sleep):
    url = f"http://127.0.0.1:{closed_port()}/MER_audio_taffc_dataset.zip"
    ds = dataclasses.replace(FOURQ, archives=(Archive(url, "x.zip"),))
    with pytest.raises(DownloadError) as err:
        fetch(ds, tmp_path / "dest", None, tmp_path / "downloads")
    msg = str(err.value)
    assert url in msg
    assert "official address" in msg
    assert_explains(msg, FOURQ)
    assert len(no_sleep) == 4  # the real downloader retried (default retries=4) before giving up
    assert not (tmp_path / "downloads" / "4q" / "x.zip").exists()


def test_download_from_local_server_and_extract(tmp_path, http_files):
    files, hits, base = http_files
    tree = tmp_path / "tree"
    labels = make_fourq(tree)
    payload = zip_tree(tmp_path / "built.zip", tree, TOP, junk_first=["__MACOSX/Q1/._x.wav"]).read_bytes()
    files["/resources/MER_audio_taffc_dataset.zip"] = payload
    archive = Archive(
        f"{base}/resources/MER_audio_taffc_dataset.zip",
        "MER_audio_taffc_dataset.zip",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    ds = dataclasses.replace(FOURQ, archives=(archive,))
    downloads = tmp_path / "downloads"
    dest = tmp_path / "dest"
    fetch(ds, dest, None, downloads)
    saved = downloads / "4q" / "MER_audio_taffc_dataset.zip"
    assert saved.read_bytes() == payload
    assert not saved.with_name(saved.name + ".part").exists()
    assert hits == ["/resources/MER_audio_taffc_dataset.zip"]
    assert top_level(dest) == FOURQ_TOP
    check_fourq(dest, labels)
    # a second fetch reuses the verified download
    fetch(ds, tmp_path / "dest2", None, downloads)
    assert len(hits) == 1
    check_fourq(tmp_path / "dest2", labels)


def test_download_of_two_deam_archives(tmp_path, http_files):
    files, hits, base = http_files
    tree = tmp_path / "tree"
    truth = make_deam(tree, raters=False)
    audio = zip_tree(tmp_path / "a.zip", tree / "MEMD_audio", "MEMD_audio").read_bytes()
    notes = zip_tree(tmp_path / "b.zip", tree / "annotations", "annotations").read_bytes()
    files["/DEAM_audio.zip"], files["/DEAM_Annotations.zip"] = audio, notes
    ds = dataclasses.replace(
        DEAM, archives=(Archive(f"{base}/DEAM_audio.zip", "DEAM_audio.zip"), Archive(f"{base}/DEAM_Annotations.zip", "DEAM_Annotations.zip"))
    )
    dest = tmp_path / "dest"
    fetch(ds, dest, None, tmp_path / "downloads")
    assert (tmp_path / "downloads" / "deam" / "DEAM_audio.zip").read_bytes() == audio
    assert (tmp_path / "downloads" / "deam" / "DEAM_Annotations.zip").read_bytes() == notes
    check_deam(dest, truth, raters=False)


def test_downloaded_page_that_is_not_a_zip(tmp_path, http_files):
    files, _, base = http_files
    files["/x.zip"] = b"<html>moved</html>"
    ds = dataclasses.replace(FOURQ, archives=(Archive(f"{base}/x.zip", "x.zip"),))
    with pytest.raises(DownloadError, match="did not return a zip archive") as err:
        fetch(ds, tmp_path / "dest", None, tmp_path / "downloads")
    assert "data.root" in str(err.value)
    assert not (tmp_path / "downloads" / "4q" / "x.zip").exists()  # not kept to poison the next run


def test_zip_member_outside_dest_is_refused(tmp_path):
    import zipfile

    src = tmp_path / "slip.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for q in ("Q1", "Q2", "Q3", "Q4"):
            zf.writestr(f"MER_audio_taffc_dataset/{q}/MT0000000001.wav", b"")
        zf.writestr("MER_audio_taffc_dataset/panda_dataset_taffc_annotations.csv", "Song,Quadrant\n")
        zf.writestr("MER_audio_taffc_dataset/Q1/../../../escaped.txt", "x")
    dest = tmp_path / "a" / "b" / "dest"
    with pytest.raises(DataError, match="outside"):
        fetch(FOURQ, dest, src, tmp_path / "downloads")
    assert not (tmp_path / "a" / "escaped.txt").exists()


def test_download_404_explains_manual_route(tmp_path, http_files, no_sleep):
    _, hits, base = http_files
    url = f"{base}/gone.zip"
    ds = dataclasses.replace(FOURQ, archives=(Archive(url, "gone.zip"),))
    with pytest.raises(DownloadError) as err:
        fetch(ds, tmp_path / "dest", None, tmp_path / "downloads")
    assert_explains(str(err.value), FOURQ, url, "404")
    assert hits == ["/gone.zip"] and no_sleep == []


def test_pmemo_has_no_download_address(tmp_path):
    assert PMEMO.archives == ()
    with pytest.raises(DownloadError) as err:
        fetch(PMEMO, tmp_path / "dest", None, tmp_path / "downloads")
    msg = str(err.value)
    assert PMEMO.homepage in msg
    assert "no direct download address" in msg
    assert_explains(msg, PMEMO)
    assert not (tmp_path / "downloads").exists()


# --------------------------------------------------------------------------- messages


def test_how_to_set_root_names_dataset():
    for ds in (FOURQ, DEAM, PMEMO):
        text = how_to_set_root(ds)
        assert f"-S dataset={ds.name}" in text
        assert "data.root" in text
        assert "params.yaml" in text


def test_offline_message_lists_every_archive_and_error():
    err = DownloadError("could not download: boom")
    msg = offline_message(DEAM, err)
    for archive in DEAM.archives:
        assert archive.url in msg
    assert "boom" in msg
    assert DEAM.title in msg
    assert_explains(msg, DEAM)


def test_offline_message_without_archives_points_at_homepage():
    msg = offline_message(PMEMO, None)
    assert PMEMO.homepage in msg
    assert_explains(msg, PMEMO)


# --------------------------------------------------------------------------- obtain


def test_obtain_fetches_and_loads(tmp_path):
    src = tmp_path / "download"
    labels = make_fourq(src / TOP)
    ann = obtain(FOURQ, tmp_path / "dest", root=src, synth_params={}, seed=0, downloads=tmp_path / "dl")
    assert isinstance(ann, Annotations)
    assert dict(zip(ann.songs["song"], ann.songs["quadrant"])) == labels
    assert (ann.songs["audio"] != "").all()
    assert any("subset" in n for n in ann.notes)  # 8 of 900 clips


def test_obtain_reports_malformed_table(tmp_path):
    # a loader tripping over a malformed table (KeyError / ValueError) becomes a DataError naming the dataset
    def load(root):
        raise KeyError("valence_mean")

    src = tmp_path / "download"
    make_fourq(src / TOP)
    ds = dataclasses.replace(FOURQ, load=load)
    with pytest.raises(DataError) as err:
        obtain(ds, tmp_path / "dest", root=src, synth_params={}, seed=0, downloads=tmp_path / "dl")
    msg = str(err.value)
    assert FOURQ.title in msg
    assert "KeyError" in msg and "valence_mean" in msg
    assert FOURQ.layout in msg


def test_obtain_with_deam_table_missing_columns(tmp_path):
    src = tmp_path / "DEAM"
    make_deam(src, raters=False)
    table = src / deam.AVERAGED / deam.AVERAGED_FILES[0]
    table.write_text("song_id, valence, arousal\n2, 3, 4\n")  # wrong column names
    with pytest.raises(DataError):
        obtain(DEAM, tmp_path / "dest", root=src, synth_params={}, seed=0, downloads=tmp_path / "dl")


def test_obtain_generates_instead_of_fetching(tmp_path):
    calls = []

    def generate(dest, params, seed):
        calls.append((dest, params, seed))
        make_fourq(dest, per_q=1)

    ds = dataclasses.replace(FOURQ, generate=generate, archives=())
    dest = tmp_path / "dest"
    ann = obtain(ds, dest, root=tmp_path / "ignored", synth_params={"k": 1}, seed=7, downloads=tmp_path / "dl")
    assert calls == [(dest, {"k": 1}, 7)]
    assert len(ann.songs) == 4
    assert not (tmp_path / "dl").exists()

"""Bring a dataset release into ``data/raw/source``: from ``data.root`` or its official address.

``data.root`` may be the dataset folder itself, a folder above it, a folder that
holds the official archive(s), or one zip archive. Only the parts of the layout
the pipeline reads are copied or extracted (see each dataset's ``parts``).
"""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from mer.data.base import Dataset, walk_files
from mer.data.download import download
from mer.errors import DataError, DownloadError

log = logging.getLogger(__name__)
MAX_DEPTH = 4


def _locate(listing: list[PurePosixPath], part: str) -> PurePosixPath | None:
    """Shallowest path in ``listing`` that ends with ``part`` (directories are implied by files)."""
    want = PurePosixPath(part).parts
    best: PurePosixPath | None = None
    for path in listing:
        parts = path.parts
        for end in range(len(want), len(parts) + 1):
            if parts[end - len(want) : end] == want:
                candidate = PurePosixPath(*parts[:end])
                if best is None or len(candidate.parts) < len(best.parts):
                    best = candidate
                break
    return best


def _folder_listing(root: Path) -> list[PurePosixPath]:
    """Files under ``root`` (symbolic links to folders and files followed), relative to it."""
    return [PurePosixPath(*path.relative_to(root).parts) for path in walk_files(root, MAX_DEPTH)]


def _zip_listing(zf: zipfile.ZipFile) -> list[PurePosixPath]:
    return [PurePosixPath(n) for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]


def _plan(ds: Dataset, listing: list[PurePosixPath]) -> dict[str, PurePosixPath]:
    """``{part: where it is in the listing}`` for every part found."""
    found = {}
    for part in (*ds.parts, *ds.optional):
        where = _locate(listing, part)
        if where is not None:
            found[part] = where
    return found


def _missing_message(ds: Dataset, where: str, missing: list[str]) -> str:
    return (
        f"{where} does not look like the {ds.title} release: missing {', '.join(missing)}.\n"
        f"Expected layout:\n{ds.layout}"
    )


def _copy_folder(ds: Dataset, src: Path, dest: Path) -> None:
    plan = _plan(ds, _folder_listing(src))
    missing = [p for p in ds.parts if p not in plan]
    if missing:
        raise DataError(_missing_message(ds, f"data.root {src}", missing) + how_to_set_root(ds))
    for part, where in plan.items():
        source, target = src / where, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        try:  # both follow symbolic links: the copy holds the files linked to
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)
        except shutil.Error as exc:  # every file copytree could not copy, e.g. broken links
            failed = exc.args[0]
            raise DataError(
                f"data.root {src}: {len(failed)} file(s) of {part} could not be copied (broken symbolic links?), "
                f"e.g. {failed[0][0]}: {failed[0][2]}"
            ) from None
        except OSError as exc:
            raise DataError(f"data.root {src}: {source} could not be copied (a broken symbolic link?): {exc}") from None


def _extract(ds: Dataset, archives: list[Path], dest: Path) -> None:
    plans = []
    for archive in archives:
        if not zipfile.is_zipfile(archive):
            raise DataError(f"{archive} is not a zip archive (a partial download or an HTML page?)")
        with zipfile.ZipFile(archive) as zf:
            plans.append((archive, _plan(ds, _zip_listing(zf))))
    found = {part for _, plan in plans for part in plan}
    missing = [p for p in ds.parts if p not in found]
    if missing:
        names = ", ".join(str(a) for a in archives)
        raise DataError(_missing_message(ds, names, missing) + how_to_set_root(ds))
    for archive, plan in plans:
        with zipfile.ZipFile(archive) as zf:
            for member in _zip_listing(zf):
                for part, where in plan.items():
                    prefix = where.as_posix()
                    name = member.as_posix()
                    if name == prefix or name.startswith(prefix + "/"):
                        target = dest / part / name[len(prefix) :].lstrip("/") if name != prefix else dest / part
                        if not target.resolve().is_relative_to(dest.resolve()):
                            raise DataError(f"{archive}: member {name!r} would be written outside {dest}; refusing to extract")
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with zf.open(member.as_posix()) as src, open(target, "wb") as out:
                            shutil.copyfileobj(src, out, 1 << 20)
                        break


def how_to_set_root(ds: Dataset) -> str:
    return (
        f"\nTo use a manual download, point data.root at its folder or zip archive, e.g.\n"
        f"  dvc exp run -S dataset={ds.name} -S data.root=/path/to/{ds.name}-download\n"
        f"or set `data: {{root: ...}}` in params.yaml and run `dvc repro`."
    )


def offline_message(ds: Dataset, error: Exception | None) -> str:
    if ds.archives:
        where = "\n".join(f"  {a.url}" for a in ds.archives)
        head = f"Could not download the {ds.title} dataset from its official address:\n{where}\n({error})"
    else:
        head = (
            f"The {ds.title} dataset has no direct download address; get it from\n  {ds.homepage}"
        )
    return f"{head}\nExpected layout:\n{ds.layout}{how_to_set_root(ds)}"


def fetch(ds: Dataset, dest: Path, root: str | Path | None, downloads: Path) -> None:
    """Fill ``dest`` with the parts of the release; raise a clear error if impossible."""
    dest.mkdir(parents=True, exist_ok=True)
    if root is not None:
        src = Path(root)
        if not src.exists():
            raise DataError(f"data.root {src} does not exist.\nExpected layout:\n{ds.layout}{how_to_set_root(ds)}")
        if src.is_file():
            _extract(ds, [src], dest)
            return
        archives = [src / a.filename for a in ds.archives if (src / a.filename).is_file()]
        if archives and _locate(_folder_listing(src), ds.parts[0]) is None:
            _extract(ds, archives, dest)
        else:
            _copy_folder(ds, src, dest)
        return
    if not ds.archives:
        raise DownloadError(offline_message(ds, None))
    paths = []
    for archive in ds.archives:
        try:
            path = download(archive.url, downloads / ds.name / archive.filename, size=archive.size, sha256=archive.sha256)
        except DownloadError as exc:
            raise DownloadError(offline_message(ds, exc)) from None
        if not zipfile.is_zipfile(path):  # e.g. an HTML error page served with status 200: do not keep it
            path.unlink()
            raise DownloadError(offline_message(ds, f"{archive.url} did not return a zip archive"))
        paths.append(path)
    _extract(ds, paths, dest)


def obtain(ds: Dataset, dest: Path, *, root: Path | None, synth_params, seed: int, downloads: Path, data_params=None):
    """Generate (synthetic), gather (the user's own folder, by the ``data`` params) or fetch (real)
    the release into ``dest`` and load its annotations."""
    if ds.generate is not None:
        ds.generate(dest, synth_params, seed)
    elif ds.gather is not None:
        ds.gather(dest, root, data_params or {})
    else:
        fetch(ds, dest, root, downloads)
    try:
        return ds.load(dest)
    except (KeyError, ValueError) as exc:  # malformed tables: name the dataset and the problem
        raise DataError(f"{ds.title}: cannot read its annotation tables ({type(exc).__name__}: {exc}).\nExpected layout:\n{ds.layout}") from None

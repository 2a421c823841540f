"""HTTP(S) download with retries, resume, size/checksum checks and an atomic move.

The bytes go to ``<dest>.part``; an interrupted transfer resumes from there with
a ``Range`` request. Only a complete, verified file is renamed to ``dest``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

from tqdm import tqdm

from mer.errors import DownloadError

log = logging.getLogger(__name__)
CHUNK = 1 << 20


def sha256sum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _total_size(response, offset: int) -> int | None:
    """Full size of the resource from Content-Range (206) or Content-Length (200)."""
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and not content_range.endswith("/*"):
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return int(length) + offset if length is not None else None


def _transfer(url: str, part: Path, timeout: float) -> int | None:
    """One attempt: append to ``part`` from where it stops. Returns the expected total size."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "mer-dataset-fetch/1"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range past the end: complete only if the sizes agree
            total = exc.headers.get("Content-Range", "").rpartition("/")[2]
            if total.isdigit() and int(total) == offset:
                return offset
            part.unlink()  # a stale or foreign part file: start over
        raise
    with response:
        status = getattr(response, "status", 200)
        if offset and status != 206:  # server ignored the range: start over
            offset = 0
        total = _total_size(response, offset if status == 206 else 0)
        mode = "ab" if offset else "wb"
        with open(part, mode) as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, desc=part.name[:-5], file=sys.stderr, disable=None
        ) as bar:
            while True:
                block = response.read(CHUNK)
                if not block:
                    break
                f.write(block)
                bar.update(len(block))
    return total


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    size: int | None = None,
    sha256: str | None = None,
    retries: int = 4,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Path:
    """Fetch ``url`` to ``dest`` (kept if already there and valid). Raises :class:`DownloadError`."""
    dest = Path(dest)
    if dest.exists() and (size is None or dest.stat().st_size == size) and (sha256 is None or sha256sum(dest) == sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        try:
            total = _transfer(url, part, timeout)
            got = part.stat().st_size
            expected = size if size is not None else total
            if expected is not None and got < expected:
                raise DownloadError(f"transfer ended early ({got} of {expected} bytes)")
            if expected is not None and got > expected:
                part.unlink()
                raise DownloadError(f"received {got} bytes, expected {expected}; discarded")
            if sha256 is not None and sha256sum(part) != sha256:
                part.unlink()
                raise DownloadError("sha256 checksum mismatch; discarded")
            os.replace(part, dest)
            return dest
        except (TimeoutError, urllib.error.URLError, HTTPException, ConnectionError, OSError, DownloadError) as exc:
            last_error = exc
            if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403, 404, 410):
                break  # retrying will not help
            if attempt < retries:
                wait = backoff * 2**attempt
                log.warning("download of %s failed (%s); retry %d/%d in %.0f s", url, exc, attempt + 1, retries, wait)
                time.sleep(wait)
    raise DownloadError(f"could not download {url}: {last_error}")

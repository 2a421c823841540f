"""``mer.data.download.download`` against a local HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
import types

import pytest

import mer.data.download as dl
from mer.data.download import download
from mer.errors import DownloadError

PAYLOAD = bytes(range(256)) * 40 + b"tail-of-the-payload"  # 10259 bytes, no repeating prefix at the end


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload`` at any path; behaviour is set on the server object."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append({"path": self.path, "range": self.headers.get("Range")})
            n = len(srv.requests)
        if n <= srv.fail_first:
            return self._error(503)
        if srv.status_404:
            return self._error(404)
        body = srv.payload
        start = 0
        rng = self.headers.get("Range")
        if rng and not srv.ignore_range:
            assert rng.startswith("bytes=") and rng.endswith("-"), rng
            start = int(rng[len("bytes=") : -1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        chunk = body[start:]
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if n == srv.fail_first + 1 and srv.cut_after is not None:
            # correct Content-Length, but the connection ends after cut_after bytes
            self.wfile.write(chunk[: srv.cut_after])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(chunk)

    def _error(self, code):
        body = f"error {code}".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    """A configurable server: set ``fail_first``, ``cut_after``, ``status_404``, ``ignore_range``."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.payload = PAYLOAD
    srv.requests = []
    srv.lock = threading.Lock()
    srv.fail_first = 0
    srv.cut_after = None
    srv.status_404 = False
    srv.ignore_range = False
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/files/release.zip"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def get(srv, dest, **kw):
    kw.setdefault("backoff", 0)
    kw.setdefault("timeout", 5)
    return download(srv.url, dest, **kw)


def part_of(dest):
    return dest.with_name(dest.name + ".part")


def test_plain_download(server, tmp_path):
    dest = tmp_path / "sub" / "release.zip"  # parent folder is created
    out = get(server, dest)
    assert out == dest
    assert dest.read_bytes() == PAYLOAD
    assert not part_of(dest).exists()
    assert len(server.requests) == 1
    assert server.requests[0]["range"] is None
    assert server.requests[0]["path"] == "/files/release.zip"


def test_resume_from_part_file(server, tmp_path):
    dest = tmp_path / "release.zip"
    n = 4000
    part_of(dest).write_bytes(PAYLOAD[:n])
    get(server, dest)
    assert [r["range"] for r in server.requests] == [f"bytes={n}-"]
    assert dest.read_bytes() == PAYLOAD
    assert not part_of(dest).exists()


def test_complete_part_file_answered_416(server, tmp_path):
    dest = tmp_path / "release.zip"
    part_of(dest).write_bytes(PAYLOAD)
    get(server, dest, size=len(PAYLOAD))
    assert [r["range"] for r in server.requests] == [f"bytes={len(PAYLOAD)}-"]
    assert dest.read_bytes() == PAYLOAD
    assert not part_of(dest).exists()


def test_stale_longer_part_file_is_discarded(server, tmp_path):
    dest = tmp_path / "release.zip"
    part_of(dest).write_bytes(b"stale" * (len(PAYLOAD) // 4))  # longer than the real file
    get(server, dest)  # no size known up front: the 416's Content-Range tells the truth
    assert dest.read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests][-1] is None  # started over without a range


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.ignore_range = True
    dest = tmp_path / "release.zip"
    part_of(dest).write_bytes(PAYLOAD[:3000])
    get(server, dest, retries=0)  # right the first time, not after discarding a bad attempt
    assert [r["range"] for r in server.requests] == ["bytes=3000-"]  # it asked, the server sent it all
    assert dest.read_bytes() == PAYLOAD  # no duplicated prefix
    assert not part_of(dest).exists()


def test_interrupted_transfer_is_resumed(server, tmp_path):
    server.cut_after = 5000
    dest = tmp_path / "release.zip"
    get(server, dest, retries=3)
    assert dest.read_bytes() == PAYLOAD
    assert not part_of(dest).exists()
    assert len(server.requests) == 2
    assert server.requests[0]["range"] is None
    assert server.requests[1]["range"] == "bytes=5000-"


def test_interrupted_transfer_without_retries_fails_and_keeps_part(server, tmp_path):
    server.cut_after = 5000
    dest = tmp_path / "release.zip"
    with pytest.raises(DownloadError, match="ended early"):
        get(server, dest, retries=0)
    assert not dest.exists()
    assert part_of(dest).read_bytes() == PAYLOAD[:5000]  # kept for a later resume
    # a later call picks up where it stopped
    get(server, dest)
    assert server.requests[-1]["range"] == "bytes=5000-"
    assert dest.read_bytes() == PAYLOAD


def test_transient_503_is_retried(server, tmp_path):
    server.fail_first = 2
    dest = tmp_path / "release.zip"
    get(server, dest, retries=2)
    assert dest.read_bytes() == PAYLOAD
    assert len(server.requests) == 3


def test_503_without_retries_raises(server, tmp_path):
    server.fail_first = 2
    dest = tmp_path / "release.zip"
    with pytest.raises(DownloadError) as err:
        get(server, dest, retries=0)
    assert server.url in str(err.value)
    assert "503" in str(err.value)
    assert len(server.requests) == 1
    assert not dest.exists()


def test_too_many_503_exhausts_retries(server, tmp_path):
    server.fail_first = 10
    with pytest.raises(DownloadError):
        get(server, tmp_path / "release.zip", retries=2)
    assert len(server.requests) == 3


def test_retry_backoff_doubles(server, tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr(dl, "time", types.SimpleNamespace(sleep=waits.append))  # this module's sleep only
    server.fail_first = 3
    get(server, tmp_path / "release.zip", retries=3, backoff=0.5)
    assert waits == [0.5, 1.0, 2.0]


def test_404_is_not_retried(server, tmp_path):
    server.status_404 = True
    dest = tmp_path / "release.zip"
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as err:
        download(server.url, dest, retries=4, backoff=5, timeout=5)  # a retry would sleep 5 s
    assert time.monotonic() - t0 < 4
    assert len(server.requests) == 1
    assert server.url in str(err.value)
    assert "404" in str(err.value)
    assert not dest.exists()


def test_size_mismatch_raises_and_leaves_no_dest(server, tmp_path):
    dest = tmp_path / "release.zip"
    with pytest.raises(DownloadError) as err:
        get(server, dest, size=len(PAYLOAD) - 10, retries=1)
    assert server.url in str(err.value)
    assert not dest.exists()
    assert not part_of(dest).exists()  # an over-long transfer is discarded


def test_size_larger_than_served_raises(server, tmp_path):
    dest = tmp_path / "release.zip"
    with pytest.raises(DownloadError, match="ended early"):
        get(server, dest, size=len(PAYLOAD) + 10, retries=1)
    assert not dest.exists()


def test_sha256_mismatch_raises_and_leaves_no_dest(server, tmp_path):
    dest = tmp_path / "release.zip"
    with pytest.raises(DownloadError, match="sha256"):
        get(server, dest, sha256="0" * 64, retries=1)
    assert not dest.exists()
    assert not part_of(dest).exists()
    assert len(server.requests) == 2  # a mismatch is retried from scratch


def test_correct_sha256_and_size_pass(server, tmp_path):
    dest = tmp_path / "release.zip"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    get(server, dest, size=len(PAYLOAD), sha256=digest)
    assert dest.read_bytes() == PAYLOAD
    assert dl.sha256sum(dest) == digest


def test_existing_valid_dest_is_kept_without_request(server, tmp_path):
    dest = tmp_path / "release.zip"
    dest.write_bytes(PAYLOAD)
    mtime = dest.stat().st_mtime_ns
    get(server, dest, size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert server.requests == []
    assert dest.stat().st_mtime_ns == mtime


def test_existing_dest_without_checks_is_kept(server, tmp_path):
    dest = tmp_path / "release.zip"
    dest.write_bytes(b"whatever was there")
    get(server, dest)
    assert server.requests == []
    assert dest.read_bytes() == b"whatever was there"


def test_existing_invalid_dest_is_replaced(server, tmp_path):
    dest = tmp_path / "release.zip"
    dest.write_bytes(b"truncated")
    get(server, dest, size=len(PAYLOAD))
    assert len(server.requests) == 1
    assert dest.read_bytes() == PAYLOAD


def test_existing_dest_with_wrong_checksum_is_replaced(server, tmp_path):
    dest = tmp_path / "release.zip"
    dest.write_bytes(bytes(len(PAYLOAD)))  # right size, wrong bytes
    get(server, dest, size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert len(server.requests) == 1
    assert dest.read_bytes() == PAYLOAD


@pytest.fixture
def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_names_url(tmp_path, closed_port):
    url = f"http://127.0.0.1:{closed_port}/MER_audio_taffc_dataset.zip"
    dest = tmp_path / "x.zip"
    with pytest.raises(DownloadError) as err:
        download(url, dest, retries=2, backoff=0, timeout=5)
    assert url in str(err.value)
    assert not dest.exists()

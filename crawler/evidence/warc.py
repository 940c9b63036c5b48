"""Writing and reading WARC records with warcio: one gzip WARC file per run, records appended in order.

Each record is its own gzip member (warcio writes them so), which is what lets an export or a pruned
file be made by copying byte ranges `[offset, offset + length)` without recompressing anything. The
payload is stored exactly as it came over the wire (a gzip-encoded answer stays gzip-encoded, as WARC
and replay tools expect); its SHA-256 is taken over those bytes and also written as the record's
`WARC-Payload-Digest` (`sha256:` + base32, the WARC 1.1 form).

Request records (needed by replay tools that look POST answers up by their body) are written only
with EVIDENCE_REQUEST_RECORDS: each is its own gzip member of mostly headers, which for a comment API
answer of a few kilobytes costs half as much again as the answer. Without them the response record
still says what was asked, in a `WARC-Pandawatch-Request` header (method and form body).

Writes run in one background thread: compressing a page costs milliseconds, the crawl need not wait
for it, and one worker keeps records in the order they were handed over (offsets stay sequential).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

#: Hop-by-hop headers that describe the transfer, not the payload we store (chunking is undone).
DROPPED_HEADERS = frozenset({"transfer-encoding", "connection", "keep-alive"})


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _warc_digest(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass
class Capture:
    """One HTTP exchange to record: what was asked and what came back."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: str  # ISO-8601 UTC
    method: str = "GET"
    #: the request's headers: written as a request record of its own only when given (see RunWarc)
    request_headers: list[tuple[str, str]] | None = None
    request_body: bytes = b""
    source: str = "http"  # http, browser (a page Chromium rendered), xhr (an answer the page fetched)
    parent_record_id: str | None = None  # for xhr: the browser page that made the request
    protocol: str = "HTTP/1.1"


@dataclass
class WrittenRecord:
    """Where a capture landed: a row of the `evidence` table."""

    record_id: str
    warc_path: str
    offset: int
    length: int
    url: str
    status: int
    sha256: str
    payload_bytes: int
    fetched_at: str
    source: str
    parent_record_id: str | None


def _body_text(body: bytes) -> str:
    """A request body on one header line: as is when it is printable ASCII (a form), else base64."""
    if all(0x20 < b < 0x7F for b in body):
        return body.decode("ascii")
    return "base64:" + base64.b64encode(body).decode("ascii")


def _warc_date(iso_time: str) -> str:
    # WARC-Date is W3C-ISO8601 with a Z; our times are "+00:00"
    return iso_time.replace("+00:00", "Z")


class RunWarc:
    """A WARC file being written for one run; `add` returns the record id at once, the write follows."""

    def __init__(self, path: Path, stored_path: str, software: str = "Panda Watch"):
        self.path = path
        self.stored_path = stored_path  # as recorded in the evidence table (relative to the database)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # noqa: SIM115 - open for the run's lifetime
        self._writer = WARCWriter(self._file, gzip=True)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc")
        self._lock = threading.Lock()
        self._pending: list[Future] = []
        self.written: list[WrittenRecord] = []
        self.errors: list[str] = []
        self.bytes_written = 0
        info = self._writer.create_warcinfo_record(
            path.name, {"software": software, "format": "WARC File Format 1.1"}
        )
        self._writer.write_record(info)
        self.bytes_written = self._file.tell()

    def add(self, capture: Capture) -> str:
        record_id = new_record_id()
        self._pending.append(self._pool.submit(self._write, record_id, capture))
        if len(self._pending) > 256:
            self._pending = [f for f in self._pending if not f.done()]
        return record_id

    def _write(self, record_id: str, capture: Capture) -> None:
        try:
            self._write_records(record_id, capture)
        except Exception as exc:  # a record we cannot write must not stop the crawl; it is reported
            self.errors.append(f"{capture.url}: {type(exc).__name__}: {exc}")

    def _write_records(self, record_id: str, capture: Capture) -> None:
        writer = self._writer
        try:
            phrase = HTTPStatus(capture.status).phrase
        except ValueError:
            phrase = ""
        headers = [(k, v) for k, v in capture.headers if k.lower() not in DROPPED_HEADERS]
        http_headers = StatusAndHeaders(
            f"{capture.status} {phrase}".strip(), headers, protocol=capture.protocol
        )
        warc_headers = {
            "WARC-Record-ID": record_id,
            "WARC-Date": _warc_date(capture.fetched_at),
            "WARC-Payload-Digest": _warc_digest(capture.body),
            "WARC-Pandawatch-Source": capture.source,
        }
        if capture.method != "GET" or capture.request_body:
            # What was asked travels with the answer even without a request record: a comment API
            # answer means nothing without the form (which article, which page) that asked for it.
            warc_headers["WARC-Pandawatch-Request"] = f"{capture.method} {_body_text(capture.request_body)}"
        if capture.parent_record_id:
            warc_headers["WARC-Concurrent-To"] = capture.parent_record_id
        response = writer.create_warc_record(
            capture.url,
            "response",
            payload=BytesIO(capture.body),
            length=len(capture.body),
            warc_headers_dict=warc_headers,
            http_headers=http_headers,
        )
        request = None
        if capture.request_headers is not None:
            path = capture.url.split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else "/"
            request = writer.create_warc_record(
                capture.url,
                "request",
                payload=BytesIO(capture.request_body),
                length=len(capture.request_body),
                warc_headers_dict={"WARC-Date": _warc_date(capture.fetched_at)},
                http_headers=StatusAndHeaders(
                    f"{capture.method} {path} HTTP/1.1",
                    list(capture.request_headers),
                    is_http_request=True,
                ),
            )
        with self._lock:
            offset = self._file.tell()
            writer.write_record(response)
            length = self._file.tell() - offset
            if request is not None:
                request.rec_headers.add_header("WARC-Concurrent-To", record_id)
                writer.write_record(request)
            self.bytes_written = self._file.tell()
            self.written.append(
                WrittenRecord(
                    record_id=record_id,
                    warc_path=self.stored_path,
                    offset=offset,
                    length=length,
                    url=capture.url,
                    status=capture.status,
                    sha256=sha256_hex(capture.body),
                    payload_bytes=len(capture.body),
                    fetched_at=capture.fetched_at,
                    source=capture.source,
                    parent_record_id=capture.parent_record_id,
                )
            )

    def drain(self) -> list[WrittenRecord]:
        """Records written since the last drain (waits for none: the caller stores what is done)."""
        with self._lock:
            done, self.written = self.written, []
        return done

    def close(self) -> list[WrittenRecord]:
        """Wait for every pending write, close the file, return the records not drained yet."""
        self._pool.shutdown(wait=True)
        self._file.close()
        return self.drain()


def read_record_bytes(path: Path, offset: int, length: int) -> bytes:
    """The raw (gzip member) bytes of one record."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def read_payload(path: Path, offset: int) -> tuple[dict, bytes]:
    """(WARC headers, payload exactly as stored) of the record at `offset`."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)))
        headers = dict(record.rec_headers.headers)
        return headers, record.raw_stream.read()


def write_export(target: Path, chunks: list[bytes], description: str) -> None:
    """A WARC file of a warcinfo record followed by copied records (gzip members, as stored)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(
                target.name, {"software": "Panda Watch", "description": description}
            )
        )
        for chunk in chunks:
            handle.write(chunk)

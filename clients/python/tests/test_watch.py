"""WatchCatalogChanges: a subscriber cut off in the middle of the replay resumes after the last
revision it saw and, through a month published while it listens, misses nothing and sees nothing
twice (on a server of its own: publishing a month changes the catalog the other tests read, and
a month publishes once; it sends progress every 200 ms when idle); and the README's subscriber
(examples/watch.py).

The demo month the server seeds at start is the first month published, which writes no change
event: the log starts empty at revision 0. The tests publish months to replay first: 2026-12
(280 changes on the demo data), then the 2026-11 files again as 2027-01 (247 changes back):
527 changes, at least two batches (at most 500 each). The month published live is the 2026-12
files again, as 2027-02."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import grpc
import pytest

from conftest import REPO_ROOT, Server, kill_and_restart, running_server
from csp.commerce.v1 import catalog_pb2, catalog_pb2_grpc
from support import request_id

NOVEMBER = REPO_ROOT / "data" / "demo" / "2026-11"
DECEMBER = REPO_ROOT / "data" / "demo" / "2026-12"
# The months published before subscribing, for the replay: (month, the demo folder of its files).
REPLAYED = [("2026-12", DECEMBER), ("2027-01", NOVEMBER)]
MARKETS = ["US", "DE", "FR", "GB", "IE", "JP", "SK"]
# The deadline of each stream, so a read that stalls fails the test instead of hanging it.
STREAM_DEADLINE_S = 15
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "watch.py"


@pytest.fixture
def watch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("csp-commerce-watch")
    with running_server(tmp, {"CSP_WATCH_PROGRESS_INTERVAL_MS": "200"}) as srv:
        yield srv


def upload_messages(month: str, folder: Path, markets: list[str]) -> Iterator[catalog_pb2.UploadMonthRequest]:
    """An UploadMonth stream: the header, then each file in 256 KiB chunks."""
    paths = [folder / "offer-matrix.csv"] + [folder / f"pricelist-{m}.csv" for m in markets]
    kinds = [catalog_pb2.IMPORT_FILE_KIND_OFFER_MATRIX] + [catalog_pb2.IMPORT_FILE_KIND_PRICE_LIST] * len(markets)
    yield catalog_pb2.UploadMonthRequest(
        header=catalog_pb2.UploadMonthHeader(
            request_id=request_id(),
            month=month,
            files=[catalog_pb2.ImportFile(name=p.name, kind=k) for p, k in zip(paths, kinds)],
        )
    )
    for index, path in enumerate(paths):
        with path.open("rb") as f:
            while data := f.read(256 * 1024):
                yield catalog_pb2.UploadMonthRequest(chunk=catalog_pb2.UploadMonthChunk(file_index=index, data=data))


def auth(server: Server, partner: str, role: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {server.token(partner, role)}")]


def publish(server: Server, month: str, folder: Path) -> catalog_pb2.PublishMonthResponse:
    """Uploads the demo files of `folder` as `month` and publishes it (a catalog_admin call)."""
    with grpc.insecure_channel(server.address) as channel:
        admin = catalog_pb2_grpc.CatalogAdminServiceStub(channel)
        admin_auth = auth(server, "", "catalog_admin")
        admin.UploadMonth(upload_messages(month, folder, MARKETS), metadata=admin_auth, timeout=STREAM_DEADLINE_S)
        return admin.PublishMonth(
            catalog_pb2.PublishMonthRequest(request_id=request_id(), month=month),
            metadata=admin_auth,
            timeout=STREAM_DEADLINE_S,
        )


@pytest.fixture
def replay_server(watch_server: Server) -> Server:
    """watch_server with REPLAYED published: a change log to replay, more than a batch long."""
    last = 0
    for month, folder in REPLAYED:
        published = publish(watch_server, month, folder)
        assert published.first_revision == last + 1, (month, published)
        assert published.last_revision > published.first_revision, (month, published)
        last = published.last_revision
    wait_for_head(watch_server, last)
    return watch_server


def wait_for_head(server: Server, revision: int) -> None:
    """Waits until the server's change feed has broadcast `revision`: PublishMonth returns once
    the month is stored, and the feed reads it from the log just after. A stream started before
    may report progress at the previous head, then get the month live."""
    deadline = time.monotonic() + STREAM_DEADLINE_S
    while (head := current_revision(server)) < revision:
        assert time.monotonic() < deadline, f"the feed is at {head}, not at {revision}"
        time.sleep(0.05)


def watch(
    catalog: catalog_pb2_grpc.CatalogServiceStub, server: Server, **start: object
) -> grpc.Call:
    return catalog.WatchCatalogChanges(
        catalog_pb2.WatchCatalogChangesRequest(**start),
        metadata=auth(server, "us", "sales_agent"),
        timeout=STREAM_DEADLINE_S,
    )


def assert_exactly(seen: list[int], last: int) -> None:
    """`seen` is 1..=last in order: no gap, no duplicate."""
    if seen == list(range(1, last + 1)):
        return
    duplicates = sorted(r for r, n in Counter(seen).items() if n > 1)
    missing = sorted(set(range(1, last + 1)) - set(seen))
    unordered = [(a, b) for a, b in zip(seen, seen[1:]) if b <= a]
    raise AssertionError(
        f"{len(seen)} revisions, expected 1..={last}: duplicates {duplicates[:20]}, "
        f"missing {missing[:20]}, out of order {unordered[:20]}, beyond {[r for r in seen if r > last][:20]}"
    )


def test_the_seeded_month_wrote_no_change(watch_server):
    """The first month published (the demo's 2026-11, at start) writes no change event: from
    revision 0 the stream is caught up at once, at 0."""
    with grpc.insecure_channel(watch_server.address) as channel:
        stream = watch(catalog_pb2_grpc.CatalogServiceStub(channel), watch_server, after_revision=0)
        try:
            message = next(stream)
        finally:
            stream.cancel()
    assert message.WhichOneof("event") == "progress", message
    assert message.progress.current_revision == 0, message


def test_a_subscriber_cut_off_mid_replay_resumes_without_loss_or_duplicate(replay_server):
    watch_server = replay_server
    with grpc.insecure_channel(watch_server.address) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        seen: list[int] = []

        # From the beginning (the REPLAYED months' 527 changes, two batches or more); hang up
        # after the first batch, in the middle of the replay.
        first = watch(catalog, watch_server, after_revision=0)
        message = next(first)
        assert message.WhichOneof("event") == "changes", f"no change to replay: {message}"
        assert 0 < len(message.changes.changes) <= 500
        seen += [c.revision for c in message.changes.changes]
        first.cancel()
        assert first.code() == grpc.StatusCode.CANCELLED
        cut = seen[-1]

        # Resume after the last revision seen: the rest of the replay, then progress.
        resumed = watch(catalog, watch_server, after_revision=cut)
        try:
            while (message := next(resumed)).WhichOneof("event") == "changes":
                seen += [c.revision for c in message.changes.changes]
            head = message.progress.current_revision
            assert cut < head, f"cut off at {cut}, which was not in the middle of the replay (head {head})"
            assert_exactly(seen, head)

            # A month published while subscribed arrives live (the 2026-12 files again).
            published = publish(watch_server, "2027-02", DECEMBER)
            assert published.first_revision == head + 1, published
            assert published.last_revision > published.first_revision, published
            while seen[-1] < published.last_revision:
                message = next(resumed)
                if message.WhichOneof("event") == "changes":
                    seen += [c.revision for c in message.changes.changes]
                else:  # idle progress: never ahead of what was delivered
                    assert message.progress.current_revision == seen[-1], (message, seen[-1])
        finally:
            resumed.cancel()
        assert_exactly(seen, published.last_revision)


class Example:
    """examples/watch.py running against `server`, its stdout read line by line."""

    def __init__(self, server: Server, after: int) -> None:
        env = dict(os.environ, CSP_ADDR=server.address, CSP_TOKEN=server.token("us", "sales_agent"))
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(EXAMPLE), str(after)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.out: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self) -> str:
        line = self._lines.get(timeout=STREAM_DEADLINE_S)
        assert line is not None, f"the example exited: {self.out}\n{self.process.stderr.read()}"  # type: ignore[union-attr]
        self.out.append(line)
        return line

    def stop(self) -> str:
        """Kills the example; returns what it wrote to stderr."""
        self.process.kill()
        self.process.wait()
        return self.process.stderr.read()  # type: ignore[union-attr]


def current_revision(server: Server) -> int:
    with grpc.insecure_channel(server.address) as channel:
        now = watch(catalog_pb2_grpc.CatalogServiceStub(channel), server, from_now=True)
        head = next(now).progress.current_revision
        now.cancel()
    return head


def test_the_watch_example_replays_then_reports_caught_up(replay_server):
    head = current_revision(replay_server)
    assert head > 3
    example = Example(replay_server, head - 3)
    try:
        while not example.next_line().startswith("caught up"):
            pass
    finally:
        example.stop()
    out = example.out
    assert [line.split()[0] for line in out[:-1]] == [str(r) for r in range(head - 2, head + 1)], out
    assert all(line.split()[1].startswith("CHANGE_KIND_") for line in out[:-1]), out
    assert out[-1] == f"caught up at {head}", out


def test_the_watch_example_resumes_after_its_server_is_killed(watch_server):
    """A SIGKILLed server ends the stream without trailers, so without resume_after_revision: the
    example resumes from the last revision it printed once the address answers again, and then
    receives a month published there with no gap and no duplicate."""
    head = current_revision(watch_server)  # 0: the seeded month wrote no change
    example = Example(watch_server, head)
    stderr = ""
    try:
        assert example.next_line() == f"caught up at {head}", example.out
        kill_and_restart(watch_server)
        published = publish(watch_server, "2026-12", DECEMBER)
        assert published.first_revision == head + 1, published
        assert published.last_revision > published.first_revision, published
        seen: list[int] = []
        while not seen or seen[-1] < published.last_revision:
            if (line := example.next_line())[0].isdigit():
                seen.append(int(line.split()[0]))
    finally:
        stderr = example.stop()
    assert seen == list(range(head + 1, published.last_revision + 1)), (
        f"{len(seen)} revisions after {head}, expected {head + 1}..={published.last_revision}"
    )
    assert f"resuming after {head}" in stderr, stderr


def test_the_readme_shows_the_watch_example():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert EXAMPLE.read_text() in readme.read_text(), (
        "clients/README.md does not show examples/watch.py verbatim: copy the file into it"
    )

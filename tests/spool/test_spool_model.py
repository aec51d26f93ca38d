"""The spool against a list model: any mix of appends, takes, acks, rewinds, group commits and
restarts keeps strict FIFO, loses nothing unacked, and leaves exactly the pending rows on disk."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.store.spool import Spool, SpoolConfig
from tests.spool.conftest import FakeClock
from tests.spool.helpers import NOW, payload, rows_on_disk

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 5)),
        st.tuples(st.just("take"), st.integers(1, 6)),
        st.tuples(st.just("ack"), st.integers(0, 10)),
        st.tuples(st.just("rewind"), st.just(0)),
        st.tuples(st.just("tick"), st.sampled_from([0.0, 0.3, 0.6])),
        st.tuples(st.just("flush"), st.just(0)),
        st.tuples(st.just("reopen"), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_spool_matches_a_fifo_model(ops: list[tuple[str, float]]) -> None:
    check_against_model(ops, capacity=None)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_full_spool_matches_a_model_that_drops_the_oldest(ops: list[tuple[str, float]]) -> None:
    check_against_model(ops, capacity=4)


def check_against_model(ops: list[tuple[str, float]], capacity: int | None) -> None:
    """Run ``ops`` on a spool and on a list model; ``capacity`` records fit in max_bytes."""
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "spool.db"
        max_bytes = capacity * (70 + 32) if capacity else 64 * 2**20
        config = SpoolConfig(path=str(path), max_bytes=max_bytes)
        clock = FakeClock()
        spool = Spool(config, autocommit=False, clock=clock)
        store = spool.store("cs")
        pending: list[int] = []  # model: unacked seqs, oldest first
        handed: list[int] = []  # model: handed out since the last rewind/restart, not acked
        try:
            for op, arg in ops:
                if op == "append":
                    for _ in range(int(arg)):
                        seq = store.append(payload(len(pending)), received_at=NOW, buffered=False)
                        pending.append(seq)
                        while capacity and len(pending) > capacity:
                            dropped = pending.pop(0)
                            if dropped in handed:
                                handed.remove(dropped)
                elif op == "take":
                    expected = [s for s in pending if s not in handed][: int(arg)]
                    assert [r.seq for r in store.take(int(arg))] == expected
                    handed.extend(expected)
                elif op == "ack" and handed:
                    seq = handed.pop(int(arg) % len(handed))
                    store.ack(seq)
                    pending.remove(seq)
                elif op == "rewind":
                    store.rewind()
                    handed.clear()
                elif op == "tick":
                    clock.advance(arg)
                    spool.commit_once()
                elif op == "flush":
                    spool.flush()
                    assert rows_on_disk(path) == pending
                elif op == "reopen":
                    spool.close()
                    spool = Spool(config, autocommit=False, clock=clock)
                    store = spool.store("cs")
                    handed.clear()
                assert store.pending() == len(pending)
            store.rewind()
            assert [r.seq for r in store.take(1000)] == pending
        finally:
            spool.close()


def test_radio_and_sender_threads_deliver_everything_once_in_order(tmp_path: Path) -> None:
    spool = Spool(SpoolConfig(path=str(tmp_path / "spool.db"), commit_interval_ms=20))
    store = spool.store("cs")
    total = 2000
    delivered: list[int] = []

    def radio() -> None:
        for i in range(total):
            store.append(payload(i), received_at=NOW, buffered=False)

    def sender() -> None:
        while len(delivered) < total:
            if not store.wait(5.0):
                break
            for record in store.take(50):
                delivered.append(int(record.payload[7:15]))
                store.ack(record.seq)

    threads = [threading.Thread(target=radio), threading.Thread(target=sender)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert delivered == list(range(total))
        assert store.pending() == 0
        spool.flush()
        assert rows_on_disk(tmp_path / "spool.db") == []
    finally:
        spool.close()

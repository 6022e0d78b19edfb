"""Partitions and the batch writer's thread rule: `prepare` off the event loop, `send` on it, in order."""

from __future__ import annotations

import asyncio
import threading

import pytest

from loaders.batches import BatchWriter, partition, partitions, write_batches

ROWS = [(f"C{i % 7}", i) for i in range(1_000)]  # (community, row number)


def test_a_partition_holds_whole_communities_in_input_order_and_full_batches() -> None:
    parts = partitions(ROWS, 64, 2, key=lambda r: r[0])
    assert len(parts) == 2
    communities = [{c for batch in part for c, _ in batch} for part in parts]
    assert communities[0].isdisjoint(communities[1])  # no community is split
    assert communities[0] | communities[1] == {c for c, _ in ROWS}
    for part in parts:
        numbers = [n for batch in part for _, n in batch]
        assert numbers == sorted(numbers)  # each partition keeps the input's order
        assert all(len(batch) == 64 for batch in part[:-1])
        assert 0 < len(part[-1]) <= 64
    assert sorted(n for part in parts for batch in part for _, n in batch) == list(range(1_000))
    assert partitions(ROWS, 64, 2, key=lambda r: r[0]) == parts  # deterministic


def test_one_partition_is_the_input_in_batches() -> None:
    out = list(partition(ROWS, 300, 1, key=lambda r: r[0]))
    assert [p for p, _ in out] == [0, 0, 0, 0]
    assert [row for _, batch in out for row in batch] == ROWS


class _Recorder(BatchWriter[tuple[str, int], list[int]]):
    """Prepares a batch into its row numbers, records where each call ran; fails on `fail_at`."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.prepared_in: set[int] = set()
        self.sent: list[list[int]] = []
        self.sent_in: set[int] = set()

    def prepare(self, batch: list[tuple[str, int]]) -> list[int]:
        self.prepared_in.add(threading.get_ident())
        return [n for _, n in batch]

    async def send(self, prepared: list[int]) -> None:
        self.sent_in.add(threading.get_ident())
        if self.fail_at is not None and self.fail_at in prepared:
            raise RuntimeError("batch failed")
        await asyncio.sleep(0)
        self.sent.append(prepared)


async def test_prepare_runs_off_the_loop_and_send_on_it_every_batch_once() -> None:
    writer = _Recorder()
    await write_batches(ROWS, writer, size=50, count=2, key=lambda r: r[0])
    assert writer.prepared_in
    assert threading.get_ident() not in writer.prepared_in
    assert writer.sent_in == {threading.get_ident()}
    assert sorted(n for batch in writer.sent for n in batch) == list(range(1_000))
    assert all(len(batch) <= 50 for batch in writer.sent)


async def test_a_failing_batch_stops_the_run_with_its_error() -> None:
    writer = _Recorder(fail_at=500)
    with pytest.raises(RuntimeError, match="batch failed"):
        await write_batches(ROWS, writer, size=50, count=2, key=lambda r: r[0])
    assert all(500 not in batch for batch in writer.sent)
    assert sum(map(len, writer.sent)) < 1_000

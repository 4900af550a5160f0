"""bot/rasa_server/micro_batcher.py: concurrent callers share one batch, each gets its own result,
an idle caller does not wait, a missing one is waited for only so long, one item's error stays its own."""
from __future__ import annotations

import asyncio
import time
from typing import List, Optional, Sequence

import pytest

from bot.rasa_server.micro_batcher import MicroBatcher, Ticket


class Doubler:
    """run_batch / run_one that double numbers, fail on negative ones and record their calls."""

    def __init__(self) -> None:
        self.batches: List[List[int]] = []
        self.alone: List[int] = []

    def run_batch(self, items: Sequence[int]) -> List[int]:
        self.batches.append(list(items))
        if any(item < 0 for item in items):
            raise ValueError("a negative number in the batch")
        return [2 * item for item in items]

    def run_one(self, item: int) -> int:
        self.alone.append(item)
        if item < 0:
            raise ValueError(f"negative: {item}")
        return 2 * item


def batcher(doubler: Doubler, max_size: int = 16, max_wait_s: float = 2.0) -> MicroBatcher:
    return MicroBatcher(doubler.run_batch, doubler.run_one, max_size=max_size, max_wait_s=max_wait_s)


async def turn(b: MicroBatcher, item: int, before_parse_s: float = 0.01) -> int:
    """A Rasa turn: announced, then a Redis round trip, then its parse."""
    ticket = b.announce()
    try:
        await asyncio.sleep(before_parse_s)
        return await b.submit(item, ticket)
    finally:
        ticket.release()


def test_one_caller_alone_does_not_wait():
    doubler = Doubler()

    async def main() -> float:
        b = batcher(doubler, max_wait_s=5.0)
        began = time.perf_counter()
        assert await turn(b, 21) == 42
        assert await b.submit(4) == 8  # no ticket at all (Rasa's /model/parse)
        return time.perf_counter() - began

    assert asyncio.run(main()) < 2.0  # far below the 5 s wait
    assert doubler.alone == [21, 4] and doubler.batches == []  # one item: the one-by-one path


def test_concurrent_callers_share_one_batch_and_each_gets_its_own_result():
    doubler = Doubler()

    async def main() -> List[int]:
        b = batcher(doubler)
        return list(await asyncio.gather(*(turn(b, n, before_parse_s=0.001 * n) for n in range(8))))

    assert asyncio.run(main()) == [2 * n for n in range(8)]
    assert doubler.batches == [list(range(8))]
    assert doubler.alone == []


def test_a_full_batch_runs_at_once_and_the_rest_follows():
    doubler = Doubler()

    async def main() -> List[int]:
        b = batcher(doubler, max_size=3)
        return list(await asyncio.gather(*(turn(b, n) for n in range(7))))

    assert asyncio.run(main()) == [2 * n for n in range(7)]
    assert [len(batch) for batch in doubler.batches] == [3, 3] and doubler.alone == [6]
    assert sorted(n for batch in doubler.batches for n in batch) + doubler.alone == list(range(7))


def test_a_caller_that_never_arrives_is_waited_for_only_the_bounded_time():
    doubler = Doubler()

    async def main() -> float:
        b = batcher(doubler, max_wait_s=0.3)
        late = b.announce()  # announced, then stuck far longer than the wait (e.g. a slow Redis)
        began = time.perf_counter()
        result = await b.submit(5, b.announce())
        elapsed = time.perf_counter() - began
        assert result == 10
        late.release()
        return elapsed

    elapsed = asyncio.run(main())
    assert 0.25 <= elapsed < 2.0  # the loop may fire a timer a hair early
    assert doubler.alone == [5]


def test_a_caller_that_leaves_without_parsing_releases_the_others():
    doubler = Doubler()

    async def leaves(b: MicroBatcher) -> None:
        ticket = b.announce()
        try:
            await asyncio.sleep(0.01)
            raise RuntimeError("the tracker could not be read")
        finally:
            ticket.release()

    async def main() -> float:
        b = batcher(doubler, max_wait_s=5.0)
        began = time.perf_counter()
        outcome = await asyncio.gather(turn(b, 3, before_parse_s=0.0), leaves(b), return_exceptions=True)
        assert outcome[0] == 6 and isinstance(outcome[1], RuntimeError)
        return time.perf_counter() - began

    assert asyncio.run(main()) < 2.0


def test_one_bad_item_fails_only_its_own_caller():
    doubler = Doubler()

    async def main() -> list:
        b = batcher(doubler)
        return list(await asyncio.gather(*(turn(b, n) for n in (1, -1, 2, 3)), return_exceptions=True))

    results = asyncio.run(main())
    assert results[0] == 2 and results[2] == 4 and results[3] == 6
    assert isinstance(results[1], ValueError) and "negative: -1" in str(results[1])
    assert doubler.batches == [[1, -1, 2, 3]] and doubler.alone == [1, -1, 2, 3]


def test_a_batch_with_the_wrong_number_of_results_is_redone_one_by_one():
    doubler = Doubler()

    async def main() -> List[int]:
        b = MicroBatcher(lambda items: [0], doubler.run_one, max_size=8, max_wait_s=2.0)
        return list(await asyncio.gather(*(turn(b, n) for n in (4, 5))))

    assert asyncio.run(main()) == [8, 10]
    assert doubler.alone == [4, 5]


def test_a_cancelled_caller_does_not_disturb_the_others():
    doubler = Doubler()

    async def main() -> Optional[int]:
        b = batcher(doubler, max_wait_s=0.2)
        staying = asyncio.create_task(turn(b, 8, before_parse_s=0.05))
        await asyncio.sleep(0)  # staying has announced its turn
        gone = asyncio.create_task(b.submit(7, b.announce()))
        await asyncio.sleep(0.01)
        gone.cancel()
        return await staying

    assert asyncio.run(main()) == 16
    assert 7 not in [n for batch in doubler.batches for n in batch] + doubler.alone


def test_tickets_release_once():
    doubler = Doubler()
    b = batcher(doubler)
    ticket: Ticket = b.announce()
    ticket.release()
    ticket.release()
    assert b.announced == 0


@pytest.mark.parametrize("max_size, max_wait_s", [(0, 0.01), (4, -1.0)])
def test_nonsense_limits_are_refused(max_size, max_wait_s):
    with pytest.raises(ValueError):
        MicroBatcher(lambda items: items, lambda item: item, max_size=max_size, max_wait_s=max_wait_s)

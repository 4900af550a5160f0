"""Gather concurrent calls on one event loop into one call of a batch function.

`MicroBatcher.submit(item)` returns what `run_batch` gave for that item. Items submitted while
others are on their way are run together:

- a caller that will submit soon says so first (`announce()`, a `Ticket`); `submit` with that
  ticket, or `Ticket.release()` when the caller leaves without submitting, takes it back;
- a batch runs as soon as every announced caller has submitted, the batch is full (`max_size`)
  or the first item has waited `max_wait_s`; with no other caller announced it runs on the
  loop's next turn, so an idle server adds no wait;
- `run_batch` runs on the event loop (as the single call it replaces did); when it raises, each
  item goes through `run_one` on its own, so one item's error reaches only its caller.

No Rasa here: `bot/rasa_server/nlu_batching.py` puts Rasa's NLU parse behind one.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Generic, List, Optional, Sequence, Tuple, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Ticket:
    """A caller's word that it will submit one item (or release the ticket)."""

    def __init__(self, batcher: "MicroBatcher") -> None:
        self._batcher = batcher
        self._open = True

    def release(self) -> None:
        """Idempotent: the caller submitted or left."""
        if self._open:
            self._open = False
            self._batcher._arrived()


class MicroBatcher(Generic[T, R]):
    def __init__(
        self,
        run_batch: Callable[[List[T]], Sequence[R]],
        run_one: Callable[[T], R],
        max_size: int = 16,
        max_wait_s: float = 0.005,
    ) -> None:
        if max_size < 1 or max_wait_s < 0:
            raise ValueError("max_size must be at least 1 and max_wait_s not negative")
        self.run_batch = run_batch
        self.run_one = run_one
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self._queue: List[Tuple[T, asyncio.Future]] = []
        self._announced = 0
        self._timer: Optional[asyncio.TimerHandle] = None
        self._soon: Optional[asyncio.Handle] = None
        self.batch_sizes: List[int] = []  # since the last log line (_log_sizes)

    @property
    def announced(self) -> int:
        """Callers announced and not yet arrived."""
        return self._announced

    def announce(self) -> Ticket:
        self._announced += 1
        return Ticket(self)

    def _arrived(self) -> None:
        self._announced -= 1
        self._consider()

    async def submit(self, item: T, ticket: Optional[Ticket] = None) -> R:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if ticket is not None:
            ticket.release()  # calls _consider
        else:
            self._consider()
        return await future

    def _log_sizes(self) -> None:
        """One log line per 100 runs: how many items shared a run."""
        sizes, self.batch_sizes = self.batch_sizes, []
        together = sum(size for size in sizes if size > 1)
        logger.info("micro-batches: %d items in %d runs (mean %.2f, max %d); %.0f%% of items ran with others",
                    sum(sizes), len(sizes), sum(sizes) / len(sizes), max(sizes), 100 * together / sum(sizes))

    def _consider(self) -> None:
        """Schedule a run now (next loop turn) or at the first item's deadline."""
        if not self._queue or self._soon is not None:
            return
        loop = asyncio.get_running_loop()
        if len(self._queue) >= self.max_size or self._announced <= 0:
            self._cancel_timer()
            self._soon = loop.call_soon(self._flush)
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._flush)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _flush(self) -> None:
        self._soon = None
        self._cancel_timer()
        taken, self._queue = self._queue[: self.max_size], self._queue[self.max_size:]
        live = [(item, future) for item, future in taken if not future.done()]  # a caller may have gone
        if live:
            self._run(live)
        self._consider()

    def _run(self, live: List[Tuple[T, asyncio.Future]]) -> None:
        self.batch_sizes.append(len(live))
        if len(self.batch_sizes) >= 100:
            self._log_sizes()
        items = [item for item, _ in live]
        try:
            results = list(self.run_batch(items)) if len(items) > 1 else None
            if results is not None and len(results) != len(items):
                raise RuntimeError(f"batch of {len(items)} gave {len(results)} results")
        except Exception:  # noqa: BLE001 - each item is tried alone below, its error to its caller
            logger.warning("batch of %d failed; running its items one by one", len(items), exc_info=True)
            results = None
        for index, (item, future) in enumerate(live):
            if results is not None:
                future.set_result(results[index])
                continue
            try:
                future.set_result(self.run_one(item))
            except Exception as error:  # noqa: BLE001 - delivered to this item's caller only
                future.set_exception(error)

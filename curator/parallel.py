"""An ordered, bounded parallel map: decode ahead of the model without unbounded memory."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    window: int,
    cancelled: Callable[[], bool] | None = None,
    name: str = "curator-worker",
) -> Iterator[R]:
    """Yield ``fn(item)`` in input order, running at most ``window`` items ahead in threads.

    Threads suit this work because Pillow decoding and torch both release the GIL.  When
    ``cancelled()`` turns true, queued work is dropped and the iterator ends.
    """
    it = iter(items)
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix=name) as pool:

        def refill() -> None:
            while len(pending) < max(1, window):
                try:
                    item = next(it)
                except StopIteration:
                    return
                pending.append(pool.submit(fn, item))

        refill()
        while pending:
            if cancelled and cancelled():
                for f in pending:
                    f.cancel()
                return
            result = pending.popleft().result()
            refill()
            yield result

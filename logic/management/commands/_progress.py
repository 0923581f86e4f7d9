"""A rich progress bar (on stderr, gone when done) for commands that walk many objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

PROGRESS_FROM = 200  # objects: below this a run is too quick for a bar


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[int], Callable[[], None]]]:
    """``with progress_bar("exporting") as start: step = start(total); ...; step()``.

    No bar when disabled, when stderr is not a terminal is fine too (rich degrades), or for small totals.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True, console=Console(stderr=True)
    )

    def start(total: int) -> Callable[[], None]:
        if not enabled or total < PROGRESS_FROM:
            return lambda: None
        task = bar.add_task(label, total=total)
        bar.start()
        return lambda: bar.advance(task)

    try:
        yield start
    finally:
        bar.stop()

"""Progress bars on stderr for work that takes more than a couple of seconds.

Shown only when stderr is a terminal: piped output, logs and tests see exactly the
bytes they would without it.
"""
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar('T')


def on_terminal() -> bool:
    """Whether a person may be watching: progress goes to stderr only if it is a terminal."""
    return sys.stderr.isatty()


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterable[T]:
    """`items`, with a tqdm bar on stderr while they are consumed (if stderr is a terminal)."""
    return tqdm(items, desc=description, total=total, file=sys.stderr, leave=False,
                disable=not on_terminal())


def bar(total: int | None, description: str, **options: Any) -> Any:
    """A tqdm bar of `total` steps to advance by hand, e.g. the batches of an epoch;
    shown only if stderr is a terminal."""
    return tqdm(total=total, desc=description, file=sys.stderr, leave=False,
                disable=not on_terminal(), **options)

"""Progress bars on stderr for work that takes more than a couple of seconds.

Shown only when stderr is a terminal: piped output, logs and tests see exactly the
bytes they would without it.
"""
import sys

from tqdm import tqdm


def progress(items, description, total=None):
    """`items`, with a tqdm bar on stderr while they are consumed (if stderr is a terminal)."""
    return tqdm(items, desc=description, total=total, file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty())

"""Which table of a model, in which format: the choice the `paddleinfo` command, the
Python API's `render` and summary.py share.  Nothing here imports numpy, tabulate or
Paddle, so that a command's --help and its one-line errors need none of them."""
from dataclasses import dataclass

FORMATS = ('plain', 'github', 'markdown', 'csv', 'json')


@dataclass(frozen=True)
class View:
    """Which table of a model, in which format: paddle.summary's own (the default), the
    per-layer table with MACs or size formulas, or one row per sublayer to `depth`."""
    fmt: str = 'plain'
    macs: bool = False
    explain: bool = False
    depth: int | None = None

    @property
    def paddle_summary(self) -> bool:
        """Whether the table is paddle.summary's own text."""
        return self.fmt == 'plain' and not (self.macs or self.explain) and self.depth is None

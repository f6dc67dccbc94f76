"""python -m paddleinfo: the `paddleinfo` command."""
import sys

from paddleinfo.cli import main

sys.exit(main())

"""``python -m asp.cli ...``: the ``asp`` command."""

import sys

from asp.cli import main

if __name__ == "__main__":
    sys.exit(main())

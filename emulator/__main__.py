"""``python -m emulator`` is ``dr-emulator``."""

import sys

from emulator.cli import main

sys.exit(main())

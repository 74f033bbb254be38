"""``python -m controller.cli``: the same as ``dr-gitops``."""

import sys

from controller.cli import main

sys.exit(main())

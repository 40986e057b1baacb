"""``python -m tests.fakes.hive``: see process.py."""

import sys

from .process import main

sys.exit(main())

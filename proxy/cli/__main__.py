"""`python -m proxy.cli`: the same entry point as the `patronguard` command."""

import sys

from proxy.cli import main

sys.exit(main())

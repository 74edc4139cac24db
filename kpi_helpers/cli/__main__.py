"""``python -m kpi_helpers.cli``: the ``kpi-kit`` command."""

import sys

from kpi_helpers.cli import main

sys.exit(main())

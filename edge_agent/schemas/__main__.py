"""``python -m edge_agent.schemas [--out DIR] [--check]``: write or check the published schemas."""

from __future__ import annotations

import sys

from edge_agent.schemas.cli import main

sys.exit(main())

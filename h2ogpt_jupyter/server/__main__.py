"""``python -m h2ogpt_jupyter.server [serve] ...``: ``h2ogpt-jupyter serve``, where ``serve``
may be left out since serving is what this module is for."""

import sys

from .serve import main

sys.exit(main())

"""``python -m h2ogpt_jupyter.server [serve] ...``: the ``h2ogpt-jupyter`` command, where
``serve`` may be left out since serving is what this module is for."""

import sys

from .cli import commands, main

args = sys.argv[1:]
if not args or args[0] not in (*commands(), "-h", "--help", "--version"):
    args = ["serve", *args]
sys.exit(main(args))

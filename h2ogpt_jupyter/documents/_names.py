"""Where collections live and how things in them are named.

``UserData`` is shared: it lives at ``H2OGPT_USERDATA_DIR`` (default ``<data_dir>/userdata``),
a folder every user of a JupyterHub can be pointed at. ``MyData`` and any other name are
personal, under ``<data_dir>/collections``. ``LLM`` and ``ChatLLM`` are h2oGPT's no-document
modes, so they cannot name a collection. Record ids derive from the source name, so writing
the same source twice overwrites instead of duplicating.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..errors import InvalidOptionError

USERDATA = "UserData"
MYDATA = "MyData"
MODES = ("LLM", "ChatLLM")
DOCS_SUFFIX = ".docs"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,61}[A-Za-z0-9]")


def personal_path() -> Path:
    from ..config import settings

    return settings().data_path / "collections"


def userdata_path() -> Path:
    from ..config import settings

    configured = os.environ.get("H2OGPT_USERDATA_DIR") or getattr(settings(), "userdata_dir", "")
    if configured:
        return Path(configured).expanduser()
    return settings().data_path / "userdata"


def location(name: str) -> Path:
    """Where the collection ``name`` is kept (the shared folder for ``UserData``)."""
    return userdata_path() if name == USERDATA else personal_path()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if name in MODES:
        raise InvalidOptionError(f"'{name}' is a chat mode without documents, not a collection")
    if not _NAME.fullmatch(name):
        raise InvalidOptionError(
            f"bad collection name {name!r}: 3-63 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit"
        )
    return name


def source_key(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


def manifest_id(source: str) -> str:
    return f"{source_key(source)}-source"

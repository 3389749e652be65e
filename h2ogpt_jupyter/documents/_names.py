"""Where collections live and how things in them are named.

Locally, ``UserData`` is shared: it lives at ``H2OGPT_USERDATA_DIR`` (default
``<data_dir>/userdata``), a folder every user of a JupyterHub can be pointed at. ``MyData`` and
any other name are personal, under ``<data_dir>/collections``.

With a Chroma server (``H2OGPT_CHROMA_URL`` or the ``chroma_url`` setting) every collection lives
on it instead, and the split is made with Chroma *databases*, the namespaces inside a tenant:
``UserData`` sits under its own name in Chroma's ``default_database`` — the place any other
Chroma client looks first, so it is shared as-is — while each user's personal collections sit in
a database of their own, ``h2ogpt-user-<user>`` (the JupyterHub user, else the login name). So
two users' ``MyData`` never meet, collection names stay exactly what the user typed (no prefix
to parse or to eat into the name length), and one ``list_databases`` shows an admin every user.
Tenants are left alone: Chroma ties them to authentication and quotas, which belong to whoever
runs the server. A database is a namespace, not a permission: on a server without auth, anyone
who can reach it can read any database.

A collection is named as in h2oGPT: any name (case kept, spaces and other letters allowed), but
not a path, not empty, and not ``LLM`` or ``ChatLLM`` (h2oGPT's no-document modes). Chroma wants
3-63 characters of ``[A-Za-z0-9_-]``, so each name has a *key* it is stored under
(:func:`chroma_key`): the name itself where Chroma takes it (so older collections keep theirs),
otherwise a safe stem and a hash of the exact name. The name a user typed is kept in the
collection's metadata for listing. Record ids derive from the source name, so writing the same
source twice overwrites instead of duplicating. Keys never contain a dot; Chroma collections
whose names do (``KEY.docs`` and the staging copies of a re-embedding) belong to another
collection.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from h2ogpt_jupyter.errors import InvalidOptionError

USERDATA = "UserData"
MYDATA = "MyData"
MODES = ("LLM", "ChatLLM")
DOCS_SUFFIX = ".docs"
DEFAULT_TENANT = "default_tenant"  # Chroma's own defaults
DEFAULT_DATABASE = "default_database"
USER_DATABASE_PREFIX = "h2ogpt-user-"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,61}[A-Za-z0-9]")  # what Chroma takes as-is
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME = 200  # characters of a name as typed
_STEM = 37  # a made key: stem, '-', 12 hex digits: 50, room left for '.reembed.docs'


@dataclass(frozen=True)
class Place:
    """Where a collection's Chroma collections are: a local folder, or a database on a
    Chroma server."""

    folder: Path | None = None
    url: str = ""
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    @property
    def label(self) -> str:
        """The place as shown to users: the folder, or ``<url>/<tenant>/<database>``."""
        if self.url:
            return f"{self.url.rstrip('/')}/{self.tenant}/{self.database}"
        return str(self.folder)


def chroma_url() -> str:
    """The configured Chroma server, or '' for local folders."""
    from h2ogpt_jupyter.config import settings

    value = getattr(settings(), "chroma_url", "") or os.environ.get("H2OGPT_CHROMA_URL", "")
    return str(value).strip()


def personal_path() -> Path:
    from h2ogpt_jupyter.config import settings

    return settings().data_path / "collections"


def userdata_path() -> Path:
    from h2ogpt_jupyter.config import settings

    configured = os.environ.get("H2OGPT_USERDATA_DIR") or getattr(settings(), "userdata_dir", "")
    if configured:
        return Path(configured).expanduser()
    return settings().data_path / "userdata"


def location(name: str) -> Path:
    """The local folder the collection ``name`` is kept in (the shared one for ``UserData``)."""
    return userdata_path() if name == USERDATA else personal_path()


def user_name() -> str:
    """Who owns personal collections on a server: the JupyterHub user, else the login."""
    found = os.environ.get("JUPYTERHUB_USER", "").strip()
    if found:
        return found
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid{os.getuid()}"


def personal_database(user: str | None = None) -> str:
    """The server database of ``user`` 's personal collections.

    Chroma names allow ``[A-Za-z0-9_-]`` (and dots, avoided here); other characters become
    ``_`` and a hash of the real name is appended, so ``a@x`` and ``a_x`` stay apart.
    """
    user = user_name() if user is None else user
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", user).strip("_-")[:100]
    if safe and safe == user:
        return USER_DATABASE_PREFIX + safe
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:8]
    return f"{USER_DATABASE_PREFIX}{safe}-{digest}" if safe else USER_DATABASE_PREFIX + digest


def place(name: str) -> Place:
    """Where the collection ``name`` lives now: on the configured server, else locally."""
    url = chroma_url()
    if url:
        database = DEFAULT_DATABASE if name == USERDATA else personal_database()
        return Place(url=url, database=database)
    return Place(folder=location(name))


def personal_place() -> Place:
    return place(MYDATA)


def shared_place() -> Place:
    return place(USERDATA)


def check_name(name: str) -> str:
    """The collection name as the user means it (outer spaces dropped), or one line saying
    why it cannot be one."""
    name = (name or "").strip()
    if not name:
        raise InvalidOptionError("bad collection name '': a collection needs a name")
    if name in MODES:
        raise InvalidOptionError(f"'{name}' is a chat mode without documents, not a collection")
    if "/" in name or "\\" in name:
        raise InvalidOptionError(f"bad collection name {name!r}: a name, not a path (no / or \\)")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidOptionError(f"bad collection name {name!r}: no control characters")
    if len(name) > MAX_NAME:
        raise InvalidOptionError(f"bad collection name: at most {MAX_NAME} characters")
    return name


def chroma_key(name: str) -> str:
    """The name Chroma keeps the collection ``name`` under: ``name`` itself where Chroma takes
    it, else its letters, digits, '-' and '_' with a hash of the exact name, so 'UX', 'ux' and
    'U X' stay three collections."""
    if _NAME.fullmatch(name):
        return name
    stem = _UNSAFE.sub("_", name).strip("_-")[:_STEM]
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    return f"{stem}-{digest}" if stem else digest


def source_key(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


def manifest_id(source: str) -> str:
    return f"{source_key(source)}-source"


def check_writable(name: str) -> None:
    """Refuse changes to the shared ``UserData`` where the administrator turned them off
    (``allow_upload_to_user_data``), before anything is written."""
    from h2ogpt_jupyter.config import settings
    from h2ogpt_jupyter.errors import H2OGPTError

    if name == USERDATA and not settings().allow_upload_to_user_data:
        raise H2OGPTError(
            "UserData is shared and read-only here (allow_upload_to_user_data is off): "
            "add your documents to MyData or another collection of your own"
        )

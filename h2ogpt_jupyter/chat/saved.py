"""Saved chats: one JSON file per chat under the user's data directory, plus export/import of
many chats in one file.

Writes go to a temporary file and are renamed into place, so a crash never leaves half a chat.
Names are plain file names; anything that could escape the folder is refused.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.config import settings
from h2ogpt_jupyter.errors import H2OGPTError

from .chat import Chat

_NAME = re.compile(r"[\w][\w .\-]{0,99}")
EXPORT_KIND = "h2ogpt-jupyter-chats"


def chats_dir() -> Path:
    return settings().data_path / "chats"


def _path(name: str) -> Path:
    name = name.strip()
    if not _NAME.fullmatch(name) or name.endswith("."):
        raise H2OGPTError(
            f"bad chat name {name!r}: use letters, digits, spaces, '.', '-', '_' (max 100)"
        )
    return chats_dir() / f"{name}.json"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise H2OGPTError(f"no such file: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise H2OGPTError(f"{path} is not valid JSON ({exc})") from None


def save(chat: Chat, name: str | None = None) -> str:
    """Save under ``name`` (default: the chat's name, else a timestamp); returns the name."""
    name = (name or chat.name or time.strftime("chat-%Y%m%d-%H%M%S")).strip()
    path = _path(name)
    chat.name = name
    _write_json(path, chat.to_dict())
    return name


def load(name: str) -> Chat:
    path = _path(name)
    if not path.is_file():
        raise H2OGPTError(f"no saved chat named '{name}'")
    return Chat.from_dict(_read_json(path))


def delete(name: str) -> None:
    path = _path(name)
    if not path.is_file():
        raise H2OGPTError(f"no saved chat named '{name}'")
    path.unlink()


def list_saved() -> list[dict[str, Any]]:
    """Saved chats, newest first; unreadable files are listed with their error, not skipped."""
    folder = chats_dir()
    rows = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        row: dict[str, Any] = {"name": path.stem, "modified": time.ctime(path.stat().st_mtime)}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            row.update(turns=len(data.get("history", [])), model=data.get("model"))
        except (OSError, ValueError, AttributeError) as exc:
            row.update(turns=None, model=None, error=str(exc))
        rows.append(row)
    return rows


def export(path: str | Path, names: list[str] | None = None) -> Path:
    """Write the named chats (default: all) to one JSON file."""
    names = names if names is not None else [row["name"] for row in list_saved()]
    chats = [_read_json(_path(n)) for n in names]
    out = Path(path).expanduser()
    _write_json(out, {"kind": EXPORT_KIND, "version": 1, "chats": chats})
    return out


def import_file(path: str | Path) -> list[str]:
    """Add every chat in an export (or a single saved chat) file; never overwrites."""
    data = _read_json(Path(path).expanduser())
    if isinstance(data, dict) and data.get("kind") == EXPORT_KIND:
        items = data.get("chats", [])
    elif isinstance(data, dict) and "history" in data:
        items = [data]
    else:
        raise H2OGPTError(f"{path} is not a chat export")
    chats = [Chat.from_dict(item) for item in items]  # validate all before writing any
    names = []
    for chat in chats:
        base = chat.name or Path(path).stem
        name, n = base, 1
        while _path(name).exists():
            n += 1
            name = f"{base}-{n}"
        names.append(save(chat, name))
    return names

"""Parse ``%h2ogpt`` lines: a subcommand, ``--options`` anywhere before the text, then text.

Questions are free text with apostrophes and quotes, so the line is not shell-split: options
are read from the front (``--name value``, ``--name=value``, a bare ``--flag``), and whatever
follows them is taken verbatim. A value with spaces may be quoted.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidOptionError

# Options that take no value.
FLAGS = {
    "load_8bit",
    "load_4bit",
    "trust_remote_code",
    "early_stopping",
    "allow_download",
    "all",
    "new",
    "no_stream",
}
_SHORT = {"-o": "out", "-m": "model", "-f": "format"}
_OPTION = re.compile(r"\s*(--[A-Za-z][\w-]*|-[omf])(?:=|\s+|$)")


@dataclass
class Parsed:
    command: str
    options: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def parse(line: str) -> Parsed:
    line = line.strip()
    command, _, rest = line.partition(" ")
    options: dict[str, Any] = {}
    rest = rest.lstrip()
    while True:
        if rest == "--" or rest.startswith("-- "):  # explicit end of options
            rest = rest[2:]
            break
        match = _OPTION.match(rest)
        if not match:
            break
        flag = match.group(1)
        name = _SHORT.get(flag) or flag[2:].replace("-", "_")
        rest = rest[match.end() :]
        if name in FLAGS and not match.group(0).rstrip().endswith("="):
            options[name] = True
            continue
        value, rest = _take_value(rest, flag)
        options[name] = convert(name, value)
    return Parsed(command.lower(), options, rest.strip())


def _take_value(rest: str, flag: str) -> tuple[str, str]:
    rest = rest.lstrip()
    if not rest:
        raise InvalidOptionError(f"option {flag} needs a value")
    if rest[0] in "\"'{[":
        closing = {"{": "}", "[": "]"}.get(rest[0])
        if closing:  # JSON value: find its matching end
            decoder = json.JSONDecoder()
            try:
                _, end = decoder.raw_decode(rest)
            except json.JSONDecodeError:
                raise InvalidOptionError(f"option {flag}: invalid JSON value") from None
            return rest[:end], rest[end:]
        lexer = shlex.shlex(rest, posix=True)
        lexer.whitespace_split = True
        try:
            value = next(iter(lexer))
        except ValueError:
            raise InvalidOptionError(f"option {flag}: unbalanced quotes") from None
        consumed = len(rest) - len(lexer.instream.read())  # type: ignore[union-attr]
        return value, rest[consumed:]
    value, _, tail = rest.partition(" ")
    return value, tail


def convert(name: str, value: str) -> Any:
    """Strings from the line into Python values: JSON objects/lists, numbers, booleans."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if stripped[:1] in "{[":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            raise InvalidOptionError(f"--{name.replace('_', '-')}: invalid JSON value") from None
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            pass
    return value

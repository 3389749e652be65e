"""Parse ``%h2ogpt`` lines: a subcommand, ``--options``, then text.

Questions are free text with apostrophes and quotes, so the line is not shell-split. For
``ask`` and ``chat`` options are read from the front only (``--name value``, ``--name=value``,
a bare ``--flag``, ``--`` to end them) and whatever follows is the message, verbatim. Other
commands take a name or a path, so options may come before or after it
(``load ./model --as m``). A value with spaces may be quoted; quoted values stay strings.

``{var}`` inserts a notebook variable. Expansion happens after splitting, so a value with
spaces never spills into the text; an option value that is exactly ``{var}`` receives the
Python object itself (a dict for ``--prompt-dict {d}``, a float for ``--temperature {t}``).
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.options import GENERATION, LOAD, Option, OptionValueError, switches

# Options that take no value: the options tables' switches, and the magics' own.
FLAGS = switches(GENERATION, LOAD) | {"all", "new", "keep", "no_stream"}
# Commands whose text is a message: options end where the text begins.
FREE_TEXT = {"ask", "chat", "summarize", "extract"}
_SHORT = {"-o": "out", "-m": "model", "-f": "format"}
_OPTION = re.compile(r"\s*(--[A-Za-z][\w-]*|-[omf])(?:=|\s+|$)")
_VAR = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*(?:\.\w+|\[[^\[\]{}]*\])*)\}")
_MISSING = object()


@dataclass
class Parsed:
    command: str
    options: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    words: list[str] = field(default_factory=list)  # the text's words, quotes resolved


def parse(line: str, namespace: Mapping[str, Any] | None = None) -> Parsed:
    """Split ``line``; ``{var}`` references are looked up in ``namespace``."""
    ns: Mapping[str, Any] = namespace if namespace is not None else {}
    parts = line.strip().split(None, 1)
    command = parts[0].lower() if parts else ""
    rest = parts[1] if len(parts) > 1 else ""
    free = command in FREE_TEXT
    options: dict[str, Any] = {}
    words: list[str] = []
    while rest.strip():
        rest = rest.lstrip()
        if rest == "--" or rest[:3] in ("-- ", "--\n"):  # explicit end of options
            words.append(rest[2:].strip())
            break
        match = _OPTION.match(rest)
        if match is None:
            if free:
                words.append(rest.strip())
                break
            word, _, rest = _take_token(rest, "the name")
            words.append(word)
            continue
        flag = match.group(1)
        name = _SHORT.get(flag) or flag[2:].replace("-", "_")
        rest = rest[match.end() :]
        if name in FLAGS and not match.group(0).rstrip().endswith("="):
            options[name] = True
            continue
        raw, quoted, rest = _take_token(rest, flag)
        options[name] = _value(name, raw, quoted, ns)
    words = [w for w in words if w]
    return Parsed(command, options, expand(" ".join(words), ns), _words(words, ns))


def _words(words: list[str], namespace: Mapping[str, Any]) -> list[str]:
    """Expanded words; a word that is exactly ``{var}`` naming a list gives one word per item
    (``%h2ogpt ingest {paths}``)."""
    out: list[str] = []
    for word in words:
        ref = _VAR.fullmatch(word)
        found = lookup(ref.group(1), namespace) if ref and ref.group(1) else _MISSING
        if isinstance(found, (list, tuple, set)):
            out.extend(str(item) for item in found)
        else:
            out.append(expand(word, namespace))
    return out


def _take_token(rest: str, what: str) -> tuple[str, bool, str]:
    """The next value: quoted, a JSON object/list, or a word. Returns (value, quoted, rest)."""
    rest = rest.lstrip()
    if not rest:
        raise InvalidOptionError(f"option {what} needs a value")
    if rest[0] in "{[":
        try:
            _, end = json.JSONDecoder().raw_decode(rest)
            return rest[:end], False, rest[end:]
        except json.JSONDecodeError:
            pass  # a {var} reference or a plain word; _value decides
    elif rest[0] in "\"'":
        stream = io.StringIO(rest)
        lexer = shlex.shlex(stream, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""  # "#" is ordinary text here
        try:
            value = next(iter(lexer))
        except ValueError:
            raise InvalidOptionError(f"{what}: unbalanced quotes") from None
        return value, True, stream.read()  # the lexer stops just after the closing quote
    word = re.match(r"\S+", rest)
    assert word is not None
    return word.group(0), False, rest[word.end() :]


def _value(name: str, raw: str, quoted: bool, namespace: Mapping[str, Any]) -> Any:
    if quoted:
        return expand(raw, namespace)
    ref = _VAR.fullmatch(raw)
    if ref and ref.group(1):
        found = lookup(ref.group(1), namespace)
        if found is not _MISSING:
            return found
    if raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            if not any(m.group(1) for m in _VAR.finditer(raw)):
                flag = f"--{name.replace('_', '-')}"
                raise InvalidOptionError(f"{flag}: invalid JSON value {raw!r}") from None
    return convert(expand(raw, namespace))


def convert(value: str) -> Any:
    """A word from the line into a Python value: boolean, None, int, float or the string."""
    stripped = value.strip()
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


def lookup(expr: str, namespace: Mapping[str, Any]) -> Any:
    """Evaluate ``name``, ``name.attr`` or ``name[key]`` in the notebook; ``_MISSING`` if not."""
    if expr.split(".")[0].split("[")[0] not in namespace:
        return _MISSING
    try:
        return eval(expr, {"__builtins__": {}}, namespace)  # names, attributes, keys only
    except Exception:
        return _MISSING


def expand(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``{name}`` with notebook values; unknown names stay as written, ``{{`` is ``{``."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        found = lookup(match.group(1), namespace)
        return match.group(0) if found is _MISSING else str(found)

    return _VAR.sub(sub, text)


def checked(table: Mapping[str, Option], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked by their rows of ``table`` (others pass as they are); a refusal
    names the switch as typed: ``--chunk-size needs a whole number, not 'big'``."""
    out = dict(options)
    for name, value in options.items():
        if name in table:
            try:
                out[name] = table[name].parse(value)
            except OptionValueError as exc:
                raise InvalidOptionError(exc.as_flag()) from None
    return out

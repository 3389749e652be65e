"""Generation parameters with h2oGPT's names, defaults and switches.

h2oGPT's defaults are greedy decoding (temperature 0, top_p 1, top_k 1), 1024 new tokens,
repetition penalty 1.07 and a ten minute ``max_time``; sampling switches on as soon as any of
temperature, top_p or top_k asks for it. ``--temperature 0.7`` alone therefore samples from
the whole distribution: the greedy default top_k of 1 is not applied while sampling.

h2oGPT silently clamps out-of-range values; here they are refused with one clear message
instead, so a typo never changes an answer unnoticed.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field, fields
from typing import Any

from h2ogpt_jupyter.errors import InvalidOptionError

# name -> (low, high) inclusive bounds, as h2oGPT's sliders and API checks allow.
_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 3.0),
    "top_p": (0.0, 1.0),
    "top_k": (0, 100),
    "num_beams": (1, 8),
    "max_new_tokens": (1, 1_000_000),
    "min_new_tokens": (0, 1_000_000),
    "max_time": (0.0, 86_400.0),
    "repetition_penalty": (0.01, 3.0),
    "num_return_sequences": (1, 10),
    "seed": (0, 2**32 - 1),
    "max_input_tokens": (-1, 10_000_000),
}
# Below this, logits divided by the temperature overflow to inf and sampling yields NaN.
_MIN_SAMPLING_TEMPERATURE = 0.01
_INTS = {
    "top_k",
    "num_beams",
    "max_new_tokens",
    "min_new_tokens",
    "num_return_sequences",
    "seed",
    "max_input_tokens",
}


@dataclass(frozen=True)
class GenerationParams:
    """One generation's settings; ``seed=0`` means a fresh random seed when sampling.

    ``max_input_tokens`` caps the prompt (history and documents are fitted under it); ``-1``
    or ``0`` means the model's window less the answer reserve, as in h2oGPT.
    """

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 1
    num_beams: int = 1
    max_new_tokens: int = 1024
    min_new_tokens: int = 0
    early_stopping: bool = False
    max_time: float = 600.0
    repetition_penalty: float = 1.07
    num_return_sequences: int = 1
    seed: int = 0
    max_input_tokens: int = -1
    stop: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "stop":
                if isinstance(value, str):
                    value = (value,)
                if not all(isinstance(s, str) for s in value):
                    raise InvalidOptionError("stop must be a string or a list of strings")
                object.__setattr__(self, "stop", tuple(s for s in value if s))
            elif f.name == "early_stopping":
                object.__setattr__(self, f.name, _to_bool(f.name, value))
            else:
                object.__setattr__(self, f.name, _to_number(f.name, value))
        if self.min_new_tokens > self.max_new_tokens:
            raise InvalidOptionError(
                f"min_new_tokens ({self.min_new_tokens}) must not exceed "
                f"max_new_tokens ({self.max_new_tokens})"
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, base: GenerationParams | None = None, **options: Any) -> GenerationParams:
        """Overlay ``options`` (h2oGPT names; dashes allowed) on ``base`` or the defaults."""
        known = set(cls.names())
        clean: dict[str, Any] = {}
        for key, value in options.items():
            name = key.replace("-", "_")
            if name == "max_tokens":  # OpenAI's spelling of the same thing
                name = "max_new_tokens"
            if name not in known:
                raise InvalidOptionError(
                    f"unknown generation option '{key}'; known: {', '.join(sorted(known))}"
                )
            if value is not None:
                clean[name] = value
        return dataclasses.replace(base or cls(), **clean)

    @property
    def sampling_top_k(self) -> int:
        """top_k for the engine when sampling: h2oGPT's greedy default of 1 would make any
        temperature pointless, so while sampling 1 means "no top-k cut" (0)."""
        return 0 if self.top_k <= 1 else self.top_k

    @property
    def sampling_temperature(self) -> float:
        """temperature for the engine when sampling: 0 means 1 (sampling was asked for by top_p
        or top_k), and tiny values are raised to 0.01 so logits divided by it stay finite."""
        if self.temperature <= 0.0:
            return 1.0
        return max(self.temperature, _MIN_SAMPLING_TEMPERATURE)

    @property
    def do_sample(self) -> bool:
        """h2oGPT's rule: any of temperature, top_p, top_k asking for randomness samples."""
        return self.temperature > 0.0 or self.top_p < 1.0 or self.top_k > 1

    def effective_seed(self) -> int:
        """The seed to use: fixed when greedy, random for ``seed=0`` when sampling."""
        if not self.do_sample:
            return 1
        return self.seed or random.randint(1, 2**31 - 1)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["stop"] = list(self.stop)
        return data


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    }:
        return value.lower() in {"true", "1", "yes", "on"}
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidOptionError(f"{name} must be true or false, not {value!r}")


def _to_number(name: str, value: Any) -> float | int:
    low, high = _BOUNDS[name]
    kind = "an integer" if name in _INTS else "a number"
    if isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be {kind}, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"{name} must be {kind}, not {value!r}") from None
    if number != number:  # NaN
        raise InvalidOptionError(f"{name} must be {kind}, not NaN")
    if name in _INTS:
        if number != int(number):
            raise InvalidOptionError(f"{name} must be {kind}, not {value!r}")
        number = int(number)
    if not low <= number <= high:
        raise InvalidOptionError(
            f"{name} must be between {_fmt(low)} and {_fmt(high)}, not {value!r}"
        )
    return number


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)

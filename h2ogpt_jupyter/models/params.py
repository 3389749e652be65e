"""Generation parameters with h2oGPT's names, defaults and switches.

h2oGPT's defaults are greedy decoding (temperature 0, top_p 1, top_k 1), 1024 new tokens,
repetition penalty 1.07 and a ten minute ``max_time``; sampling switches on as soon as any of
temperature, top_p or top_k asks for it. ``--temperature 0.7`` alone therefore samples from
the whole distribution: the greedy default top_k of 1 is not applied while sampling.

h2oGPT silently clamps out-of-range values; here they are refused with one clear message
instead, so a typo never changes an answer unnoticed. Names, kinds, bounds, defaults and help
live in :data:`h2ogpt_jupyter.options.GENERATION`, shared with every front end.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, fields
from typing import Any

from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.options import GENERATION

# Below this, logits divided by the temperature overflow to inf and sampling yields NaN.
_MIN_SAMPLING_TEMPERATURE = 0.01


@dataclass(frozen=True)
class GenerationParams:
    """One generation's settings; ``seed=0`` means a fresh random seed when sampling.

    ``max_input_tokens`` caps the prompt (history and documents are fitted under it); ``-1``
    or ``0`` means the model's window less the answer reserve, as in h2oGPT.
    """

    temperature: float = GENERATION["temperature"].default
    top_p: float = GENERATION["top_p"].default
    top_k: int = GENERATION["top_k"].default
    num_beams: int = GENERATION["num_beams"].default
    max_new_tokens: int = GENERATION["max_new_tokens"].default
    min_new_tokens: int = GENERATION["min_new_tokens"].default
    early_stopping: bool = GENERATION["early_stopping"].default
    max_time: float = GENERATION["max_time"].default
    repetition_penalty: float = GENERATION["repetition_penalty"].default
    num_return_sequences: int = GENERATION["num_return_sequences"].default
    seed: int = GENERATION["seed"].default
    max_input_tokens: int = GENERATION["max_input_tokens"].default
    stop: tuple[str, ...] = GENERATION["stop"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, GENERATION[f.name].parse(getattr(self, f.name)))
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

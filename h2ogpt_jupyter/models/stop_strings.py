"""Stop strings: which strings end an answer, and cutting a stream at them.

An answer ends at its prompt format's stop strings (h2oGPT's: the next turn's tag, ``</s>``
and the like, from :func:`h2ogpt_jupyter.prompts.stop_strings`; none for a model's own chat
template or a chat server, which end turns themselves) and at any the user adds
(``GenerationParams.stop``). :class:`StopStringCutter` is how every engine's stream is cut at
them, whatever the engine: the text before a stop string is shown, never the string itself,
not even part of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from h2ogpt_jupyter import prompts

from .manager import TEMPLATE, LoadedModel

# Prompt types whose turns the model or server ends by itself.
_OWN_TURNS = (TEMPLATE, "openai_chat")


def for_model(model: LoadedModel, *extra: Iterable[str]) -> list[str]:
    """The stop strings of ``model``'s prompt format, then those of ``extra``, each once."""
    own: list[str] = []
    if model.prompt_type not in _OWN_TURNS:
        own = prompts.stop_strings(model.prompt_type, model.options.prompt_dict)
    return merge(own, *extra)


def merge(*groups: Iterable[str]) -> list[str]:
    """Every non-empty stop string of ``groups``, in order, each once."""
    return list(dict.fromkeys(s for group in groups for s in group if s))


class StopStringCutter:
    """Holds back just enough text to never emit part of a stop string."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.text = ""
        self.emitted = 0
        self.hit = False

    def feed(self, delta: str) -> str:
        """Add a delta; return the text now safe to show (nothing once a stop string was hit:
        the engine may still send a token or two while it winds down)."""
        if self.hit:
            return ""
        start = max(0, self.emitted - max((len(s) for s in self.stops), default=0))
        self.text += delta
        cut = min((i for s in self.stops if (i := self.text.find(s, start)) >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            self.text = self.text[:cut]
            return self._emit(len(self.text))
        return self._emit(len(self.text) - self._partial_tail())

    def flush(self) -> str:
        return self._emit(len(self.text))

    def _partial_tail(self) -> int:
        """Length of the longest end of the text that begins some stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(self.text)), best, -1):
                if self.text.endswith(stop[:n]):
                    best = n
                    break
        return best

    def _emit(self, upto: int) -> str:
        upto = max(upto, self.emitted)
        out = self.text[self.emitted : upto]
        self.emitted = upto
        return out

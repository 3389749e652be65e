"""Every option a user can set, declared once: its kind, bounds, default and help.

The tables: :data:`GENERATION` (h2oGPT's generation parameters), :data:`LOAD` (how a model
loads), :data:`DOCUMENTS` (how a chat uses a collection), :data:`INGEST` (how documents are
cut into chunks) and :data:`SETTINGS` (the extension's own, from ``c.H2OGPT.*`` or
``H2OGPT_*``). Everything else is made from them, so a bound or a
help text can never differ between front ends: ``GenerationParams`` and ``LoadOptions`` check
values with :meth:`Option.parse`, the settings panel draws its controls from
:func:`control`, the server's request schema takes its ranges and descriptions from
them, the magics know their switches and print their help from here, and the
traitlets config is built from :data:`SETTINGS`.

:func:`parse_bool` is the one place where text becomes true or false: ``true/false``,
``yes/no``, ``on/off`` and ``1/0``, in any case; anything else is refused by name, never read
as false.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidOptionError

Kind = Literal["float", "int", "bool", "text", "choice", "strings", "dict"]

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class OptionValueError(InvalidOptionError):
    """A value of the wrong kind or out of range, naming the option.

    ``str()`` is the sentence for Python and the API (``max_seq_len must be a whole number,
    not 'abc'``); :meth:`as_flag` the same for a command line (``--max-seq-len needs a whole
    number, not 'abc'``).
    """

    def __init__(self, name: str, value: Any, expected: str, *, flag_form: str = "") -> None:
        self.name, self.value, self.expected = name, value, expected
        self._flag_form = flag_form or f"must be {expected}"
        super().__init__(f"{name} must be {expected}, not {value!r}")

    def as_flag(self) -> str:
        return f"{flag(self.name)} {self._flag_form}, not {self.value!r}"


def flag(name: str) -> str:
    """``max_new_tokens`` as a command-line switch: ``--max-new-tokens``."""
    return "--" + name.replace("_", "-")


def parse_bool(name: str, value: Any) -> bool:
    """``value`` as true or false: a bool, 0/1, or one of :data:`TRUE_WORDS` /
    :data:`FALSE_WORDS` in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
    raise OptionValueError(name, value, "true or false", flag_form="is true or false")


def number_text(x: float) -> str:
    """``3`` for 3.0, ``0.01`` for 0.01: a bound as a person writes it."""
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Option:
    """One option. ``optional`` options also take None (unset); ``low``/``high`` bound
    numbers (either may be None); ``whole`` is how an integer is named in a refusal."""

    name: str
    kind: Kind
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    whole: str = "an integer"
    example: str = ""  # for dicts: a value to show in a refusal
    or_text: bool = False  # for dicts: text is taken too (a Python dict literal, checked later)

    @property
    def flag(self) -> str:
        return flag(self.name)

    @property
    def switch(self) -> bool:
        """A true/false option that is off by default: on the command line, naming it sets it
        (``--load-4bit``), where one that is on by default takes a value (``--flash-attn 0``)."""
        return self.kind == "bool" and self.default is False

    def parse(self, value: Any) -> Any:
        """``value`` checked and converted to this option's kind, or :class:`OptionValueError`."""
        if value is None and self.optional:
            return None
        if self.kind == "bool":
            return parse_bool(self.name, value)
        if self.kind in ("int", "float"):
            return self._number(value)
        if self.kind == "text":
            if not isinstance(value, str):
                raise OptionValueError(self.name, value, "text")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise OptionValueError(self.name, value, f"one of {', '.join(self.choices)}")
            return value
        if self.kind == "strings":
            items = (value,) if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) for s in items):
                raise InvalidOptionError(f"{self.name} must be a string or a list of strings")
            return tuple(s for s in items if s)
        if self.or_text and isinstance(value, str):
            return value
        if not isinstance(value, dict):
            raise OptionValueError(
                self.name,
                value,
                f"a dict such as {self.example}",
                flag_form="needs a JSON object such as {...}",
            )
        return value

    def _number(self, value: Any) -> float | int:
        integer = self.kind == "int"
        expected = self.whole if integer else "a number"

        def wrong() -> OptionValueError:
            return OptionValueError(self.name, value, expected, flag_form=f"needs {expected}")

        if isinstance(value, bool):
            raise wrong()
        if integer and isinstance(value, float) and not value.is_integer():
            raise wrong()
        try:
            number: float | int = float(value)
        except (TypeError, ValueError, OverflowError):
            raise wrong() from None
        if math.isnan(number):
            raise InvalidOptionError(f"{self.name} must be {expected}, not NaN")
        if integer:
            if isinstance(value, int):
                number = value  # exact, however large
            elif math.isinf(number) or number != int(number):
                raise wrong()
            else:
                number = int(number)
        low, high = self.low, self.high
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                span = f"between {number_text(low)} and {number_text(high)}"
            elif low is not None:
                span = f"at least {number_text(low)}"
            else:
                span = f"at most {number_text(high or 0)}"
            raise OptionValueError(self.name, value, span, flag_form=f"must be {span}")
        return number


def _table(*options: Option) -> dict[str, Option]:
    return {o.name: o for o in options}


# --- generation: h2oGPT's parameters and defaults (greedy, 1024 tokens, penalty 1.07) -----------
GENERATION = _table(
    Option("temperature", "float", 0.0, "0 answers greedily; higher values sample more freely",
           0.0, 3.0),
    Option("top_p", "float", 1.0,
           "sample only from the smallest set of tokens whose probabilities add up to this",
           0.0, 1.0),
    Option("top_k", "int", 1, "sample only from this many most likely tokens (1: greedy)",
           0, 100),
    Option("num_beams", "int", 1, "beam search width; more than 1 does not stream", 1, 8),
    Option("max_new_tokens", "int", 1024, "longest answer, in tokens", 1, 1_000_000),
    Option("min_new_tokens", "int", 0, "shortest answer, in tokens", 0, 1_000_000),
    Option("early_stopping", "bool", False,
           "end beam search as soon as enough candidates are complete"),
    Option("max_time", "float", 600.0, "seconds before the answer is cut off", 0.0, 86_400.0),
    Option("repetition_penalty", "float", 1.07, "above 1 discourages repeating the same words",
           0.01, 3.0),
    Option("num_return_sequences", "int", 1, "alternative answers to generate", 1, 10),
    Option("seed", "int", 0, "random seed when sampling; 0 picks a new one each time",
           0, 2**32 - 1),
    Option("max_input_tokens", "int", -1, "cap on prompt tokens (-1: the model's window)",
           -1, 10_000_000),
    Option("stop", "strings", (), "extra strings that end the answer, one per line"),
)  # fmt: skip

# --- load: h2oGPT's load options, plus the engines' own ------------------------------------------
DTYPES = ("auto", "float32", "bfloat16", "float16")
_W = "a whole number"
LOAD = _table(
    Option("backend", "text", "auto", "engine: auto, transformers, llamacpp, openai or a plugin"),
    Option("load_8bit", "bool", False, "8-bit weights (bitsandbytes, transformers)"),
    Option("load_4bit", "bool", False, "4-bit nf4 weights (bitsandbytes, transformers)"),
    Option("dtype", "choice", "auto", "weights' precision", choices=DTYPES),
    Option("device", "text", "auto", "where the model runs: auto, cpu, cuda, cuda:1, ..."),
    Option("use_gpu_id", "int", None, "which GPU, when there are several", optional=True,
           whole=_W),
    Option("lora_weights", "text", "", "a LoRA adapter folder to apply (transformers)"),
    Option("prompt_type", "text", "", "one of h2oGPT's prompt formats; empty: chosen by name"),
    Option("prompt_dict", "dict", None, "the format for prompt_type 'custom'", optional=True,
           example='{"promptA": "", "PreInput": "", ...}', or_text=True),
    Option("system_prompt", "text", "auto", "the model's system prompt ('auto': h2oGPT's)"),
    Option("chat_template", "text", "", "a Jinja chat template to use instead of the model's"),
    Option("max_seq_len", "int", None, "context window in tokens (default: the model's)",
           16, optional=True, whole=_W),
    Option("rope_scaling", "dict", None, "RoPE scaling for a longer window (transformers)",
           optional=True, example='{"type": "linear", "factor": 2.0}'),
    Option("trust_remote_code", "bool", False, "run code that comes with the model"),
    Option("base_model", "text", "", "the model a server serves (for server names)"),
    Option("inference_server", "text", "", "an OpenAI-compatible server to use (h2oGPT's name)"),
    Option("api_key", "text", "", "the server's API key"),
    Option("n_threads", "int", None, "CPU threads (llama.cpp)", optional=True, whole=_W),
    Option("n_parallel", "int", None, "contexts serving requests at once (llama.cpp, default 2)",
           1, optional=True, whole=_W),
    Option("flash_attn", "bool", True, "llama.cpp's flash attention (~1.13x on a CPU)"),
    Option("allow_download", "bool", False, "let transformers fetch the model from a hub"),
)  # fmt: skip

# --- documents: how a chat answers from a collection ---------------------------------------------
SUBSETS = ("Relevant", "RelSources", "TopKSources")
ORDERINGS = ("best_near_prompt", "best_first")
DOCUMENTS = _table(
    Option("collection", "text", None, "answer from this collection (LLM/ChatLLM: none)",
           optional=True),
    Option("document_subset", "choice", "Relevant",
           "Relevant: answer from the best chunks; RelSources/TopKSources: list them only",
           choices=SUBSETS),
    Option("document_choice", "strings", (), "only these documents (source names)"),
    Option("top_k_docs", "int", 3, "chunks to give the model (-1 fills the context)", -1,
           whole=_W),
    Option("cut_distance", "float", 1.64, "leave out chunks farther than this (0 to 4)",
           optional=True),
    Option("docs_ordering_type", "choice", "best_near_prompt",
           "best_near_prompt: the best chunk last, next to the question; best_first",
           choices=ORDERINGS),
)  # fmt: skip


# --- ingest: how documents are cut into chunks ----------------------------------------------
INGEST = _table(
    Option("chunk_size", "int", 512, "characters a chunk holds at most", 32, whole=_W),
    Option("chunk_overlap", "int", 0, "characters neighbouring chunks share", 0, whole=_W),
)


# --- settings: c.H2OGPT.* in Jupyter/IPython config, or H2OGPT_* in the environment -------------
@dataclass(frozen=True)
class Setting(Option):
    """An extension setting; its environment variable is ``H2OGPT_<NAME>``."""

    @property
    def env(self) -> str:
        return f"H2OGPT_{self.name.upper()}"

    def from_env(self, environ: Mapping[str, str] | None = None) -> Any:
        """The environment's value, or the default when unset (or, for a text setting that
        must not be empty, when empty)."""
        raw = (os.environ if environ is None else environ).get(self.env)
        if raw is None or (raw == "" and not self.optional):
            return self.default
        return self.parse(raw)


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("default_model", "text", "",
                "Model loaded on first use when none is loaded (e.g. 'smollm2')."),
        Setting("backend", "text", "auto", "Engine: auto, transformers, llamacpp or openai."),
        Setting("data_dir", "text", "",
                "Where chats and personal collections are kept (default: the user's data "
                "folder)."),
        Setting("output", "choice", "markdown", "How magics show answers: markdown, text or code.",
                choices=("markdown", "text", "code")),
        Setting("allow_download", "bool", False,
                "Let transformers fetch models from a hub (off by default)."),
        Setting("generation", "dict", {},
                "Default generation parameters, e.g. {'max_new_tokens': 256}."),
        Setting("hf_embedding_model", "text", "",
                "Local sentence-transformers folder for document collections (default: "
                "MiniLM)."),
        Setting("userdata_dir", "text", "",
                "Folder of the shared UserData collection, e.g. on a JupyterHub shared volume."),
        Setting("chroma_url", "text", "",
                "Chroma server (e.g. 'http://127.0.0.1:8000') that holds every collection "
                "instead of local folders; empty: local folders."),
        Setting("allow_upload_to_user_data", "bool", True,
                "Whether this user may add to, delete from or re-embed the shared UserData "
                "collection (h2oGPT's option of the same name); reading it is always allowed."),
        Setting("pre_prompt_query", "text", None,
                "Sentence before the documents in a question (None: h2oGPT's; e.g. another "
                "language).", optional=True),
        Setting("prompt_query", "text", None, "Sentence after the documents, before the question.",
                optional=True),
        Setting("pre_prompt_summary", "text", None,
                "Sentence before the text to summarize or extract from.", optional=True),
        Setting("prompt_summary", "text", None,
                "Sentence after the text to summarize or extract from.", optional=True),
    )
}  # fmt: skip


# --- what the front ends make of the tables --------------------------------------------------
SLIDER_SPAN = 1000  # ranges wider than this get a number box only


def control(option: Option) -> dict[str, Any]:
    """How a panel shows ``option``: kind, range, step, whether a slider fits, help."""
    spec: dict[str, Any] = {
        "name": option.name,
        "default": list(option.default) if option.kind == "strings" else option.default,
        "help": option.help,
    }
    if option.kind in ("int", "float"):
        low, high = option.low, option.high
        assert low is not None and high is not None, f"{option.name} needs both bounds"
        integer = option.kind == "int"
        spec.update(
            kind="int" if integer else "float",
            min=low,
            max=high,
            step=1 if integer or high - low > 10 else 0.01,
            slider=high - low <= SLIDER_SPAN,
        )
    elif option.kind == "strings":
        spec["kind"] = "list"
    else:
        spec["kind"] = option.kind
    return spec


def switches(*tables: Mapping[str, Option]) -> set[str]:
    """Names of the options that are switches (see :attr:`Option.switch`)."""
    return {o.name for table in tables for o in table.values() if o.switch}


def flags_list(options: Iterable[Option]) -> str:
    """```--temperature`, `--top-p`, …`` for help texts."""
    return ", ".join(f"`{o.flag}`" for o in options)


def parse_all(table: Mapping[str, Option], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of ``values`` checked by its option in ``table`` (unknown names pass)."""
    return {k: table[k].parse(v) if k in table else v for k, v in values.items()}

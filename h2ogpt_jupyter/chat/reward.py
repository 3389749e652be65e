"""Score answers with a reward model, as h2oGPT's model comparison does.

A reward model is a sequence-classification model trained to rate how good an answer is for
a question (h2oGPT uses OpenAssistant's DeBERTa reward model). The score is the sigmoid of
the first logit for the pair (question, answer): 0 to 1, higher is better. The model is a
local folder, loaded once on first use; nothing is downloaded.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.config import loading_weights
from h2ogpt_jupyter.errors import H2OGPTError

MAX_TOKENS = 512  # question + answer beyond this are truncated, as the models were trained


class RewardModel:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise H2OGPTError(f"score model folder not found: {self.path}")
        self._lock = threading.Lock()  # one scoring at a time: columns finish concurrently
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        if not (self.path / "config.json").is_file():
            raise H2OGPTError(f"cannot load score model {self.path}: it has no config.json")
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            with loading_weights():
                self._tokenizer = AutoTokenizer.from_pretrained(
                    str(self.path), local_files_only=True
                )
                model = AutoModelForSequenceClassification.from_pretrained(
                    str(self.path), local_files_only=True
                )
        except (OSError, ValueError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise H2OGPTError(f"cannot load score model {self.path}: {reason}") from None
        self._model = model.eval()

    def score(self, question: str, answer: str) -> float:
        import torch

        with self._lock:
            self._load()
            limit = min(MAX_TOKENS, int(getattr(self._tokenizer, "model_max_length", MAX_TOKENS)))
            inputs = self._tokenizer(
                question, answer, return_tensors="pt", truncation=True, max_length=limit
            )
            with torch.inference_mode():
                logits = self._model(**inputs).logits
            return float(torch.sigmoid(logits[0, 0]))

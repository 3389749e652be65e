"""Keep every hub and telemetry client quiet before it is imported.

huggingface_hub and transformers read these variables once, at import, so they are set before
any backend imports them. A user who allowed downloads keeps whatever they set themselves.
"""

from __future__ import annotations

import os

_QUIET = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def go_offline(allow_download: bool = False) -> None:
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    if not allow_download:
        for key, value in _OFFLINE.items():
            os.environ.setdefault(key, value)

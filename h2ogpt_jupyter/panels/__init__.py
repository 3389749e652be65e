"""Widget panels for JupyterLab: chat, model comparison, document ingest and settings.

    from h2ogpt_jupyter.panels import ChatPanel, ComparePanel, IngestPanel, SettingsPanel
    ChatPanel("smollm2", collection="MyData")
    ComparePanel(["smol", "smol-4bit"], prompt="Explain RAG in two sentences.")

The panels are anywidget widgets whose front ends (plain ES modules and CSS under
``static/``) ship in the package: nothing is fetched from the network. Importing this package
needs anywidget (``pip install 'h2ogpt-jupyter[lab]'``) but not torch; models load when used.
"""

from __future__ import annotations

from ._chat import ChatPanel
from ._compare import ComparePanel
from ._ingest import IngestPanel
from ._settings import SettingsPanel

__all__ = ["ChatPanel", "ComparePanel", "IngestPanel", "SettingsPanel"]

"""Conversations over a loaded model: chats, the prompt of each turn, answers from documents,
saved chats, summaries and extraction, reward scores.

    from h2ogpt_jupyter.chat import Chat
    chat = Chat(system_prompt="You are terse.")
    chat.send("Name three rivers.").text

:mod:`.chat` keeps a conversation; :mod:`.turns` builds one turn's prompt and fits it in the
window; :mod:`.retrieval` picks the document chunks that fit; :mod:`.saved` stores chats;
:mod:`.summaries` summarizes and extracts over whole documents; :mod:`.reward` scores an
answer with a reward model.
"""

from __future__ import annotations

from .chat import DOC_OPTIONS, Chat, ask
from .retrieval import DocQuery
from .summaries import extract, summarize

__all__ = ["DOC_OPTIONS", "Chat", "DocQuery", "ask", "extract", "summarize"]

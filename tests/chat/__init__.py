"""Chats, saved chats, answers from documents, summaries."""

"""The OpenAI-compatible server: API, process, proxy, schema."""

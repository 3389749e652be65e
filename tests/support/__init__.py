"""Helpers the tests share: servers, a Jupyter server, a browser, an IPython shell."""

"""Every widget a panel test creates gets a :class:`~.comm.RecordingComm`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from h2ogpt_jupyter.panels._base import Panel

from .comm import RecordingComm


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every widget created in the test gets a RecordingComm; panels are closed after it."""
    import comm
    from ipywidgets.widgets import widget

    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))
    before = set(widget._instances)
    yield
    for key in set(widget._instances) - before:
        panel = widget._instances.get(key)
        if isinstance(panel, Panel):
            panel.wait()
            panel.close()

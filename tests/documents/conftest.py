"""A second tiny embedder, for tests that change or mismatch a collection's embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.models import build_tiny_embedder


@pytest.fixture(scope="session")
def other_embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("other-embedder"), seed=1)

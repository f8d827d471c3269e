"""Commanders Act advanced matching and consent through ``/commandersact``: golden fixtures in
``tests/fixtures/commandersact-matching`` (see ``tests/golden.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import fixtures, load, run


@pytest.mark.parametrize("path", fixtures("commandersact-matching"), ids=lambda path: path.stem)
def test_golden(make_client, path: Path):
    run(make_client, "/commandersact", load(path))

"""requirements.txt, the file Cloud Functions installs, is the locked closure of requirements.in.

Words used here: a *direct requirement* is a line of ``requirements.in``; the *lock* is
``requirements.txt`` as ``make lock`` writes it: every package the function needs, direct or
not, pinned with ``==`` and carrying the sha256 hashes pip checks; an *entry* is one package of
the lock with its optional environment marker (``; python_version < '3.12'``).
"""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def entries() -> list[tuple[Requirement, list[str]]]:
    """Each entry of the lock with its hashes (an entry spans lines joined by backslashes)."""
    text = (ROOT / "requirements.txt").read_text()
    logical = re.sub(r"\\\n", " ", text).splitlines()
    found = []
    for line in logical:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *hashes = line.split(" --hash=")
        found.append((Requirement(requirement), ["--hash=" + h.strip() for h in hashes]))
    return found


def direct() -> list[Requirement]:
    lines = (ROOT / "requirements.in").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def pinned(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", requirement
    return specifier.version


def test_every_entry_is_pinned_with_hashes():
    locked = entries()
    assert len(locked) > len(direct())  # the closure, not only the direct requirements
    for requirement, hashes in locked:
        pinned(requirement)
        assert hashes, f"{requirement.name} has no hash"
        assert all(HASH.fullmatch(h) for h in hashes), requirement.name
    assert "make lock" in (ROOT / "requirements.txt").read_text().split("\n", 3)[1]


def test_the_lock_holds_every_direct_requirement_at_its_version():
    locked = {canonicalize_name(r.name): r for r, _ in entries()}
    for requirement in direct():
        entry = locked.get(canonicalize_name(requirement.name))
        assert entry is not None, f"{requirement.name} is not in requirements.txt: run make lock"
        assert requirement.specifier.contains(pinned(entry)), requirement.name


def test_the_tests_run_on_exactly_the_locked_versions():
    """What `make test` installed is the lock: the function is tested as it is deployed."""
    for requirement, _ in entries():
        if requirement.marker is not None and not Marker(str(requirement.marker)).evaluate():
            continue
        installed = metadata.version(requirement.name)
        assert installed == pinned(requirement), (requirement.name, installed)

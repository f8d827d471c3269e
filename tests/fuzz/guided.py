"""Coverage-guided fuzzing of body reading and mapping with atheris (optional, not in make test).

atheris (libFuzzer for Python) keeps the inputs that reach new lines of ``tiktok_mapper`` and
mutates them further, with the JSON-aware mutators of :mod:`tests.fuzz.mutators` as its custom
mutator. It calls ``pipeline.plan_body`` directly (the mapper level, no HTTP), so any exception
but a ``BodyError`` stops it with the traceback, and so does a payload the strict TikTok schema
refuses. Words used here: see :mod:`tests.fuzz`; an *input* is two header bytes (route, then
configuration, each modulo their count) followed by the body.

atheris is not a dependency of the project: install it in a virtual environment of its own that
also sees the project's packages, then run from the repository root::

    python3 -m venv /tmp/atheris-venv && /tmp/atheris-venv/bin/pip install atheris
    echo "$PWD/.venv/lib/python3.13/site-packages" > /tmp/atheris-venv/lib/python3.13/site-packages/project.pth
    PYTHONPATH=. FUZZ_KNOWN="event_time: minimum" /tmp/atheris-venv/bin/python -m tests.fuzz.guided \\
        -max_total_time=300 -artifact_prefix=/tmp/atheris- /tmp/corpus

``FUZZ_KNOWN`` lists classes to step over (see :func:`known`); a new one stops the run and
libFuzzer writes the input that found it next to ``-artifact_prefix``.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import atheris

from tests.conftest import GUARD_ENV

os.environ.update(GUARD_ENV)

with atheris.instrument_imports(include=["tiktok_mapper"]):
    from tiktok_mapper import pipeline
    from tiktok_mapper.body import BodyError
    from tiktok_mapper.pipeline import from_environment

from tests.fuzz.corpus import ROUTES, configurations, seeds
from tests.fuzz.harness import NOW, exception_failure, schema_failures
from tests.fuzz.mutators import encode, mutate

NAMES = sorted(configurations())
SOURCES: dict[tuple[int, int], Any] = {}


def source(route: int, configuration: int) -> tuple[Any, Any]:
    key = (route, configuration)
    if key not in SOURCES:
        setup = from_environment(configurations()[NAMES[configuration]])
        SOURCES[key] = (pipeline.configure(setup)[ROUTES[route].strip("/")], setup.config)
    return SOURCES[key]


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    route, configuration = data[0] % len(ROUTES), data[1] % len(NAMES)
    mapper, config = source(route, configuration)
    try:
        plan = pipeline.plan_body(mapper, data[2:], config, NOW)
    except BodyError:
        return
    except Exception as error:
        if not known(exception_failure(error).signature):
            raise
        return
    for payload in pipeline.would_send(plan)[1]:
        for failure in schema_failures(payload):
            if not known(failure.signature):
                raise AssertionError(failure.signature + " " + failure.detail)


def known(signature: str) -> bool:
    """Whether a class of failure is one to step over (``FUZZ_KNOWN``: comma-separated parts
    of signatures), so that the search goes on past the classes already reported."""
    return any(part and part in signature for part in os.environ.get("FUZZ_KNOWN", "").split(","))


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """The body mutated as JSON when it is JSON, else byte by byte; the header now and then."""
    rng = random.Random(seed)
    header, raw = bytearray(data[:2].ljust(2, b"\0")), data[2:]
    if rng.random() < 0.1:
        header[rng.randrange(2)] = rng.randrange(256)
    try:
        body, _ = mutate(json.loads(raw), ROUTES[header[0] % len(ROUTES)], rng)
        raw = encode(body, rng) or raw
    except (ValueError, RecursionError):
        raw = atheris.Mutate(raw, max(max_size - 2, 0))
    return bytes(header) + raw[: max(max_size - 2, 0)]


def write_corpus(folder: Path) -> None:
    """Every seed, under the header of its route and of its own configuration (or plain)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds()):
        name = "fixture:" + seed.name
        configuration = NAMES.index(name if name in NAMES else "plain")
        header = bytes([ROUTES.index(seed.route), configuration])
        (folder / f"seed-{number:03d}").write_bytes(header + seed.text.encode())


if __name__ == "__main__":
    folders = [argument for argument in sys.argv[1:] if not argument.startswith("-")]
    for folder in folders:
        write_corpus(Path(folder))
    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()

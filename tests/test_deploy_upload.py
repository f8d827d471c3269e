"""The upload set: what ``gcloud functions deploy --source=.`` would upload, and deploy.sh's refusal
to upload anything but the function.

Words used here: the *upload set* is computed with gcloud's rules for ``.gcloudignore`` (the port
in ``tests/fake_gcloud.py``, which the fake's ``meta list-files-for-upload`` answers with); the
*function's files* are ``main.py``, ``requirements.txt``, and the Python modules and JSON
Schemas of ``service/``, ``tiktok_mapper/`` and ``schemas/``; a *stray file* is anything a
person may leave next to deploy.sh that must never leave the machine: a token, a ``.env``, a
key file.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GUARD_ENV, ROOT
from tests.fake_gcloud import PROJECT, is_included, patterns, upload_set
from tests.gcloud_sandbox import Sandbox

STRAY = (
    "token.txt", ".env", ".env.production", "key.json", "sa-key.json", "id_rsa", "deploy.env",
    "secrets/tiktok-token", "service/token.txt", "service/.env", "service/key.json",
    "tiktok_mapper/credentials.json", "schemas/key.json", "schemas/notes.txt",
    "service/__pycache__/app.cpython-313.pyc", "notes/token.txt",
)  # fmt: skip
BASE = {"PROJECT_ID": PROJECT, "TIKTOK_PIXEL_ID": "CPIXEL0000000000000A"}


def function_files() -> set[str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    wanted = ("service/", "tiktok_mapper/")
    return {
        path
        for path in tracked
        if path in ("main.py", "requirements.txt")
        or (path.startswith(wanted) and path.endswith(".py") and path.count("/") == 1)
        or (path.startswith("schemas/") and path.endswith(".schema.json"))
    }


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project, stray files added: what a deployer's directory may look like."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv", "*cache*", ".hypothesis", "tests", "bench"),
    )
    for stray in STRAY:
        (copy / stray).parent.mkdir(parents=True, exist_ok=True)
        (copy / stray).write_text("tt-secret-value\n")
    return copy


@pytest.fixture
def sandbox(tmp_path, project) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path, project, GUARD_ENV)
    yield box
    box.close()


def test_gcloudignore_lets_only_the_function_through(project):
    assert set(upload_set(str(project))) == function_files()


def test_deploy_uploads_the_function_and_nothing_else(sandbox, project):
    done = sandbox.run(stdin="tt-token", **BASE)
    assert done.returncode == 0, done.stderr
    assert f"Checked: the upload is the function only ({len(function_files())} files" in done.stderr
    (deployed,) = sandbox.calls_to("functions", "deploy")
    assert deployed["cwd"] == str(project)


def test_a_stray_file_in_the_upload_stops_everything(sandbox, project):
    # A deny list in the old style: it knew the tooling, not what a person leaves lying around.
    (project / ".gcloudignore").write_text(".git/\n.venv/\ntests/\nbench/\nexamples/\n")
    done = sandbox.run(stdin="tt-token", **BASE)
    assert done.returncode != 0
    assert "these files would be uploaded with the function:" in done.stderr
    for stray in ("token.txt", ".env", "key.json", "service/token.txt", "deploy.env"):
        assert stray in done.stderr
    assert "tt-secret-value" not in done.stderr
    assert not [c for c in sandbox.commands() if c.startswith(("services enable", "secrets"))]
    assert not sandbox.calls_to("functions", "deploy")


def test_without_the_function_in_the_upload_it_stops(sandbox, project):
    (project / ".gcloudignore").write_text("*\n")
    done = sandbox.run(stdin="tt-token", **BASE)
    assert done.returncode != 0
    assert "gcloud would not upload main.py and requirements.txt" in done.stderr


@pytest.mark.parametrize(
    ("ignore", "path", "is_dir", "included"),
    [
        ("*.pyc", "service/__pycache__/x.pyc", False, False),  # no slash: any depth
        ("/token.txt", "token.txt", False, False),  # a leading slash anchors to the top
        ("/token.txt", "notes/token.txt", False, True),
        ("build/", "build", True, False),  # a trailing slash: directories only
        ("build/", "build", False, True),
        ("/*\n!/main.py", "main.py", False, True),  # later lines win
        ("/*\n!/main.py", "other.py", False, False),
        ("/service/\n!/service/app.py", "service/app.py", False, False),  # no way back
        ("**/key.json", "a/b/key.json", False, False),
        ("/*/key.json", "a/b/key.json", False, True),
    ],
)
def test_the_port_of_gclouds_rules(ignore, path, is_dir, included):
    assert is_included(patterns(ignore), path, is_dir) is included

"""A fake ``gcloud`` for the tests of deploy.sh (``tests/gcloud_sandbox.py`` serves it).

Words used here:

- *fake*: :class:`Fake`, what a ``gcloud`` command in the sandbox reaches. It answers the
  commands deploy.sh uses, in the forms deploy.sh uses them, from a JSON *state* of the project
  (services, accounts, secrets and their versions, the function, who may call it, metrics,
  dashboards, alert policies, Pub/Sub topics and subscriptions and who may do what on them, on
  service accounts too), changes that state as gcloud would change the project, and
  records each *call*: arguments, stdin, working directory, and the content of every file named
  by ``--env-vars-file``, ``--config-from-file`` or ``--policy-from-file`` (deploy.sh deletes
  them when it ends). Any other command, or a command in another form, fails the run.
- *failure*: a command (its leading words) the state says must fail, with gcloud's message.
- *upload set*: what ``gcloud meta list-files-for-upload`` lists: the files under the working
  directory that ``.gcloudignore`` lets through, computed with gcloud's own rules (gitignore
  syntax; for each leading part of a path the last matching pattern decides, and a directory left
  out cannot be let back in).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from fnmatch import fnmatchcase
from typing import Any

PROJECT = "acme-events"
PROJECT_NUMBER = "123456789012"
URL = "https://tiktok-events-abc123-ew.a.run.app"
# The API each kind of call needs: off, gcloud fails as the API does.
APIS = (
    ("iam", "iam.googleapis.com"),
    ("builds", "cloudbuild.googleapis.com"),
    ("secrets", "secretmanager.googleapis.com"),
    ("functions", "cloudfunctions.googleapis.com"),
    ("run", "run.googleapis.com"),
    ("logging", "logging.googleapis.com"),
    ("monitoring", "monitoring.googleapis.com"),
    ("alpha monitoring", "monitoring.googleapis.com"),
    ("pubsub", "pubsub.googleapis.com"),
)
DURATION = re.compile(r"([0-9]+)([smhd])")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FILE_FLAGS = ("--env-vars-file=", "--config-from-file=", "--policy-from-file=")


def record(args: list[str], stdin: str, cwd: str) -> dict[str, Any]:
    """A call as the tests read it, with the content of the files it names."""
    files = {}
    for arg in args:
        if arg.startswith(FILE_FLAGS):
            flag, _, path = arg[2:].partition("=")
            with open(os.path.join(cwd, path)) as f:
                files[flag] = f.read()
    return {"args": args, "stdin": stdin, "cwd": cwd, "files": files}


# ---- gcloud's upload set -------------------------------------------------------------------------


def glob_matches(parts: list[str], path: str | None) -> bool:
    """gcloud's glob: the pattern's parts matched right to left against the path's parts."""
    if not parts:
        return True
    if path is None:
        return False
    part, rest = parts[-1], parts[:-1]
    if path:
        path = posixpath.normpath(path)
    head, tail = posixpath.split(path)
    remaining: str | None = head if tail else None
    if part == "**":
        prefixes = path_prefixes(path)
        if not (rest and rest[0] == ""):
            rest = ["", *rest]
        return any(glob_matches(rest, prefix) for prefix in prefixes)
    if part == "*" and not rest and remaining and len(remaining) > 1:
        return False
    if not fnmatchcase(tail, part):
        return False
    return glob_matches(rest, remaining)


def path_prefixes(path: str) -> list[str]:
    """``a/b/c`` → ``['', 'a', 'a/b', 'a/b/c']``."""
    prefixes = [path]
    while path:
        path, tail = posixpath.split(path)
        prefixes.insert(0, path)
        if not tail:
            break
    return prefixes


def patterns(text: str) -> list[tuple[list[str], bool, bool]]:
    """(parts, negated, only directories) of each pattern line of an ignore file."""
    found = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        directory = line.endswith("/")
        found.append((line.rstrip("/").split("/"), negated, directory))
    return found


def is_included(rules: list[tuple[list[str], bool, bool]], path: str, is_dir: bool) -> bool:
    for prefix in path_prefixes(path)[1:]:
        prefix_is_dir = prefix != path or is_dir
        decision = None
        for parts, negated, only_dirs in rules:
            if only_dirs and not prefix_is_dir:
                continue
            if glob_matches(parts, prefix):
                decision = "include" if negated else "ignore"
        if decision == "ignore":
            return False
    return True


def upload_set(directory: str) -> list[str]:
    ignore = os.path.join(directory, ".gcloudignore")
    rules = []
    if os.path.exists(ignore):
        with open(ignore) as f:
            rules = patterns(f.read())
    found = []
    for root, dirs, files in os.walk(directory):
        relative = os.path.relpath(root, directory)
        relative = "" if relative == "." else relative
        found += [
            posixpath.join(relative, name)
            for name in sorted(files)
            if is_included(rules, posixpath.join(relative, name), False)
        ]
        dirs[:] = [d for d in sorted(dirs) if is_included(rules, posixpath.join(relative, d), True)]
    return found


# ---- the fake ------------------------------------------------------------------------------------


def flag_values(args: list[str]) -> dict[str, str]:
    return {
        a[2:].split("=", 1)[0]: a.split("=", 1)[1] for a in args if a.startswith("--") and "=" in a
    }


def seconds(text: str) -> int:
    """``10s``, ``7d`` … in seconds; a duration gcloud would not take fails the call."""
    found = DURATION.fullmatch(text)
    assert found, f"not a duration gcloud takes: {text}"
    return int(found.group(1)) * SECONDS[found.group(2)]


def label_filter(text: str) -> dict[str, str]:
    """``userLabels.a=x AND userLabels.b=y`` → ``{'a': 'x', 'b': 'y'}``."""
    terms = [term.strip() for term in text.split(" AND ")]
    return dict(term.removeprefix("userLabels.").split("=", 1) for term in terms)


class Exit(Exception):
    """gcloud ends with ``code`` and ``message`` on stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fake:
    """One gcloud call: its answer (exit code, stdout, stderr) and its effect on ``state``."""

    def __init__(self, state: dict[str, Any], args: list[str], stdin: str, cwd: str) -> None:
        self.state = state
        self.args = args
        self.stdin = stdin
        self.cwd = cwd
        self.flags = flag_values(args)
        self.words = [a for a in args if not a.startswith("--")]
        self.out: list[str] = []

    def print(self, text: str) -> None:
        self.out.append(text + "\n")

    def fail(self, message: str) -> None:
        raise Exit(1, f"ERROR: (gcloud.{'.'.join(self.words[:3])}) {message}\n")

    def missing(self, what: str) -> None:
        self.fail(f"NOT_FOUND: {what} not found")

    def need_project(self) -> None:
        project = self.flags.get("project")
        if project != self.state["project"]:
            self.fail(f"PERMISSION_DENIED: project {project!r} (the fake knows one project)")

    def answer(self) -> tuple[int, str, str]:
        """(exit code, stdout, stderr). A call the fake does not know, or in a form it does not
        expect, raises AssertionError: the sandbox fails the test with it."""
        try:
            api = next((a for prefix, a in APIS if " ".join(self.words).startswith(prefix)), None)
            if api and api not in self.state["enabled_services"]:
                self.fail(
                    f"PERMISSION_DENIED: SERVICE_DISABLED: {api} has not been used in project"
                )
            for prefix, message in self.state.get("failures", {}).items():
                if " ".join(self.words).startswith(prefix):
                    self.fail(message)
            words = self.words
            for length in (4, 3, 2):
                handler = getattr(self, "do_" + "_".join(words[:length]).replace("-", "_"), None)
                if handler is not None:
                    handler()
                    return 0, "".join(self.out), ""
            raise AssertionError("unexpected call: " + " ".join(self.args))
        except Exit as exit:
            return exit.code, "".join(self.out), exit.message

    # -- local ones
    def do_config_get_value(self) -> None:
        self.print(self.state.get("configured_project", ""))

    def do_auth_list(self) -> None:
        assert self.flags.get("filter") == "status:ACTIVE", self.args
        if self.state.get("account"):
            self.print(self.state["account"])

    def do_info(self) -> None:
        assert self.flags["format"] == "value(installation.components.alpha)", self.args
        self.print(self.state.get("alpha", "2025.06.13"))

    def do_meta_list_files_for_upload(self) -> None:
        assert self.words[2:] == ["."], self.args
        for path in upload_set(self.cwd):
            self.print(path)

    # -- project, APIs, accounts
    def do_projects_describe(self) -> None:
        if self.words[2] != self.state["project"]:
            self.fail("PERMISSION_DENIED: the project does not exist or you cannot see it")
        self.print(PROJECT_NUMBER)

    def do_projects_get_iam_policy(self) -> None:
        if self.state.get("project_policy_forbidden"):
            self.fail("PERMISSION_DENIED: resourcemanager.projects.getIamPolicy")
        member = self.flags["filter"].removeprefix("bindings.members=").strip('"')
        for role in self.state["project_roles"].get(member, []):
            self.print(role)

    def do_services_list(self) -> None:
        self.need_project()
        assert "--enabled" in self.args, self.args
        self.print("\n".join(self.state["enabled_services"]))

    def do_services_enable(self) -> None:
        self.need_project()
        self.state["enabled_services"] += self.words[2:]

    def do_iam_service_accounts_describe(self) -> None:
        if self.words[3] not in self.state["service_accounts"]:
            self.missing(self.words[3])

    def do_iam_service_accounts_create(self) -> None:
        self.need_project()
        account = f"{self.words[3]}@{self.state['project']}.iam.gserviceaccount.com"
        self.state["service_accounts"].append(account)

    def do_builds_get_default_service_account(self) -> None:
        self.need_project()
        self.print(self.state["default_build_account"])

    # -- secrets
    def secret(self, name: str) -> dict[str, Any]:
        self.need_project()
        if name not in self.state["secrets"]:
            self.missing(f"Secret [{name}]")
        return self.state["secrets"][name]

    def do_secrets_describe(self) -> None:
        self.secret(self.words[2])

    def do_secrets_create(self) -> None:
        self.need_project()
        self.state["secrets"][self.words[2]] = {"versions": [], "accessors": []}

    def do_secrets_versions_add(self) -> None:
        assert self.flags.get("data-file") == "-", "expected --data-file=-"
        assert self.stdin, "expected the data on stdin"
        secret = self.secret(self.words[3])
        secret["versions"].append("ENABLED")
        secret.setdefault("values", []).append(self.stdin)

    def do_secrets_versions_describe(self) -> None:
        assert self.words[3] == "latest", self.args
        assert self.flags["format"] == "value(name.basename(),state)", self.args
        versions = self.secret(self.flags["secret"])["versions"]
        if not versions:
            self.missing(f"Secret Version [{self.flags['secret']}/versions/latest]")
        self.print(f"{len(versions)}\t{versions[-1]}")

    def do_secrets_add_iam_policy_binding(self) -> None:
        secret = self.secret(self.words[2])
        assert self.flags["role"] == "roles/secretmanager.secretAccessor", self.args
        if self.flags["member"] not in secret["accessors"]:
            secret["accessors"].append(self.flags["member"])

    # -- the function and who may call it
    def function(self, required: bool = True) -> dict[str, Any] | None:
        """The function named by the word after the verb (``functions describe NAME``, ``run
        services get-iam-policy NAME``)."""
        self.need_project()
        assert self.flags.get("region"), self.args
        name = self.words[3] if self.words[0] == "run" else self.words[2]
        found = self.state["functions"].get(name)
        if found is None and required:
            self.missing(f"Resource [projects/{PROJECT}/locations/x/functions/{name}]")
        return found

    def do_functions_describe(self) -> None:
        function = self.function()
        assert function is not None
        if self.flags["format"] == "value(serviceConfig.uri)":
            self.print(function["uri"])
            return
        assert self.flags["format"] == "json(serviceConfig.environmentVariables)", self.args
        # As gcloud prints it: json.dumps, indent 2, sorted keys, not only ASCII.
        shown = {"serviceConfig": {"environmentVariables": function["env"]}}
        self.print(json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False))

    def do_functions_deploy(self) -> None:
        previous = self.function(required=False) or {}
        for forbidden in ("--allow-unauthenticated", "--no-allow-unauthenticated"):
            assert forbidden not in self.args, "the invoker policy is changed explicitly"
        with open(os.path.join(self.cwd, self.flags["env-vars-file"])) as f:
            env = {}
            for line in f.read().splitlines():
                name, _, value = line.partition(": ")
                env[name] = json.loads(value)
        self.state["functions"][self.words[2]] = {
            **previous,
            "env": {**env, "LOG_EXECUTION_ID": "true"},  # Cloud Functions adds this one
            "uri": previous.get("uri", URL),
            "invokers": previous.get("invokers", []),
            "deploys": previous.get("deploys", 0) + 1,
        }

    def do_run_services_get_iam_policy(self) -> None:
        function = self.function()
        assert function is not None
        assert self.flags["filter"] == "bindings.role=roles/run.invoker", self.args
        for member in function["invokers"]:
            self.print(member)

    def do_functions_remove_invoker_policy_binding(self) -> None:
        function = self.function()
        assert function is not None
        if self.flags["member"] in function["invokers"]:
            function["invokers"].remove(self.flags["member"])

    def do_functions_add_invoker_policy_binding(self) -> None:
        function = self.function()
        assert function is not None
        if self.flags["member"] not in function["invokers"]:
            function["invokers"].append(self.flags["member"])

    # -- watching it
    def config(self, flag: str) -> dict[str, Any]:
        with open(os.path.join(self.cwd, self.flags[flag])) as f:
            text = f.read()
        assert "{{" not in text, "a placeholder was left in " + flag
        return json.loads(text)

    def do_logging_metrics_list(self) -> None:
        self.need_project()
        prefix = self.flags["filter"].removeprefix("name:")
        assert self.flags["format"] == "value(name)", self.args
        for name in self.state["metrics"]:
            if name.startswith(prefix):
                self.print(name)

    def do_logging_metrics_create(self) -> None:
        self.need_project()
        if self.words[3] in self.state["metrics"]:
            self.fail(f"ALREADY_EXISTS: Metric [{self.words[3]}]")
        self.state["metrics"][self.words[3]] = self.config("config-from-file")

    def do_logging_metrics_update(self) -> None:
        self.need_project()
        if self.words[3] not in self.state["metrics"]:
            self.missing(f"Metric [{self.words[3]}]")
        self.state["metrics"][self.words[3]] = self.config("config-from-file")

    def dashboard(self) -> dict[str, Any]:
        self.need_project()
        dashboard = self.state["dashboards"].get(self.words[3])
        if dashboard is None:
            self.missing(f"Dashboard [{self.words[3]}]")
        return dashboard

    def do_monitoring_dashboards_describe(self) -> None:
        self.print(self.dashboard()["etag"])

    def do_monitoring_dashboards_create(self) -> None:
        self.need_project()
        dashboard = self.config("config-from-file")
        if dashboard["name"] in self.state["dashboards"]:
            self.fail("ALREADY_EXISTS: the dashboard exists")
        self.state["dashboards"][dashboard["name"]] = {**dashboard, "etag": "etag1"}

    def do_monitoring_dashboards_update(self) -> None:
        current = self.dashboard()
        dashboard = self.config("config-from-file")
        if dashboard.get("etag") not in (None, current["etag"]):
            self.fail("ABORTED: the etag does not match")
        self.state["dashboards"][self.words[3]] = {**dashboard, "etag": f"{current['etag']}0"}

    def do_alpha_monitoring_policies_list(self) -> None:
        self.need_project()
        wanted = label_filter(self.flags["filter"])
        for name, policy in self.state["policies"].items():
            if all(policy["userLabels"].get(k) == v for k, v in wanted.items()):
                self.print(name)

    def do_alpha_monitoring_policies_create(self) -> None:
        self.need_project()
        name = f"projects/{PROJECT}/alertPolicies/{len(self.state['policies']) + 1}"
        self.state["policies"][name] = self.config("policy-from-file")

    def do_alpha_monitoring_policies_update(self) -> None:
        self.need_project()
        if self.words[4] not in self.state["policies"]:
            self.missing(self.words[4])
        self.state["policies"][self.words[4]] = self.config("policy-from-file")

    # -- Pub/Sub, as gcloud and the API check it
    def topics(self) -> dict[str, Any]:
        self.need_project()
        return self.state.setdefault("topics", {})

    def subscriptions(self) -> dict[str, Any]:
        self.need_project()
        return self.state.setdefault("subscriptions", {})

    def topic_id(self, name: str) -> str:
        """A topic id, or its full name in the fake's project, as gcloud takes either."""
        prefix = f"projects/{self.state['project']}/topics/"
        return name.removeprefix(prefix)

    def do_pubsub_topics_describe(self) -> None:
        if self.words[3] not in self.topics():
            self.missing(f"Topic [{self.words[3]}]")

    def do_pubsub_topics_create(self) -> None:
        topics = self.topics()
        if self.words[3] in topics:
            self.fail(f"ALREADY_EXISTS: Topic [{self.words[3]}]")
        topics[self.words[3]] = {"labels": self.flags.get("labels", ""), "bindings": {}}

    def do_pubsub_topics_add_iam_policy_binding(self) -> None:
        topic = self.topics().get(self.words[3])
        if topic is None:
            self.missing(f"Topic [{self.words[3]}]")
        bind(topic["bindings"], self.flags["role"], self.flags["member"])

    def do_pubsub_subscriptions_describe(self) -> None:
        if self.words[3] not in self.subscriptions():
            self.missing(f"Subscription [{self.words[3]}]")

    def do_pubsub_subscriptions_create(self) -> None:
        subscriptions = self.subscriptions()
        if self.words[3] in subscriptions:
            self.fail(f"ALREADY_EXISTS: Subscription [{self.words[3]}]")
        if self.topic_id(self.flags["topic"]) not in self.topics():
            self.missing(f"Topic [{self.flags['topic']}]")
        options = self.subscription_options()
        subscriptions[self.words[3]] = {
            "topic": self.topic_id(self.flags["topic"]),
            "labels": self.flags.get("labels", ""),
            "options": options,
            "bindings": {},
        }

    def do_pubsub_subscriptions_update(self) -> None:
        subscription = self.subscriptions().get(self.words[3])
        if subscription is None:
            self.missing(f"Subscription [{self.words[3]}]")
        assert "topic" not in self.flags, "a subscription's topic cannot be changed"
        assert "labels" not in self.flags, "update takes --update-labels, not --labels"
        subscription["options"].update(self.subscription_options())

    def subscription_options(self) -> dict[str, str]:
        """The options of a create or update, checked as Pub/Sub checks them."""
        flags = self.flags
        options = {
            name: value
            for name, value in flags.items()
            if name not in ("project", "topic", "labels")
        }
        if "ack-deadline" in flags:
            assert 10 <= int(flags["ack-deadline"]) <= 600, "ack deadline out of 10-600"
        if "message-retention-duration" in flags:
            assert 600 <= seconds(flags["message-retention-duration"]) <= 31 * 86400
        if "expiration-period" in flags and flags["expiration-period"] != "never":
            seconds(flags["expiration-period"])
        if "push-endpoint" in flags:
            assert flags["push-endpoint"].startswith("https://"), "a push endpoint is https"
        for needs, needed in (
            ("push-auth-service-account", "push-endpoint"),
            ("push-auth-token-audience", "push-auth-service-account"),
            ("max-delivery-attempts", "dead-letter-topic"),
        ):
            if needs in flags:
                assert needed in flags, f"--{needs} needs --{needed}"
        if "dead-letter-topic" in flags:
            if self.topic_id(flags["dead-letter-topic"]) not in self.topics():
                self.missing(f"Topic [{flags['dead-letter-topic']}]")
            assert 5 <= int(flags.get("max-delivery-attempts", "5")) <= 100
        if "min-retry-delay" in flags or "max-retry-delay" in flags:
            low = seconds(flags.get("min-retry-delay", "10s"))
            high = seconds(flags.get("max-retry-delay", "600s"))
            assert 0 <= low <= high <= 600, "retry delays out of 0-600 s, or min over max"
        return options

    def do_pubsub_subscriptions_add_iam_policy_binding(self) -> None:
        subscription = self.subscriptions().get(self.words[3])
        if subscription is None:
            self.missing(f"Subscription [{self.words[3]}]")
        bind(subscription["bindings"], self.flags["role"], self.flags["member"])

    def do_iam_service_accounts_add_iam_policy_binding(self) -> None:
        self.need_project()
        if self.words[3] not in self.state["service_accounts"]:
            self.missing(self.words[3])
        bindings = self.state.setdefault("account_bindings", {}).setdefault(self.words[3], {})
        bind(bindings, self.flags["role"], self.flags["member"])


def bind(bindings: dict[str, list[str]], role: str, member: str) -> None:
    """Add ``member`` to ``role``, as add-iam-policy-binding does (once)."""
    members = bindings.setdefault(role, [])
    if member not in members:
        members.append(member)

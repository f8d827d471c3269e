"""The score of the last ``make mutate`` run, per module of ``tiktok_mapper`` and in all.

Words used here:

- *mutant*: a copy of one function of the core with one small change (``<`` for ``<=``, another
  string, a dropped argument …), made by mutmut in ``mutants/``.
- *killed*: some test failed with the mutant in place (a timeout counts as killed, as mutmut
  counts it); *survived*: every test that runs the function passed; *no tests*: no test of the
  selection runs the function (``[tool.mutmut]`` in ``pyproject.toml``).
- *not checked*: the run stopped before it came to the mutant.
- *score*: killed over all mutants.

It reads what ``mutmut results --all true`` prints (one ``name: status`` line per mutant), so it
runs from the project's root after ``mutmut run``; ``mutmut show NAME`` shows one mutant.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

COLUMNS = ("killed", "survived", "timeout", "no tests", "not checked", "other")


def statuses() -> list[tuple[str, str]]:
    """(module, status) of every mutant of the last run."""
    mutmut = str(Path(sys.executable).parent / "mutmut")
    printed = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in printed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name.startswith("tiktok_mapper."):
            module = name.split(".")[1]
            found.append((module, status if status in COLUMNS else "other"))
    return found


def table(found: list[tuple[str, str]]) -> list[str]:
    modules = sorted({module for module, _ in found})
    counts = {module: Counter(s for m, s in found if m == module) for module in modules}
    counts["all"] = Counter(status for _, status in found)
    lines = [f"{'module':<14}{'score':>16}" + "".join(f"{c:>12}" for c in COLUMNS)]
    for module, count in counts.items():
        total = sum(count.values())
        killed = count["killed"] + count["timeout"]
        score = f"{killed}/{total} {100 * killed / total:5.1f}%" if total else "-"
        lines.append(f"{module:<14}{score:>16}" + "".join(f"{count[c]:>12}" for c in COLUMNS))
    return lines


def main() -> int:
    found = statuses()
    if not found:
        print("no mutants: run mutmut first (make mutate)", file=sys.stderr)
        return 1
    print("\n".join(table(found)))
    print("survivors: .venv/bin/mutmut results; one of them: .venv/bin/mutmut show NAME")
    return 0


if __name__ == "__main__":
    sys.exit(main())

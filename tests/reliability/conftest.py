"""Counts the reliability cases as they run and prints "reliability: N cases tried, N passed" at the end.

A *case* is one bad input (a parametrised test's ``case``; all the operations it
goes through must pass for it to count as passed) or one fault/security test.
An expected failure (``xfail``: a known gap, with its reason) counts as tried, not passed.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

GROUPS = {
    "test_bad_audio": "bad inputs",
    "test_long_audio": "bad inputs",
    "test_bad_data": "bad inputs",
    "test_bad_config_and_models": "bad inputs",
    "test_faults": "faults",
    "test_gui_faults": "faults",
    "test_security": "security",
}

_outcomes: dict[tuple[str, str], list[bool]] = defaultdict(list)  # (group, case) -> passed, per check


def _case_of(item: pytest.Item) -> tuple[str, str]:
    module = item.module.__name__.rsplit(".", 1)[-1]
    group = GROUPS.get(module, module)
    params = getattr(getattr(item, "callspec", None), "params", {})
    case = params.get("case")
    if case is not None:
        return group, f"{module}:{case}"
    return group, f"{module}:{item.originalname}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # The call, or the setup when it failed or skipped (then there is no call to count).
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped and not hasattr(report, "wasxfail"):
            return  # not tried (e.g. needs a GPU)
        _outcomes[_case_of(item)].append(report.passed)


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    per_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (group, _), checks in _outcomes.items():
        per_group[group][0] += 1
        per_group[group][1] += all(checks)
    tried = sum(t for t, _ in per_group.values())
    passed = sum(p for _, p in per_group.values())
    checks = sum(len(c) for c in _outcomes.values())
    detail = ", ".join(f"{g} {p}/{t}" for g, (t, p) in sorted(per_group.items()))
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(f"reliability: {tried} cases tried, {passed} passed ({detail}; {checks} checks)")

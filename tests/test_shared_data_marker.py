"""The shared_data marker of tests/conftest.py: a skip with its reason here, a failure in CI.

Each case runs a small suite in a fresh directory with this project's conftest and pytest
settings, so the folder it names is absent there unless the case creates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CHECKOUT = Path(__file__).resolve().parents[1]
SUITE = """
import pytest

pytestmark = pytest.mark.shared_data("demo_set")


def test_reads_the_set():
    assert True


@pytest.mark.shared_data("other_set")
def test_reads_two_sets():
    assert True
"""
REASON = "needs ../shared/data/demo_set (absent here; CI sets RNNKIT_REQUIRE_SHARED_DATA=1)"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A directory holding the project's conftest, its pytest markers and SUITE."""
    pytester.makeconftest((CHECKOUT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyprojecttoml((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def _run(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variable: str | None):
    if variable is None:
        monkeypatch.delenv("RNNKIT_REQUIRE_SHARED_DATA", raising=False)
    else:
        monkeypatch.setenv("RNNKIT_REQUIRE_SHARED_DATA", variable)
    return suite.runpytest("test_suite.py", "-p", "no:cacheprovider", "-p", "no:randomly", "-rs")


def test_an_absent_folder_skips_with_one_clear_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(suite, monkeypatch, None)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([f"SKIPPED*test_suite.py*: {REASON}"])
    result.stdout.fnmatch_lines(["SKIPPED*test_suite.py:*: needs *other_set, *demo_set (absent*"])
    assert _run(suite, monkeypatch, "0").ret == 0  # "0" leaves the skips as they are


def test_with_the_variable_set_an_absent_folder_fails(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(suite, monkeypatch, "1")
    result.assert_outcomes(errors=2)
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"*{REASON}; RNNKIT_REQUIRE_SHARED_DATA is set, so this fails*"])


def test_present_folders_run_the_tests(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("demo_set", "other_set"):
        (suite.path / "shared" / "data" / folder).mkdir(parents=True)  # ./shared/data is searched
    _run(suite, monkeypatch, "1").assert_outcomes(passed=2)


def test_a_marker_without_folder_names_is_a_usage_error(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(test_suite="import pytest\n\n@pytest.mark.shared_data\ndef test_x(): pass\n")
    result = _run(suite, monkeypatch, None)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*shared_data needs folder names of ../shared/data*"])

"""The ``pledge`` command end to end: every command, its output streams and its exit status.

Most tests run the Typer app in-process with ``CliRunner``, which keeps standard output and
standard error apart; a few run the installed console script in a real process, where the
locale, the real streams and Python's own traceback printing are in play. Each test runs in
its own empty working directory, without ``PLEDGE_CONFIG``, so that which declaration is read
depends only on the test.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from typer.testing import CliRunner, Result

import pledge
from pledge.cli import app
from pledge.declaration.lint import RULES

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/pledge.yaml"))
PLEDGE = Path(sys.executable).parent / "pledge"
"""The console script installed next to the interpreter running the tests."""

SUPERVISORY_AUTHORITY = """\
  supervisory_authority:
    name: Berliner Beauftragte für Datenschutz und Informationsfreiheit
    country: DE
    url: https://www.datenschutz-berlin.de
"""
LEGITIMATE_INTEREST = "    legitimate_interest: Keeping accounts safe from takeover and abuse.\n"
FINDING = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): (error|warning) [A-Z]\d{3}: .+$"
)
"""One finding as printed: ``FILE:LINE:COLUMN: SEVERITY CODE: MESSAGE``."""

Write = Callable[[str, str], Path]


def run(*args: str | Path, env: Mapping[str, str] | None = None) -> Result:
    """Run ``pledge ARGS`` in-process, as typed on a command line."""
    return CliRunner().invoke(app, [str(arg) for arg in args], env=env)


def run_process(*args: str | Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``pledge`` script in the working directory, with extra variables."""
    environment = {key: value for key, value in os.environ.items() if key != "PLEDGE_CONFIG"}
    return subprocess.run(
        [PLEDGE, *map(str, args)],
        capture_output=True,
        env={**environment, **env},
        check=False,
        timeout=60,
    )


def lines(text: str) -> list[str]:
    """The non-empty lines of an output."""
    return [line for line in text.splitlines() if line]


def line_of(text: str, fragment: str) -> int:
    """The 1-based number of the only line of ``text`` that contains ``fragment``."""
    numbers = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(numbers) == 1, f"{fragment!r} is on lines {numbers}"
    return numbers[0]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, and no ``PLEDGE_CONFIG`` inherited from the shell."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLEDGE_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def write() -> Write:
    """A function that writes a file in the working directory and returns its relative path."""

    def write_file(name: str, text: str) -> Path:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def clean(write: Write, clean_yaml: str) -> Path:
    """``pledge.yaml``: the clean declaration, which no rule has anything to say about."""
    return write("pledge.yaml", clean_yaml)


@pytest.fixture
def warned(write: Write, revised: Callable[..., str]) -> Path:
    """``warned.yaml``: a declaration with one warning (G309, no supervisory authority)."""
    return write("warned.yaml", revised((SUPERVISORY_AUTHORITY, "")))


@pytest.fixture
def failing(write: Write, revised: Callable[..., str]) -> Path:
    """``failing.yaml``: a declaration with one lint error (P107) and one warning (G309)."""
    return write("failing.yaml", revised((LEGITIMATE_INTEREST, ""), (SUPERVISORY_AUTHORITY, "")))


@pytest.fixture
def invalid(write: Write) -> Path:
    """``invalid.yaml``: well-formed YAML that is not a valid declaration."""
    return write("invalid.yaml", "pledge: 1\ncontroller:\n  name: Acme\n  colour: blue\n")


@pytest.fixture
def malformed(write: Write) -> Path:
    """``malformed.yaml``: not even YAML; the list item on line 4, column 3 is the error."""
    return write("malformed.yaml", "pledge: 1\ncontroller:\n  name: Acme\n  - oops\n")


@pytest.fixture
def material(write: Write, revised: Callable[..., str]) -> Path:
    """``material.yaml``: the clean declaration, with fraud data kept longer and a new version."""
    return write(
        "material.yaml",
        revised(("retention: P90D", "retention: P1Y"), ('version: "2.1"', 'version: "2.2"')),
    )


@pytest.fixture
def editorial(write: Write, revised: Callable[..., str]) -> Path:
    """``editorial.yaml``: the clean declaration with only its policy version changed."""
    return write("editorial.yaml", revised(('version: "2.1"', 'version: "2.2"')))


# --- pledge check --------------------------------------------------------------------------


def test_check_passes_a_clean_declaration_and_says_so(clean: Path) -> None:
    """A clean declaration exits 0, prints no finding and reports "no problems found"."""
    result = run("check", "-c", clean)

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "pledge.yaml: no problems found\n"


def test_check_passes_a_declaration_with_only_warnings(warned: Path) -> None:
    """Warnings are printed, and the summary counts them, but the status stays 0."""
    result = run("check", "-c", warned)

    assert result.exit_code == 0
    assert [line.split(": ")[1] for line in lines(result.stdout)] == ["warning G309"]
    assert result.stderr == "warned.yaml: 0 errors, 1 warning\n"


def test_check_strict_fails_on_warnings(warned: Path) -> None:
    """``--strict`` turns a warning into exit status 1."""
    assert run("check", "-c", warned, "--strict").exit_code == 1


def test_check_no_strict_is_the_default(warned: Path) -> None:
    """``--no-strict`` is accepted and behaves as no option at all."""
    assert run("check", "-c", warned, "--no-strict").exit_code == 0


def test_check_prints_each_error_as_file_line_column_code_message(failing: Path) -> None:
    """An error fails with status 1 and a ``FILE:LINE:COL: error CODE: message`` line."""
    result = run("check", "-c", failing)

    assert result.exit_code == 1
    printed = lines(result.stdout)
    assert all(FINDING.match(line) for line in printed), printed
    text = failing.read_text(encoding="utf-8")
    at = line_of(text, "  fraud_prevention:")
    assert any(line.startswith(f"failing.yaml:{at}:3: error P107: ") for line in printed)
    assert result.stderr == "failing.yaml: 1 error, 1 warning\n"


def test_check_sorts_findings_by_position(failing: Path) -> None:
    """Findings come out in the order of the lines they point at."""
    positions = [
        (int(found["line"]), int(found["column"]))
        for found in (FINDING.match(line) for line in lines(run("check", "-c", failing).stdout))
        if found
    ]

    assert len(positions) == 2
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("fixture", "status", "ok", "errors", "warnings"),
    [
        ("clean", 0, True, 0, 0),
        ("warned", 0, True, 0, 1),
        ("failing", 1, False, 1, 1),
    ],
)
def test_check_json_reports_ok_counts_and_findings(
    request: pytest.FixtureRequest,
    fixture: str,
    status: int,
    ok: bool,
    errors: int,
    warnings: int,
) -> None:
    """``--format json`` prints one object whose ``ok`` and counts agree with the status."""
    path: Path = request.getfixturevalue(fixture)
    result = run("check", "-c", path, "--format", "json")

    assert result.exit_code == status
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["file"] == str(path)
    assert (report["ok"], report["errors"], report["warnings"]) == (ok, errors, warnings)
    assert len(report["findings"]) == errors + warnings
    for finding in report["findings"]:
        assert set(finding) == {"code", "severity", "message", "file", "line", "column", "path"}
        assert finding["file"] == str(path)


def test_check_json_locates_a_finding_by_dotted_path(failing: Path) -> None:
    """Each finding in JSON names where it is, as a dotted path inside the declaration."""
    report = json.loads(run("check", "-c", failing, "--format", "json").stdout)

    codes = {finding["code"]: finding["path"] for finding in report["findings"]}
    assert codes["P107"].startswith("purposes.fraud_prevention")


def test_check_json_strict_is_not_ok_with_warnings(warned: Path) -> None:
    """With ``--strict``, ``ok`` is false exactly when the status is 1."""
    result = run("check", "-c", warned, "--format", "json", "--strict")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["ok"] is False


def test_check_ignore_skips_a_rule(failing: Path) -> None:
    """``--ignore P107`` drops the only error, so the check passes."""
    result = run("check", "-c", failing, "--ignore", "P107")

    assert result.exit_code == 0
    assert "P107" not in result.stdout
    assert "G309" in result.stdout


def test_check_ignore_is_repeatable(failing: Path) -> None:
    """Several ``--ignore`` options skip several rules, even under ``--strict``."""
    result = run("check", "-c", failing, "--ignore", "P107", "--ignore", "G309", "--strict")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "failing.yaml: no problems found\n"


def test_check_ignore_of_an_unknown_code_is_a_usage_error(failing: Path) -> None:
    """A mistyped code in ``--ignore`` exits 2 and names it, rather than skipping nothing."""
    result = run("check", "-c", failing, "--ignore", "P107", "--ignore", "G31O")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: --ignore: no lint rule G31O")


def test_check_missing_file_is_a_usage_error_without_traceback() -> None:
    """A file that does not exist exits 2 with ``error: FILE: no such file``."""
    result = run("check", "-c", "absent.yaml")

    assert result.exit_code == 2
    assert result.stderr == "error: absent.yaml: no such file\n"
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)


def test_check_directory_is_a_usage_error(workdir: Path) -> None:
    """A directory given as the declaration exits 2 and says it cannot be read."""
    Path("folder").mkdir()
    result = run("check", "-c", "folder")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: folder: cannot read (")


def test_check_reads_pledge_yaml_in_the_working_directory(clean: Path) -> None:
    """Without ``-c`` or ``PLEDGE_CONFIG``, ``./pledge.yaml`` is read."""
    result = run("check")

    assert result.exit_code == 0
    assert result.stderr == "pledge.yaml: no problems found\n"


def test_check_without_any_declaration_names_the_default_file() -> None:
    """In an empty directory the error names ``pledge.yaml``, the file looked for."""
    result = run("check")

    assert result.exit_code == 2
    assert result.stderr == "error: pledge.yaml: no such file\n"


def test_check_reads_the_file_named_by_pledge_config(clean: Path, warned: Path) -> None:
    """``PLEDGE_CONFIG`` wins over ``./pledge.yaml``."""
    result = run("check", env={"PLEDGE_CONFIG": str(warned)})

    assert result.exit_code == 0
    assert lines(result.stdout)[0].startswith("warned.yaml:")
    assert result.stderr == "warned.yaml: 0 errors, 1 warning\n"


def test_check_config_option_wins_over_pledge_config(warned: Path, failing: Path) -> None:
    """``-c`` wins over ``PLEDGE_CONFIG``."""
    result = run("check", "-c", failing, env={"PLEDGE_CONFIG": str(warned)})

    assert result.exit_code == 1
    assert result.stderr == "failing.yaml: 1 error, 1 warning\n"


def test_check_long_config_option_is_the_same_as_c(warned: Path) -> None:
    """``--config FILE`` is the long form of ``-c FILE``."""
    assert run("check", "--config", warned).stdout == run("check", "-c", warned).stdout


def test_check_reports_malformed_yaml_at_its_position(malformed: Path) -> None:
    """A YAML syntax error exits 1 with one E101 finding at the offending line and column."""
    result = run("check", "-c", malformed)

    assert result.exit_code == 1
    (finding,) = lines(result.stdout)
    assert finding.startswith("malformed.yaml:4:3: error E101: YAML syntax error")
    assert result.stderr == "malformed.yaml: 1 error, 0 warnings\n"


def test_check_reports_every_load_error_of_an_invalid_declaration(invalid: Path) -> None:
    """A declaration that does not validate exits 1 and lists its E1xx findings."""
    result = run("check", "-c", invalid)

    assert result.exit_code == 1
    printed = lines(result.stdout)
    assert printed
    assert all(FINDING.match(line) and " error E1" in line for line in printed), printed
    assert any("colour" in line for line in printed)


def test_check_reports_a_file_that_is_not_utf8(workdir: Path) -> None:
    """Bytes that are not UTF-8 are a load error (status 1), not a crash."""
    Path("latin1.yaml").write_bytes("pledge: 1\nname: Stra\u00dfe\n".encode("latin-1"))
    result = run("check", "-c", "latin1.yaml")

    assert result.exit_code == 1
    assert result.stdout.startswith("latin1.yaml:1:1: error E101: ")


def test_check_rejects_an_unknown_option(clean: Path) -> None:
    """An unknown option is a usage error: status 2 and the command's usage line."""
    result = run("check", "--colour")

    assert result.exit_code == 2
    assert "Usage: pledge check" in result.stderr
    assert "--colour" in result.stderr


def test_check_rejects_an_unknown_format(clean: Path) -> None:
    """A ``--format`` value that is not offered is a usage error."""
    result = run("check", "--format", "xml")

    assert result.exit_code == 2
    assert "xml" in result.stderr


@pytest.mark.parametrize("name", ["[draft].yaml", "[/draft].yaml", ":smile:.yaml", "a b.yaml"])
def test_check_prints_file_names_verbatim(write: Write, clean_yaml: str, name: str) -> None:
    """File names with brackets or colons are printed as they are, never read as markup."""
    path = write(name, clean_yaml)
    result = run("check", "-c", path)

    assert result.exit_code == 0
    assert result.stderr == f"{name}: no problems found\n"


def test_check_never_wraps_a_long_summary(write: Write, clean_yaml: str) -> None:
    """The summary stays on one line however long the file name."""
    path = write("deeply/" * 12 + "nested-declaration.yaml", clean_yaml)

    assert run("check", "-c", path).stderr == f"{path}: no problems found\n"


# --- pledge render -------------------------------------------------------------------------


def test_render_prints_markdown_by_default(clean: Path) -> None:
    """Without options, the policy is Markdown on standard output, and nothing on stderr."""
    result = run("render")

    assert result.exit_code == 0
    assert result.stdout.startswith("# ")
    assert "Acme Cloud" in result.stdout
    assert result.stderr == ""


def test_render_html_to_a_file(clean: Path) -> None:
    """``--format html -o FILE`` writes a whole HTML page and says ``wrote FILE``."""
    result = run("render", "--format", "html", "-o", "public/privacy.html")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "wrote public/privacy.html\n"
    page = BeautifulSoup(Path("public/privacy.html").read_text(encoding="utf-8"), "html.parser")
    assert page.find("html") is not None
    assert page.find("h1") is not None
    assert "Acme Cloud" in page.get_text()


def test_render_long_output_option_is_the_same_as_o(clean: Path) -> None:
    """``--output FILE`` is the long form of ``-o FILE``."""
    run("render", "--output", "long.md")
    run("render", "-o", "short.md")

    assert Path("long.md").read_bytes() == Path("short.md").read_bytes()


def test_render_json_is_the_policy_as_data(clean: Path) -> None:
    """``--format json`` prints one JSON object with the policy's sections."""
    result = run("render", "--format", "json")

    assert result.exit_code == 0
    policy = json.loads(result.stdout)
    assert policy["sections"]
    assert "what-changed" not in json.dumps(policy["sections"])


def test_render_previous_adds_what_changed(clean: Path, material: Path) -> None:
    """``--previous OLD`` opens the policy with a "What changed" section; without it, none."""
    with_previous = run("render", "-c", material, "--previous", clean)
    without = run("render", "-c", material)

    assert with_previous.exit_code == 0
    assert "## What changed" in with_previous.stdout
    assert "What changed" not in without.stdout


def test_render_previous_adds_what_changed_to_html(clean: Path, material: Path) -> None:
    """The "What changed" section is a heading of the HTML page too."""
    result = run("render", "-c", material, "--previous", clean, "--format", "html")

    page = BeautifulSoup(result.stdout, "html.parser")
    headings = [heading.get_text(strip=True) for heading in page.find_all(["h2", "h3"])]
    assert "What changed" in headings


def test_render_invalid_declaration_writes_nothing(invalid: Path) -> None:
    """A declaration that does not load exits 1, prints its findings on stderr, writes nothing."""
    result = run("render", "-c", invalid, "-o", "out/privacy.md")

    assert result.exit_code == 1
    assert result.stdout == ""
    printed = lines(result.stderr)
    assert printed
    assert all(FINDING.match(line) for line in printed), printed
    assert not Path("out").exists()


def test_render_invalid_previous_writes_nothing(clean: Path, malformed: Path) -> None:
    """A ``--previous`` that does not load fails the same way as the declaration itself."""
    result = run("render", "--previous", malformed, "-o", "privacy.md")

    assert result.exit_code == 1
    assert lines(result.stderr)[0].startswith("malformed.yaml:4:3: error E101: ")
    assert not Path("privacy.md").exists()


def test_render_missing_previous_is_a_usage_error(clean: Path) -> None:
    """A ``--previous`` file that does not exist exits 2."""
    result = run("render", "--previous", "releases/old.yaml")

    assert result.exit_code == 2
    assert result.stderr == "error: releases/old.yaml: no such file\n"


def test_render_prints_each_load_error_on_one_line(write: Write) -> None:
    """Load errors on stderr are never wrapped, however long the message."""
    key = "a_key_long_enough_that_its_finding_will_not_fit_on_an_eighty_column_terminal"
    path = write("long.yaml", f"pledge: 1\ncontroller:\n  {key}: 1\n")
    result = run("render", "-c", path)

    assert result.exit_code == 1
    assert any(key in line and FINDING.match(line) for line in result.stderr.splitlines())


@pytest.mark.parametrize("output_format", ["markdown", "html", "json"])
def test_render_is_byte_identical_across_runs(
    clean: Path, material: Path, output_format: str
) -> None:
    """Two renderings of the same declaration, with a previous one, are the same bytes."""
    for name in ("first", "second"):
        result = run(
            "render", "-c", material, "--previous", clean, "--format", output_format, "-o", name
        )
        assert result.exit_code == 0

    assert Path("first").read_bytes() == Path("second").read_bytes()


def test_render_to_stdout_matches_the_file(clean: Path) -> None:
    """Standard output carries the same bytes ``-o`` writes."""
    printed = run("render", "--format", "html").stdout_bytes
    run("render", "--format", "html", "-o", "privacy.html")

    assert printed == Path("privacy.html").read_bytes()


def test_render_under_a_regular_file_is_a_usage_error(clean: Path) -> None:
    """An ``-o`` path under a regular file exits 2 and says which path is in the way."""
    result = run("render", "-o", "pledge.yaml/privacy.md")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: pledge.yaml/privacy.md: cannot write (pledge.yaml is not a directory)\n"
    )
    assert clean.is_file()


def test_render_deeper_under_a_regular_file_is_a_usage_error(clean: Path) -> None:
    """An ``-o`` path several levels under a regular file exits 2 too."""
    result = run("render", "-o", "pledge.yaml/public/privacy.md")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: pledge.yaml/public/privacy.md: cannot write (")


def test_render_onto_a_directory_is_a_usage_error(clean: Path) -> None:
    """An ``-o`` path that is a directory exits 2."""
    Path("public").mkdir()
    result = run("render", "-o", "public")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: public: cannot write (")


def test_render_rejects_an_unknown_format(clean: Path) -> None:
    """A format that is not offered is a usage error."""
    assert run("render", "--format", "pdf").exit_code == 2


# --- pledge ropa ---------------------------------------------------------------------------


def test_ropa_csv_has_a_header_and_one_row_per_purpose(clean: Path, clean_yaml: str) -> None:
    """The default CSV has a header row, then one row of the same width per purpose."""
    result = run("ropa")

    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header, *records = rows
    assert {"Purpose", "Legal basis"} <= set(header)
    assert len(records) == len(pledge.loads(clean_yaml).purposes)
    assert all(len(record) == len(header) for record in records)


def test_ropa_markdown_has_a_section_per_purpose(clean: Path) -> None:
    """``--format markdown`` has a heading for each purpose the CSV lists."""
    rows = list(csv.DictReader(io.StringIO(run("ropa").stdout)))
    result = run("ropa", "--format", "markdown")

    assert result.exit_code == 0
    assert result.stdout.startswith("# Record of processing activities")
    headings = {line.removeprefix("## ") for line in result.stdout.splitlines()}
    assert {row["Purpose"] for row in rows} <= headings


def test_ropa_output_file_holds_what_stdout_shows(clean: Path) -> None:
    """``-o FILE`` writes the bytes standard output would carry, and says so."""
    printed = run("ropa").stdout_bytes
    result = run("ropa", "-o", "records/ropa.csv")

    assert result.stderr == "wrote records/ropa.csv\n"
    assert Path("records/ropa.csv").read_bytes() == printed


def test_ropa_invalid_declaration_exits_1(invalid: Path) -> None:
    """A declaration that does not load exits 1 with its findings on stderr."""
    result = run("ropa", "-c", invalid)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert all(FINDING.match(line) for line in lines(result.stderr))


def test_ropa_under_a_regular_file_is_a_usage_error(clean: Path) -> None:
    """An unwritable ``-o`` exits 2."""
    result = run("ropa", "-o", "pledge.yaml/ropa.csv")

    assert result.exit_code == 2
    assert "is not a directory" in result.stderr


# --- pledge diff ---------------------------------------------------------------------------


def test_diff_of_identical_declarations_is_no_change(clean: Path, write: Write) -> None:
    """Two identical declarations exit 0 and say "No changes." on stderr."""
    copy = write("copy.yaml", clean.read_text(encoding="utf-8"))
    result = run("diff", clean, copy)

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "No changes.\n"


def test_diff_of_editorial_changes_exits_0(clean: Path, editorial: Path) -> None:
    """A changed policy version is editorial: listed, but the status is 0."""
    result = run("diff", clean, editorial)

    assert result.exit_code == 0
    (change,) = lines(result.stdout)
    assert change.startswith("editorial  ")
    assert "2.2" in change


def test_diff_of_a_material_change_exits_1(clean: Path, material: Path) -> None:
    """A longer retention is material: exit 1, and each change is marked."""
    result = run("diff", clean, material)

    assert result.exit_code == 1
    marks = sorted(line.split()[0] for line in lines(result.stdout))
    assert marks == ["editorial", "material"]


def test_diff_json_lists_changes_with_their_kind(clean: Path, material: Path) -> None:
    """``--format json`` prints ``material`` and the changes with path, kind and summary."""
    result = run("diff", "--format", "json", clean, material)

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["material"] is True
    for change in report["changes"]:
        assert set(change) == {"path", "kind", "material", "summary"}
    paths = {change["path"]: change["material"] for change in report["changes"]}
    assert paths["policy.version"] is False
    assert any(
        path.startswith("purposes.fraud_prevention")
        for path, is_material in paths.items()
        if is_material
    )


def test_diff_json_of_no_change_is_empty(clean: Path) -> None:
    """Comparing a declaration with itself in JSON gives no changes and nothing on stderr."""
    result = run("diff", "--format", "json", clean, clean)

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"material": False, "changes": []}
    assert result.stderr == ""


@pytest.mark.parametrize("broken", ["invalid", "malformed"])
@pytest.mark.parametrize("side", ["old", "new"])
def test_diff_of_an_invalid_declaration_exits_2(
    request: pytest.FixtureRequest, clean: Path, broken: str, side: str
) -> None:
    """A declaration that does not load, on either side, is bad input: status 2, findings."""
    path: Path = request.getfixturevalue(broken)
    old, new = (path, clean) if side == "old" else (clean, path)
    result = run("diff", old, new)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr)
    assert all(FINDING.match(line) for line in lines(result.stderr))


@pytest.mark.parametrize("side", ["old", "new"])
def test_diff_of_a_missing_file_exits_2(clean: Path, side: str) -> None:
    """A file that does not exist, on either side, exits 2 and names it."""
    old, new = ("gone.yaml", clean) if side == "old" else (clean, "gone.yaml")
    result = run("diff", old, new)

    assert result.exit_code == 2
    assert result.stderr == "error: gone.yaml: no such file\n"


def test_diff_needs_two_files(clean: Path) -> None:
    """A missing argument is a usage error."""
    result = run("diff", clean)

    assert result.exit_code == 2
    assert "Usage: pledge diff" in result.stderr


# --- pledge schema -------------------------------------------------------------------------


def declaration_schema() -> dict[str, Any]:
    """The JSON Schema ``pledge schema`` prints."""
    result = run("schema")
    assert result.exit_code == 0
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def test_schema_is_a_json_schema_2020_12() -> None:
    """``pledge schema`` prints a JSON Schema 2020-12 of a mapping of sections."""
    schema = declaration_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert "pledge" in schema["properties"]


def test_schema_declaration_is_the_default() -> None:
    """``pledge schema declaration`` prints what ``pledge schema`` prints."""
    assert run("schema", "declaration").stdout == run("schema").stdout


def test_the_examples_are_there() -> None:
    """The examples the next test checks are found (an empty list would skip it silently)."""
    assert EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.parent.name)
def test_schema_accepts_each_example(example: Path) -> None:
    """Every top-level key of each example is a property, and every required one is there."""
    schema = declaration_schema()
    keys = set(yaml.safe_load(example.read_text(encoding="utf-8")))

    assert keys <= set(schema["properties"])
    assert set(schema["required"]) <= keys


def test_schema_accepts_the_clean_declaration(clean_yaml: str) -> None:
    """The fixture declaration uses only properties the schema names."""
    schema = declaration_schema()

    assert set(yaml.safe_load(clean_yaml)) <= set(schema["properties"])


def test_schema_policy_describes_render_json(clean: Path) -> None:
    """``pledge schema policy`` names every top-level key of ``render --format json``."""
    result = run("schema", "policy")
    policy = json.loads(run("render", "--format", "json").stdout)

    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert set(policy) <= set(schema["properties"])


def test_schema_rejects_an_unknown_kind() -> None:
    """A kind other than declaration or policy is a usage error."""
    result = run("schema", "ropa")

    assert result.exit_code == 2
    assert "Usage: pledge schema" in result.stderr


# --- pledge rules, --version, --help -------------------------------------------------------


def test_rules_lists_every_rule_once() -> None:
    """``pledge rules`` prints one line per rule, code first, with its severity."""
    result = run("rules")

    assert result.exit_code == 0
    listed = {line.split()[0]: line.split()[1] for line in lines(result.stdout)}
    assert len(lines(result.stdout)) == len(RULES)
    assert listed == {code: str(rule.severity) for code, rule in RULES.items()}


def test_version_prints_the_package_version() -> None:
    """``pledge --version`` prints ``pledge X.Y.Z`` and exits 0."""
    result = run("--version")

    assert result.exit_code == 0
    assert result.stdout == f"pledge {pledge.__version__}\n"


def test_no_command_prints_the_commands_and_exits_2() -> None:
    """``pledge`` alone lists the commands, with status 2."""
    result = run()

    assert result.exit_code == 2
    for command in ("check", "render", "ropa", "diff", "schema", "rules"):
        assert command in result.output


@pytest.mark.parametrize("command", ["check", "render", "ropa", "diff", "schema", "rules"])
def test_every_command_has_help(command: str) -> None:
    """``pledge COMMAND --help`` prints the command's usage and exits 0."""
    result = run(command, "--help")

    assert result.exit_code == 0
    assert f"Usage: pledge {command}" in result.stdout


# --- no traceback for a user's mistake -----------------------------------------------------

BAD_INVOCATIONS: list[tuple[str, ...]] = [
    ("check", "-c", "absent.yaml"),
    ("check", "-c", "folder"),
    ("check", "-c", "invalid.yaml"),
    ("check", "-c", "malformed.yaml"),
    ("check", "-c", "empty.yaml"),
    ("check", "-c", "list.yaml"),
    ("check", "-c", "binary.yaml"),
    ("check", "-c", "[/draft].yaml"),
    ("check", "--format", "xml"),
    ("check", "--ignore"),
    ("check", "--ignore", "X999"),
    ("check", "--colour"),
    ("render", "-c", "invalid.yaml"),
    ("render", "-c", "malformed.yaml", "--format", "html"),
    ("render", "--previous", "absent.yaml"),
    ("render", "--previous", "invalid.yaml"),
    ("render", "-o", "blocker/privacy.md"),
    ("render", "-o", "folder"),
    ("render", "--format", "pdf"),
    ("ropa", "-c", "absent.yaml"),
    ("ropa", "-c", "empty.yaml"),
    ("ropa", "--format", "xlsx"),
    ("ropa", "-o", "blocker/ropa.csv"),
    ("diff", "absent.yaml", "pledge.yaml"),
    ("diff", "pledge.yaml", "folder"),
    ("diff", "invalid.yaml", "pledge.yaml"),
    ("diff", "pledge.yaml", "binary.yaml"),
    ("diff", "pledge.yaml"),
    ("diff", "--format", "yaml", "pledge.yaml", "pledge.yaml"),
    ("schema", "ropa"),
    ("rules", "--all"),
    ("publish",),
    (),
]


def invocation(args: tuple[str, ...]) -> str:
    """A test id: the command line, or a note that there is none."""
    return " ".join(args) or "(no arguments)"


@pytest.fixture
def mistakes(write: Write, clean: Path, invalid: Path, malformed: Path) -> None:
    """The files the bad invocations name: broken declarations, a folder, a file in the way."""
    write("empty.yaml", "")
    write("list.yaml", "- pledge: 1\n")
    write("[/draft].yaml", "pledge: 1\n")
    write("blocker", "not a directory\n")
    Path("binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    Path("folder").mkdir()


@pytest.mark.usefixtures("mistakes")
@pytest.mark.parametrize("args", BAD_INVOCATIONS, ids=invocation)
def test_a_mistake_is_reported_without_a_traceback(args: tuple[str, ...]) -> None:
    """Every bad invocation ends with status 1 or 2 and a message, never an exception."""
    result = run(*args)

    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.strip()


# --- the installed script, in a real process -----------------------------------------------


def test_script_prints_its_version() -> None:
    """The console script runs and reports the package version."""
    completed = run_process("--version")

    assert completed.returncode == 0
    assert completed.stdout.decode() == f"pledge {pledge.__version__}\n"


def test_script_checks_pledge_yaml_in_the_working_directory(clean: Path) -> None:
    """A real ``pledge check`` in a directory with a clean ``pledge.yaml`` exits 0."""
    completed = run_process("check")

    assert completed.returncode == 0
    assert completed.stdout == b""
    assert completed.stderr.decode() == "pledge.yaml: no problems found\n"


def test_script_reads_pledge_config_from_the_environment(clean: Path, failing: Path) -> None:
    """A real process honours ``PLEDGE_CONFIG``."""
    completed = run_process("check", PLEDGE_CONFIG=str(failing))

    assert completed.returncode == 1
    assert completed.stdout.decode().startswith("failing.yaml:")


@pytest.mark.usefixtures("mistakes")
@pytest.mark.parametrize(
    "args",
    [
        ("check", "-c", "absent.yaml"),
        ("check", "-c", "[/draft].yaml"),
        ("render", "-o", "blocker/privacy.md"),
        ("diff", "pledge.yaml", "binary.yaml"),
        ("check", "--colour"),
        (),
    ],
    ids=invocation,
)
def test_script_never_prints_a_traceback(args: tuple[str, ...]) -> None:
    """In a real process, a user's mistake prints a message and no Python traceback."""
    completed = run_process(*args)

    assert completed.returncode in (1, 2)
    assert b"Traceback" not in completed.stdout + completed.stderr
    assert (completed.stdout + completed.stderr).strip()


@pytest.mark.parametrize("output_format", ["markdown", "html", "json"])
def test_script_output_is_utf8_whatever_the_locale(clean: Path, output_format: str) -> None:
    """Redirected output is the bytes ``-o`` writes, even where stdout's encoding is ASCII."""
    printed = run_process("render", "--format", output_format, PYTHONIOENCODING="ascii")
    run_process("render", "--format", output_format, "-o", "privacy")

    assert printed.returncode == 0, printed.stderr.decode()
    assert printed.stdout == Path("privacy").read_bytes()

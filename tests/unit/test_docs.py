"""The user documentation in ``docs/`` stays true to the code.

Every field of the declaration, every allowed value, every built-in category and purpose,
every lint rule, load error, CLI command and option is documented, or a test here fails.
``docs/lint-rules.md`` is generated from the rule registry: run
``PLEDGE_UPDATE_DOCS=1 make test`` to rewrite it after changing a rule.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pledge.declaration import loads
from pledge.declaration.lint import RULES, Rule, lint
from pledge.declaration.model import Declaration
from pledge.declaration.taxonomy import builtin_purposes, builtin_taxonomy, consent_ages
from pledge.errors import DeclarationError

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
UPDATE_DOCS = "PLEDGE_UPDATE_DOCS"
FIELD_TABLE_HEADER = "| field | type | required | meaning |"


def read_doc(name: str) -> str:
    """The text of ``docs/<name>``."""
    return (DOCS / name).read_text(encoding="utf-8")


# --- the declaration schema ----------------------------------------------------------------------


def schema_field_paths(schema: Mapping[str, Any]) -> set[str]:
    """Every field path of a JSON schema, as docs/declaration.md writes them.

    Properties are joined with dots, keys of a mapping chosen by the user (additional or
    pattern properties) become ``<key>``
    and list items ``[]``; ``$ref``, ``anyOf``, ``allOf`` and ``oneOf`` are followed.
    """
    definitions = schema.get("$defs", {})
    paths: set[str] = set()

    def visit(node: Mapping[str, Any], path: str, refs: tuple[str, ...]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in refs:  # a recursive schema: its fields were listed on the way in
                return
            visit(definitions[name], path, (*refs, name))
        for option in (*node.get("anyOf", ()), *node.get("allOf", ()), *node.get("oneOf", ())):
            visit(option, path, refs)
        for name, child in node.get("properties", {}).items():
            child_path = f"{path}.{name}" if path else name
            paths.add(child_path)
            visit(child, child_path, refs)
        keyed = [node.get("additionalProperties"), *node.get("patternProperties", {}).values()]
        for extra in keyed:
            if isinstance(extra, dict):
                paths.add(f"{path}.<key>")
                visit(extra, f"{path}.<key>", refs)
        if isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[]", refs)

    visit(schema, "", ())
    return paths


def schema_values(node: Any) -> Iterator[tuple[str, Any]]:
    """Every ``enum`` value (as ``("enum", value)``) and ``const`` value anywhere in a schema."""
    if isinstance(node, dict):
        for value in node.get("enum", ()):
            yield "enum", value
        if "const" in node:
            yield "const", node["const"]
        for child in node.values():
            yield from schema_values(child)
    elif isinstance(node, list):
        for child in node:
            yield from schema_values(child)


def documented_fields(text: str) -> list[str]:
    """The first-column paths of the field tables in docs/declaration.md."""
    fields: list[str] = []
    in_table = False
    for line in text.splitlines():
        if line.strip() == FIELD_TABLE_HEADER:
            in_table = True
        elif in_table and line.startswith("|"):
            cell = line.split("|")[1].strip()
            if not cell.startswith("---"):
                fields.append(cell.strip("`"))
        else:
            in_table = False
    return fields


def table_rows(text: str) -> set[tuple[str, ...]]:
    """Every row of every Markdown table in ``text``, as a tuple of stripped cells."""
    return {
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in text.splitlines()
        if line.startswith("|")
    }


def test_every_schema_field_is_documented() -> None:
    """Each field path of the declaration schema has a row in a field table."""
    documented = set(documented_fields(read_doc("declaration.md")))
    missing = sorted(schema_field_paths(Declaration.model_json_schema()) - documented)
    assert not missing, f"fields missing from docs/declaration.md: {missing}"


def test_every_documented_field_exists_in_the_schema() -> None:
    """A field table lists no field that the schema does not have."""
    schema_paths = schema_field_paths(Declaration.model_json_schema())
    stale = [
        path for path in documented_fields(read_doc("declaration.md")) if path not in schema_paths
    ]
    assert not stale, f"docs/declaration.md documents fields that do not exist: {stale}"


def test_every_field_is_documented_once() -> None:
    """No field path has two rows."""
    fields = documented_fields(read_doc("declaration.md"))
    twice = sorted({path for path in fields if fields.count(path) > 1})
    assert not twice, f"fields documented twice in docs/declaration.md: {twice}"


def test_every_allowed_value_is_explained() -> None:
    """Each enumeration value of the schema heads a table row, each constant is mentioned."""
    text = read_doc("declaration.md")
    missing = sorted(
        str(value)
        for kind, value in schema_values(Declaration.model_json_schema())
        if (f"| `{value}` |" if kind == "enum" else f"`{value}`") not in text
    )
    assert not missing, f"values not explained in docs/declaration.md: {missing}"


def test_every_builtin_category_is_in_the_taxonomy_table() -> None:
    """The taxonomy table has each built-in category with its label, flags and description."""
    rows = table_rows(read_doc("declaration.md"))
    yes_no = {True: "yes", False: "no"}
    missing = [
        key
        for key, category in builtin_taxonomy().items()
        if (
            f"`{key}`",
            category.label,
            yes_no[category.personal],
            yes_no[category.sensitive],
            yes_no[category.ccpa_sensitive],
            category.description,
        )
        not in rows
    ]
    assert not missing, f"categories missing or outdated in docs/declaration.md: {missing}"


def test_every_builtin_purpose_is_in_the_purposes_table() -> None:
    """The purposes table has each built-in purpose with its label, flags and description."""
    rows = table_rows(read_doc("declaration.md"))
    flags = ("sale_or_sharing", "targeted_advertising", "direct_marketing")
    missing = [
        key
        for key, purpose in builtin_purposes().items()
        if (
            f"`{key}`",
            purpose.label,
            ", ".join(f"`{flag}`" for flag in flags if getattr(purpose, flag)) or "–",
            purpose.description,
        )
        not in rows
    ]
    assert not missing, f"purposes missing or outdated in docs/declaration.md: {missing}"


def test_every_consent_age_is_in_the_age_table() -> None:
    """The Art. 8 table gives each country's built-in age of digital consent."""
    rows = {(row[0], row[-1]) for row in table_rows(read_doc("declaration.md"))}
    missing = [
        country for country, age in consent_ages().items() if (f"`{country}`", str(age)) not in rows
    ]
    assert not missing, f"consent ages missing or outdated in docs/declaration.md: {missing}"


def test_the_complete_example_passes_check() -> None:
    """The annotated example loads and has no lint findings."""
    text = read_doc("declaration.md")
    example = text.split("## A complete, annotated example", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", example, re.DOTALL)
    assert found, "docs/declaration.md has no YAML block under its complete example"
    findings = lint(loads(found[1], "docs/declaration.md"))
    assert not findings, "\n".join(str(finding) for finding in findings)


# --- lint rules ----------------------------------------------------------------------------------

FAMILIES = {
    "P": "processing: categories, purposes, legal bases, retention (GDPR Art. 5, 6, 9, 13)",
    "T": "recipients and international transfers (GDPR Art. 44-49)",
    "G": "what a GDPR privacy notice must say and offer (GDPR Art. 12-14, 22, 27, 37)",
    "C": "the CCPA notice at collection and its opt-outs",
    "K": "cookies and similar technologies (ePrivacy Directive Art. 5(3))",
    "Y": "children (GDPR Art. 8, COPPA, CCPA 1798.120(c))",
    "D": "the company's datastores: identities, erasure, purposes of stored data (GDPR Art. 5, 17)",
}


def _family_order(code: str) -> tuple[int, str]:
    letters = list(FAMILIES)
    return (letters.index(code[0]) if code[0] in FAMILIES else len(letters), code)


def _anchor(rule: Rule) -> str:
    return f"{rule.code}-{rule.name}".lower()


def _markdown(text: str) -> str:
    return text.replace("``", "`")


INTRODUCTION = (
    "Once a declaration loads (see [errors.md](errors.md) for when it does not), `pledge check`"
    " runs these rules on it. Each rule finds something that GDPR, CCPA or the ePrivacy Directive"
    " requires of a privacy notice, or of the processing it describes, and that the declaration"
    " leaves out or contradicts. An **error** fails `pledge check` (exit status 1); a"
    " **warning** is reported, and fails the check only with `pledge check --strict`. A rule"
    " that does not apply to a service can be skipped with `pledge check --ignore CODE`;"
    " `pledge rules` lists them all. A code never changes meaning; its letter names the family:"
)


def render_lint_rules(rules: Mapping[str, Rule]) -> str:
    """The Markdown of docs/lint-rules.md, generated from the rule registry.

    Args:
        rules: the registry, code → rule.

    Returns:
        An introduction, an index table, then per rule its heading, severity and rationale.
    """
    ordered = sorted(rules.values(), key=lambda rule: _family_order(rule.code))
    lines = [
        "# Lint rules",
        "",
        "<!-- Generated from the rule registry (pledge.declaration.lint.RULES) by",
        "     tests/unit/test_docs.py. Do not edit: change the rule's docstring, then run",
        f"     {UPDATE_DOCS}=1 make test. -->",
        "",
        *textwrap.wrap(INTRODUCTION, width=96, break_on_hyphens=False),
        "",
        "| family | about |",
        "|---|---|",
        *(f"| {letter} | {about} |" for letter, about in FAMILIES.items()),
        "",
        "| code | name | severity | summary |",
        "|---|---|---|---|",
        *(
            f"| [{rule.code}](#{_anchor(rule)}) | {rule.name} | {rule.severity} |"
            f" {_markdown(rule.summary)} |"
            for rule in ordered
        ),
    ]
    for rule in ordered:
        lines += ["", f"## {rule.code} {rule.name}", "", f"Severity: **{rule.severity}**", ""]
        lines.append(_markdown(rule.rationale))
    return "\n".join(lines) + "\n"


def test_lint_rules_doc_is_current() -> None:
    """docs/lint-rules.md is exactly what the rule registry generates."""
    path = DOCS / "lint-rules.md"
    expected = render_lint_rules(RULES)
    if os.environ.get(UPDATE_DOCS):
        path.write_text(expected, encoding="utf-8")
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != expected:
        pytest.fail(
            "docs/lint-rules.md is out of date with the lint rules;"
            f" run `{UPDATE_DOCS}=1 make test` to regenerate it"
        )


def test_every_lint_rule_has_a_heading() -> None:
    """Each rule code heads a section of docs/lint-rules.md."""
    text = read_doc("lint-rules.md")
    missing = [code for code, rule in RULES.items() if f"\n## {code} {rule.name}\n" not in text]
    assert not missing, f"rules without a heading in docs/lint-rules.md: {missing}"


# --- load errors ---------------------------------------------------------------------------------

ERROR_CODE = re.compile(r"\bE1\d\d\b")


def test_every_load_error_code_is_documented() -> None:
    """Each E1xx code in the declaration package heads a section of docs/errors.md."""
    source = ROOT / "src" / "pledge" / "declaration"
    codes = {code for file in source.rglob("*.py") for code in ERROR_CODE.findall(file.read_text())}
    headings = set(re.findall(r"^## (E1\d\d)$", read_doc("errors.md"), re.MULTILINE))
    assert codes, "no E1xx codes found in src/pledge/declaration"
    assert not codes - headings, f"codes missing from docs/errors.md: {sorted(codes - headings)}"
    assert not headings - codes, f"docs/errors.md documents unused codes: {headings - codes}"


def error_examples() -> list[Any]:
    """The examples of docs/errors.md, as pytest params (section code, YAML, expected output)."""
    examples = []
    for section in re.split(r"^## ", read_doc("errors.md"), flags=re.MULTILINE)[1:]:
        code = section.split("\n", 1)[0].strip()
        pairs = re.findall(r"```yaml\n(.*?)```\s*```text\n(.*?)```", section, re.DOTALL)
        examples += [
            pytest.param(code, yaml, output, id=f"{code}-{number}")
            for number, (yaml, output) in enumerate(pairs, 1)
        ]
    return examples


def test_every_error_section_has_an_example() -> None:
    """Each load error is shown with a YAML file and what Pledge prints for it."""
    shown = {example.values[0] for example in error_examples()}
    codes = set(re.findall(r"^## (E1\d\d)$", read_doc("errors.md"), re.MULTILINE))
    assert not codes - shown, f"error codes without an example: {sorted(codes - shown)}"


@pytest.mark.parametrize(("code", "yaml", "output"), error_examples())
def test_error_examples_print_what_the_docs_show(code: str, yaml: str, output: str) -> None:
    """Loading each example of docs/errors.md prints exactly the lines shown, with its code."""
    with pytest.raises(DeclarationError) as raised:
        loads(yaml, "pledge.yaml")
    printed = [str(finding) for finding in raised.value.findings]
    assert printed == output.strip().splitlines()
    assert code in {finding.code for finding in raised.value.findings}


# --- the command line ----------------------------------------------------------------------------


def test_every_command_and_option_is_documented() -> None:
    """Each command has a section in docs/cli.md that names its options and arguments."""
    import typer

    from pledge.cli import app

    root = typer.main.get_command(app)
    text = read_doc("cli.md")
    sections = {
        match[1]: match[2]
        for match in re.finditer(r"^## `pledge (\w+)[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    }
    missing: list[str] = []
    for option in root.params:
        missing += [name for name in option.opts if f"`{name}`" not in text]
    for name, command in getattr(root, "commands", {}).items():
        section = sections.get(name)
        if section is None:
            missing.append(f"pledge {name}")
            continue
        for param in command.params:
            if param.param_type_name == "argument":
                names = [param.name.upper()]
            else:
                names = [*param.opts, *param.secondary_opts]
            missing += [
                f"pledge {name} {written}"
                for written in names
                if not re.search(rf"`{re.escape(written)}(?![\w-])", section)
            ]
    assert not missing, f"not documented in docs/cli.md: {missing}"


# --- links ---------------------------------------------------------------------------------------


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown text."""
    found: set[str] = set()
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        anchor, number = slug, 0
        while anchor in found:
            number += 1
            anchor = f"{slug}-{number}"
        found.add(anchor)
    return found


@pytest.mark.parametrize("name", ["declaration.md", "errors.md", "cli.md", "lint-rules.md"])
def test_links_between_docs_resolve(name: str) -> None:
    """Each link to a document or a heading in docs/ points at one that exists."""
    broken = []
    for target, anchor in re.findall(r"\]\(([\w.-]*\.md)?(?:#([\w-]+))?\)", read_doc(name)):
        document = target or name
        if not (DOCS / document).exists():
            broken.append(f"{target}#{anchor}")
        elif anchor and anchor not in anchors(read_doc(document)):
            broken.append(f"{document}#{anchor}")
    assert not broken, f"broken links in docs/{name}: {broken}"

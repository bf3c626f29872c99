"""The declaration: ``pledge.yaml`` parsed, validated, linted and compared."""

from pledge.declaration.diff import Change, diff, is_material
from pledge.declaration.findings import Finding, Severity
from pledge.declaration.loader import DEFAULT_FILE, load, load_data, loads, origin_of
from pledge.declaration.model import Declaration

__all__ = [
    "DEFAULT_FILE",
    "Change",
    "Declaration",
    "Finding",
    "Severity",
    "diff",
    "is_material",
    "load",
    "load_data",
    "loads",
    "origin_of",
]

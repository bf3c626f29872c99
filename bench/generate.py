"""Generate a large, valid declaration for the check + render benchmark.

python bench/generate.py --purposes 1000 --fields 10000 > big.yaml
"""

from __future__ import annotations

import argparse
import sys

CATEGORIES = [
    "contact.email",
    "contact.phone",
    "contact.postal_address",
    "identity.name",
    "device.ip_address",
    "device.browser",
    "usage.pages",
    "usage.features",
    "sensor.temperature",
    "user_content.inputs",
]
BASES = ["consent", "contract", "legal_obligation", "legitimate_interests"]


def declaration(purposes: int, fields: int) -> str:
    """A declaration with ``purposes`` purposes and ``fields`` fields over 100 forms."""
    lines = [
        "pledge: 1",
        "controller:",
        "  {name: Benchmark Inc, country: DE, email: privacy@bench.example,",
        "   supervisory_authority: {name: BfDI}}",
        'policy: {version: "1", effective_date: 2026-01-01, notice_period: P30D}',
        "rights:",
        "  offered: [access, rectification, erasure, restriction, portability, objection,"
        " withdraw_consent, complaint]",
        "  channels: {email: privacy@bench.example}",
        "children: {minimum_age: 16}",
        "purposes:",
    ]
    for index in range(purposes):
        basis = BASES[index % len(BASES)]
        lines += [
            f"  purpose_{index}:",
            f"    label: Purpose number {index}",
            f"    description: What purpose {index} does with the data.",
            f"    legal_basis: {basis}",
            f"    categories: [{CATEGORIES[index % 10]}, {CATEGORIES[(index + 3) % 10]}]",
            f"    retention: P{index % 36 + 1}M after account_closed",
        ]
        if basis == "legitimate_interests":
            lines.append("    legitimate_interest: Keeping the service running well.")
            lines.append("    interest_assessment: LIA-2026-01")
    lines.append("collection:")
    forms = 100
    per_form = fields // forms
    for form in range(forms):
        lines += [f"  form_{form}:", "    source: direct", "    fields:"]
        for index in range(per_form):
            number = form * per_form + index
            purpose = number % purposes
            category = CATEGORIES[purpose % 10]
            lines.append(
                f"      field_{number}: {{category: {category}, purposes: [purpose_{purpose}]}}"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--purposes", type=int, default=1000)
    parser.add_argument("--fields", type=int, default=10000)
    args = parser.parse_args()
    sys.stdout.write(declaration(args.purposes, args.fields))

"""What counts as a NUL character in a JSON body: the escape the parser turns into U+0000."""

from __future__ import annotations

import json

import pytest

from pledge.web.api.limits import _NUL_IN_BODY

JSON = _NUL_IN_BODY[b"application/json"]


@pytest.mark.parametrize("text", ["\u0000", "a\u0000b", "\\\u0000", "\\\\\u0000"])
def test_a_nul_json_decodes_to_is_found(text: str) -> None:
    body = json.dumps({"value": text}).encode()
    assert "\u0000" in json.loads(body)["value"]
    assert JSON.search(body)


@pytest.mark.parametrize("text", ["\\u0000", "\\\\u0000", "u0000", "100%00"])
def test_the_text_backslash_u0000_written_out_is_not_a_nul(text: str) -> None:
    body = json.dumps({"value": text}).encode()
    assert "\u0000" not in json.loads(body)["value"]
    assert not JSON.search(body)

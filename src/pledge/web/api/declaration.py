"""``/declaration`` and ``/policy``: what the running Pledge enforces, and the policy it renders.

The declaration is read with any valid API key (it names internal references such as
interest assessments); the rendered policy is public, like the page it is published on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from pledge.render import render_policy
from pledge.web.api.deps import ApiKeyDep, RuntimeDep

router = APIRouter(tags=["declaration"])

_MEDIA_TYPES = {
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}


class PolicyFormat(StrEnum):
    """The formats the policy is rendered in."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


_RENDER_FORMATS: dict[PolicyFormat, Literal["markdown", "html", "json"]] = {
    PolicyFormat.MARKDOWN: "markdown",
    PolicyFormat.HTML: "html",
    PolicyFormat.JSON: "json",
}


class DeclarationOut(BaseModel):
    """The declaration in force, with the digest that identifies it."""

    version: str = Field(description="The policy version the declaration states.")
    digest: str = Field(description="SHA-256 of the declaration's canonical JSON form.")
    declaration: dict[str, Any] = Field(description="The declaration, as pledge.yaml gives it.")


@router.get("/declaration", summary="Read the declaration in force")
def get_declaration(request: Request, runtime: RuntimeDep, key: ApiKeyDep) -> DeclarationOut:
    """The declaration this Pledge enforces, as JSON, with its digest."""
    declaration = runtime.declaration
    return DeclarationOut(
        version=declaration.policy.version,
        digest=request.app.state.declaration_digest,
        declaration=declaration.model_dump(mode="json", exclude_none=True),
    )


@router.get(
    "/policy",
    summary="Read the rendered privacy policy",
    response_class=Response,
    responses={
        200: {
            "description": "The policy in the format asked for.",
            "content": {media_type.split(";")[0]: {} for media_type in _MEDIA_TYPES.values()},
        }
    },
)
def get_policy(
    request: Request,
    runtime: RuntimeDep,
    policy_format: Annotated[PolicyFormat, Query(alias="format")] = PolicyFormat.MARKDOWN,
) -> Response:
    """The privacy policy rendered from the declaration: Markdown, HTML or JSON. No key needed."""
    cache: dict[str, str] = request.app.state.policy_cache
    digest: str = request.app.state.declaration_digest
    fmt = policy_format.value
    text = cache.get(fmt)
    if text is None:
        text = cache[fmt] = render_policy(runtime.declaration, _RENDER_FORMATS[policy_format])
    return Response(text, media_type=_MEDIA_TYPES[fmt], headers={"ETag": f'"{digest}-{fmt}"'})

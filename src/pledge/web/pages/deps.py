"""The dependencies of the page routes: the pages' services, the signed-in staff member or
person. Without a live session a staff page redirects to the sign-in page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pledge.staff.model import Permission, StaffMember
from pledge.staff.service import Session
from pledge.web.pages.support import PageError, Pages

STAFF_COOKIE = "pledge_staff"
PERSON_COOKIE = "pledge_person"


class SignInRequired(Exception):
    """No live session: the browser is sent to ``location`` to sign in."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def get_pages(request: Request) -> Pages:
    """The pages' services of this application."""
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(get_pages)]


def staff_session(request: Request, pages: PagesDep) -> Session:
    """The live staff session of the request.

    Raises:
        SignInRequired: none, expired, idle too long, or of a disabled account.
    """
    token = request.cookies.get(STAFF_COOKIE, "")
    session = pages.sessions.check(token, "staff", idle=pages.staff_idle) if token else None
    if session is None or session.staff is None:
        raise SignInRequired("/admin/login")
    return session


StaffSession = Annotated[Session, Depends(staff_session)]


def person_session(request: Request, pages: PagesDep) -> Session:
    """The live session of the person signed in to the privacy center.

    Raises:
        SignInRequired: none, or expired.
    """
    token = request.cookies.get(PERSON_COOKIE, "")
    session = pages.sessions.check(token, "person") if token else None
    if session is None or session.subject_id is None:
        raise SignInRequired("/privacy/sign-in")
    return session


PersonSession = Annotated[Session, Depends(person_session)]


def require(staff: StaffMember | None, permission: Permission) -> StaffMember:
    """The staff member, if their role allows ``permission``.

    Raises:
        PageError: 403.
    """
    if staff is None or not staff.may(permission):
        raise PageError(403, "error_forbidden")
    return staff


__all__ = [
    "PERSON_COOKIE",
    "STAFF_COOKIE",
    "PagesDep",
    "PersonSession",
    "SignInRequired",
    "StaffSession",
    "require",
]

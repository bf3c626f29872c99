"""Driving a page with the keyboard alone, as a person who uses no mouse does.

``tab_to`` presses Tab (or Shift+Tab) until the control wanted has the focus, and fails if it is
never reached or shows no visible focus; the journey then presses Enter or Space, or types.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page

MAX_TABS = 60  # more stops than any page of Pledge has before a control a person needs

HAS_FOCUS = "node => node === document.activeElement"
FOCUS_RING = """node => {
  const style = getComputedStyle(node);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Move the focus with Tab (Shift+Tab when ``backwards``) until ``target`` has it.

    Raises:
        AssertionError: ``target`` was not reached in ``MAX_TABS`` presses, or has no visible
            focus indicator once reached (WCAG 2.4.7).
    """
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if target.evaluate(HAS_FOCUS):
            assert target.evaluate(FOCUS_RING), f"{target} shows no focus indicator"
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{target} is not reachable with {key}; the focus is on {focused}")


def press_on(page: Page, target: Locator, key: str = "Enter", *, backwards: bool = False) -> None:
    """Tab to ``target`` and press ``key`` on it."""
    tab_to(page, target, backwards=backwards)
    page.keyboard.press(key)


def type_into(page: Page, target: Locator, text: str, *, backwards: bool = False) -> None:
    """Tab to the field ``target`` and type ``text``, one key at a time."""
    tab_to(page, target, backwards=backwards)
    page.keyboard.type(text)

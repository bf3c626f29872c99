"""Every string the pages show, in one catalogue: English is complete; a translation is a
second mapping with the same keys.

Templates call ``_("key", name=value)``; Python code calls :func:`text`. A key missing from
the catalogue is an error in tests (``tests/unit/test_pages_catalogue.py``), never a blank.
A string with a ``count`` may have a singular form under ``KEY_one``, used when the count is 1
(the plural rule of English; a translation adds the forms its language needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

ENGLISH: Final[Mapping[str, str]] = {
    # --- shared ---------------------------------------------------------------------------------
    "skip": "Skip to the content",
    "language": "en",
    "privacy_center": "Privacy center",
    "admin_console": "Admin console",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "email": "E-mail address",
    "password": "Password",
    "code": "Code",
    "send": "Send",
    "save": "Save",
    "cancel": "Cancel",
    "back": "Back",
    "error_title": "Something went wrong",
    "error_status": "Error {status}",
    "error_again": "Nothing was changed. Go back and try again.",
    "error_unexpected": "An unexpected error occurred; it has been logged and nothing was changed.",
    "error_store": "The database is unavailable; nothing was written. Try again shortly.",
    "error_csrf": (
        "This form has expired or did not come from this site. Reload the page and try again."
    ),
    "error_rate": "Too many attempts. Wait a minute, then try again.",
    "error_not_found": "There is no such page.",
    "error_forbidden": "Your role does not allow this.",
    "error_form": "The form is incomplete: {fields}.",
    "home": "Home",
    "yes": "yes",
    "no": "no",
    "none": "none",
    "download": "Download",
    "due": "due {date}",
    # --- privacy center -------------------------------------------------------------------------
    "pc_title": "Privacy at {company}",
    "pc_intro": (
        "Read how {company} handles personal data, see and manage what it holds about you,"
        " and decide what you agree to."
    ),
    "pc_policy": "Privacy policy",
    "pc_policy_lead": "What data is collected, why, for how long, and who receives it.",
    "pc_versions": "Past versions and what changed",
    "pc_versions_lead": "Every version of the policy this site has published.",
    "pc_version_first_served": "published here {date}",
    "pc_version_effective": "in effect from {date}",
    "pc_version_current": "current",
    "pc_changes": "What changed from version {version}",
    "pc_changes_none": "This is the first version published here.",
    "pc_changes_same": "Nothing that people read changed.",
    "pc_material": "must be announced in advance",
    "pc_your_data": "Your data",
    "pc_your_data_lead": (
        "Sign in with your e-mail address to see your data, download a copy, correct or delete"
        " it, and manage your consent."
    ),
    "pc_child": "Report a child's data",
    "pc_child_lead": "Tell us about personal data of a child that we should not hold.",
    "pc_contact": "Contact the privacy officer",
    "pc_contact_lead": "Ask a question or make a complaint.",
    "pc_sign_in_title": "Sign in to your privacy center",
    "pc_sign_in_lead": ("Enter your e-mail address. We send a code to it; no password is needed."),
    "pc_send_code": "Send me a code",
    "pc_code_title": "Enter your code",
    "pc_code_lead": (
        "If the address you entered can receive mail, a 6-digit code is on its way. It works"
        " for 15 minutes."
    ),
    "pc_code_missing": "Ask for a code first.",
    "pc_code_again": "Ask for a new code",
    "pc_signed_out": "You are signed out.",
    "pc_account_title": "Your data",
    "pc_signed_in_as": "Signed in as {email}",
    "pc_consent": "What you agree to",
    "pc_consent_lead": (
        "Each switch is one purpose that needs your consent. Turning it off is as easy as"
        " turning it on, and takes effect at once; it does not affect what was done before."
    ),
    "pc_consent_none": "{company} asks for consent for no purpose.",
    "pc_consent_on": "On",
    "pc_consent_off": "Off",
    "pc_consent_turn_on": "Turn on: {purpose}",
    "pc_consent_turn_off": "Turn off: {purpose}",
    "pc_consent_notice": "Notice version {hash}",
    "pc_consent_granted": "Your consent is recorded.",
    "pc_consent_withdrawn": "Your consent is withdrawn.",
    "pc_requests": "Your requests",
    "pc_requests_none": "You have made no request yet.",
    "pc_requests_table": "Your requests, their deadlines and reports",
    "pc_request_state": "{state}",
    "pc_request_received": "received {date}",
    "pc_ask": "Ask for something",
    "pc_ask_lead": "Each request is confirmed with a code sent to your e-mail address.",
    "pc_ask_access": "See all my data",
    "pc_ask_access_lead": "A report of every piece of personal data held about you, and why.",
    "pc_ask_portability": "Get a copy to take elsewhere",
    "pc_ask_portability_lead": "The data you provided, as JSON, for another service.",
    "pc_ask_rectification": "Correct my data",
    "pc_ask_rectification_lead": "Say what is wrong and what is right.",
    "pc_ask_erasure": "Delete my data",
    "pc_ask_erasure_lead": (
        "Everything is deleted except what the law requires to be kept; you will see what and"
        " why below."
    ),
    "pc_ask_restriction": "Pause the processing of my data",
    "pc_ask_restriction_lead": "Your data is kept but not used while the restriction stands.",
    "pc_ask_objection": "Object to processing",
    "pc_ask_objection_lead": (
        "Stop processing based on legitimate interests, and all direct marketing."
    ),
    "pc_ask_unsubscribe": "Stop all marketing",
    "pc_ask_unsubscribe_lead": "No more direct marketing, by any channel.",
    "pc_ask_limit_sensitive": "Limit the use of my sensitive personal information",
    "pc_ask_limit_sensitive_lead": (
        "Information such as your precise location, health data or identity documents is then"
        " used only to provide what you asked for, and for the few other uses the law allows"
        " (CCPA 1798.121)."
    ),
    "pc_erasure_confirm": "I understand: my data will be deleted and this cannot be undone.",
    "pc_erasure_kept": "What will be kept, and why",
    "pc_erasure_kept_none": "Nothing is kept under a legal hold.",
    "pc_erasure_kept_item": "{table}: kept {period}. {reason}",
    "pc_correction_what": "What is wrong, and what is right",
    "pc_correction_field": "Field to correct",
    "pc_correction_value": "The correct value",
    "pc_correction_free": "Something else (describe it)",
    "pc_submit_request": "Send the request",
    "pc_confirm_title": "Confirm your request",
    "pc_confirm_lead": "Enter the code we have sent to your e-mail address to confirm the request.",
    "pc_confirm": "Confirm",
    "pc_request_sent": "Your request is confirmed. We answer by {date} at the latest.",
    "pc_request_duplicate": "You already have this request open; here it is.",
    "pc_reports": "Your reports",
    "pc_report_view": "View the report",
    "pc_report_download": "Download ({format})",
    "pc_report_in_page": "Your data, as we hold it",
    "pc_unsubscribe_title": "Unsubscribe",
    "pc_unsubscribe_lead": "Stop all direct marketing to you from {company}, by every channel.",
    "pc_unsubscribe_button": "Unsubscribe",
    "pc_unsubscribe_done": "You are unsubscribed. It took effect at once.",
    "pc_unsubscribe_bad": "This unsubscribe link is not valid. Sign in to manage your consent.",
    "pc_child_title": "Report a child's data",
    "pc_child_intro": (
        "If you believe {company} holds personal data of a child without the consent of a"
        " parent, tell us. The privacy officer will look into it and answer you."
    ),
    "pc_child_age": "The minimum age is {age}.",
    "pc_child_identifier": "The child's e-mail address or account name",
    "pc_child_relationship": "Your relationship to the child",
    "pc_child_message": "What we should know",
    "pc_child_sent": "Thank you. Your report reached the privacy officer, who will answer you.",
    "pc_contact_title": "Contact the privacy officer",
    "pc_contact_intro": "Write to the privacy officer of {company}.",
    "pc_contact_channels": "Other ways to reach us",
    "pc_contact_message": "Your message",
    "pc_contact_your_email": "Your e-mail address, for the answer",
    "pc_contact_sent": "Your message reached the privacy officer, who will answer you.",
    "pc_contact_unavailable": (
        "{company} has declared no e-mail address for privacy questions; use one of the ways below."
    ),
    "pc_complaint": "You also have the right to complain to a supervisory authority.",
    # --- admin console ---------------------------------------------------------------------------
    "ad_sign_in_title": "Staff sign-in",
    "ad_queue": "Requests",
    "ad_queue_title": "Request queue",
    "ad_queue_lead": "Open requests first, soonest deadline first.",
    "ad_queue_none": "No requests match.",
    "ad_filter": "Filter",
    "ad_filter_state": "State",
    "ad_filter_type": "Type",
    "ad_filter_any": "any",
    "ad_overdue": "overdue",
    "ad_near": "due soon",
    "ad_col_request": "Request",
    "ad_col_type": "Type",
    "ad_col_regime": "Law",
    "ad_col_state": "State",
    "ad_col_received": "Received",
    "ad_col_due": "Deadline",
    "ad_request_title": "Request {id}",
    "ad_details": "Details",
    "ad_subject": "Subject",
    "ad_submitted_by": "Submitted by",
    "ad_verification": "Verified",
    "ad_extension": "Extension",
    "ad_denial": "Denial",
    "ad_failure": "Failure",
    "ad_asked": "What was asked",
    "ad_details_erased": "unreadable: the subject was erased",
    "ad_timeline": "Timeline",
    "ad_plan": "Plan",
    "ad_plan_none": "This request takes effect in Pledge itself, not in the datastores.",
    "ad_plan_error": "The plan cannot be shown: {error}",
    "ad_plan_table": "{datastore}.{table}: {count} rows, {action}",
    "ad_plan_table_one": "{datastore}.{table}: 1 row, {action}",
    "ad_plan_refused": "The request cannot be carried out as declared until this is fixed:",
    "ad_plan_shared": "({count} shared with other people: shown, never erased)",
    "ad_plan_shared_one": "(1 shared with other people: shown, never erased)",
    "ad_progress": "Progress",
    "ad_progress_none": "No job yet: approve the request to carry it out.",
    "ad_progress_job": "Job {state}, {count} attempts",
    "ad_progress_job_one": "Job {state}, 1 attempt",
    "ad_notices": "Notices to recipients (GDPR Art. 19)",
    "ad_notice": "{recipient}: {state}, {count} attempts",
    "ad_notice_one": "{recipient}: {state}, 1 attempt",
    "ad_report": "Report",
    "ad_report_none": "No report yet.",
    "ad_actions": "Actions",
    "ad_action_verify": "Verify with the person's code",
    "ad_action_verify_lead": "When the person reads you the code they received.",
    "ad_action_approve": "Approve and carry out",
    "ad_action_approve_lead": "The request is planned and queued for the datastores.",
    "ad_action_deny": "Deny",
    "ad_action_deny_lead": "The person is told the reason and their right to complain.",
    "ad_action_extend": "Extend the deadline",
    "ad_action_extend_lead": "Only before the first deadline; the person is told the reason.",
    "ad_ground": "Ground",
    "ad_reason": "Reason (the person reads it)",
    "ad_by": "By (GDPR months, CCPA days; empty: all allowed)",
    "ad_done_verified": "The request is verified.",
    "ad_done_approved": "The request is approved and queued.",
    "ad_done_denied": "The request is denied; the person was told.",
    "ad_done_extended": "The deadline is extended; the person was told.",
    "ad_outbox": "Outbox",
    "ad_outbox_title": "Outbox",
    "ad_outbox_lead": "Mail goes to: {where}.",
    "ad_outbox_none": "No mail yet.",
    "ad_outbox_smtp": "Mail is sent by SMTP, so none is kept here.",
    "ad_audit": "Audit trail",
    "ad_audit_title": "Audit trail",
    "ad_audit_lead": "Every decision, change and action, hash-chained: an edit breaks the chain.",
    "ad_audit_action": "Action",
    "ad_audit_actor": "Actor",
    "ad_audit_subject": "Subject",
    "ad_audit_since": "From (date)",
    "ad_audit_until": "Until (date)",
    "ad_audit_none": "No event matches.",
    "ad_audit_more": "Older events",
    "ad_audit_newer": "Newer events",
    "ad_audit_verify": "Verify the chains",
    "ad_audit_verified": "Verified: {counts}. No record was edited or deleted.",
    "ad_audit_broken": "{count} problems found. The first: {first}",
    "ad_audit_broken_one": "1 problem found: {first}",
    "ad_col_seq": "#",
    "ad_col_time": "Time",
    "ad_col_details": "Details",
    "ad_declaration": "Declaration",
    "ad_declaration_title": "The declaration in force",
    "ad_declaration_version": "Version",
    "ad_declaration_effective": "In effect from",
    "ad_declaration_digest": "Digest",
    "ad_declaration_purposes": "Purposes",
    "ad_lint": "Lint findings",
    "ad_lint_none": "No findings: the declaration says everything the law asks of it.",
    "ad_lint_count": "{errors} errors, {warnings} warnings",
    "ad_col_code": "Code",
    "ad_col_severity": "Severity",
    "ad_col_where": "Where",
    "ad_col_message": "Finding",
    "ad_consent": "Consent",
    "ad_consent_title": "Consent dashboard",
    "ad_consent_lead": "Decisions recorded per purpose and week, over the last {weeks} weeks.",
    "ad_consent_none": "No purpose is based on consent.",
    "ad_consent_rates": "Opt-in rate {optin}, withdrawal rate {withdrawal}",
    "ad_consent_chart": "Weekly consent decisions for {purpose}",
    "ad_consent_granted": "granted",
    "ad_consent_withdrawn": "withdrawn",
    "ad_consent_refused": "refused",
    "ad_consent_table": "The figures",
    "ad_col_week": "Week of",
    "ad_datamap": "Data map",
    "ad_datamap_title": "Data map",
    "ad_datamap_lead": (
        "Where personal data comes from, what it is used for, where it is kept and who receives it."
    ),
    "ad_datamap_graph": "The data map as a graph",
    "dm_sources": "Collected by",
    "dm_data": "Data",
    "dm_purposes": "Used for",
    "dm_destinations": "Kept in and shared with",
    "ad_ropa": "Record of processing (GDPR Art. 30)",
    "ad_ropa_csv": "Download as CSV",
    "ad_ropa_md": "Download as Markdown",
    "ad_staff": "Staff",
    "ad_staff_title": "Staff accounts",
    "ad_staff_name": "Name",
    "ad_staff_role": "Role",
    "ad_staff_last": "Last sign-in",
    "ad_staff_disabled": "disabled",
    "ad_staff_disable": "Disable {name}",
    "ad_staff_create": "Add a staff member",
    "ad_staff_created": "The account is created.",
    "ad_staff_done_disabled": "The account is disabled.",
    "ad_staff_password": "Password (at least 12 characters)",
    "role_admin": "admin",
    "role_privacy_officer": "privacy officer",
    "role_support": "support",
    "role_viewer": "viewer",
}
"""The English catalogue: every key the pages use."""

CATALOGUES: Final[Mapping[str, Mapping[str, str]]] = {"en": ENGLISH}


def text(key: str, language: str = "en", **values: Any) -> str:
    """The string of ``key`` in ``language`` (English when missing), with ``values`` filled in.

    Raises:
        KeyError: no such key in English either (a bug: tests check every key used).
    """
    if values.get("count") == 1 and f"{key}_one" in ENGLISH:
        key = f"{key}_one"
    template = CATALOGUES.get(language, ENGLISH).get(key)
    if template is None:
        template = ENGLISH[key]
    return template.format(**values) if values else template


__all__ = ["CATALOGUES", "ENGLISH", "text"]

"""What each tool does, in the words people read on the company's pages (the descriptions in
the catalogue are written for the language model)."""

from django.utils.translation import gettext_lazy as _

TOOL_TITLES = {
    "jira_create_issue": _("Create Jira tickets"),
    "jira_add_comment": _("Comment on Jira tickets"),
    "jira_transition_issue": _("Move Jira tickets to another status"),
    "jira_search_issues": _("Search Jira tickets"),
    "postmortem_schedule": _("Schedule post-mortem meetings (calendar invites)"),
    "http_probe": _("Check a web address answers (allowed hosts only)"),
    "dns_lookup": _("Look up DNS records"),
    "tls_certificate_check": _("Check a TLS certificate's expiry"),
}


def tool_title(name: str) -> str:
    return str(TOOL_TITLES.get(name, name))

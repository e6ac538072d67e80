"""iCalendar invitations behind the calendar contract (apps.integrations.bases.calendar)."""

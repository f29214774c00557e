"""Screens of crisis response: the office (crisis team), a member's own report, and the
SMS provider's webhooks."""

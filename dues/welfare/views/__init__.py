"""Welfare screens: the member's (apply, follow, the funds' figures) and the office's
(committee queue and decisions, the treasurer's payments, funds and their rules)."""

"""Dues screens: members' own (member), the treasurer's counter (counter), branch office
screens (office), and Stripe's webhook (webhook)."""

"""Democratic votes: motions, single-choice and approval votes, and board elections (STV).

The secret ballot rests on two tables written in one transaction: VoteMark says that a
member voted (unique per member and vote), Ballot holds what was chosen and nothing that
could lead back to the voter. See models.py for what each may hold, and services.py for
the only code that writes them.
"""

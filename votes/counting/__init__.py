"""Counting votes: pure Python, no Django, so anyone can read and re-run it.

- profile.py: the ballots of one election (rankings with a count each).
- stv.py: Scottish STV (The Scottish Local Government Elections Order 2007, rules 45-52).
- irv.py: instant-runoff for one seat.
- tally.py: motions, single choice (plurality) and approval votes.
- blt.py: reading and writing the BLT ballot file format.
- lot.py: the documented, reproducible drawing of lots that breaks last-resort ties.
"""

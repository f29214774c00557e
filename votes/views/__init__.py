"""Vote screens: members vote on a phone (ballot.py) and read results (published.py),
officers run votes (office.py) and assemblies (assembly.py)."""

"""stub"""

ADDRESSES: list[str] = []

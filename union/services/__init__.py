"""Writes. Every change to an important union record goes through a function here."""

"""Bilateral agreements: their terms, their storage, and what they demand of a filing."""

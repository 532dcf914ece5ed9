"""Deconfliction: independent parties in one airspace, without accidental clashes.

The five parts are notices (strategic), tracks (tactical), hotline, agreements and
journal; see the README and DESIGN for the map.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

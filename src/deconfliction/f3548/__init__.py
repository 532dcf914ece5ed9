"""An ASTM F3548-21 DSS over the notices service: ``/dss/v1`` (see ``routes``).

Intents and constraints of a USS are notices of its party (role ``uss``), so they are
searched, journaled and alerted as every notice is; ``records`` keeps what the
standard adds, ``tokens`` checks the RS256 access tokens, ``enrolment`` maps a token's
``sub`` to its party, ``wire`` parses and writes the standard's JSON.
"""

"""The hotline: party-to-party messages and their receipts; the escalation ladder."""

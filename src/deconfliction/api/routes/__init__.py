"""Routes under ``/v1``, one module per part."""

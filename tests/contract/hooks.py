"""Schemathesis hooks for the contract run (loaded through ``SCHEMATHESIS_HOOKS``).

A volume's window must lie ahead of the service's clock, which no schema can say: on a
schema-valid notice (positive generation) the window of every volume is set to the one
in ``DECONFLICTION_FUZZ_WINDOW`` (``START,END``, RFC 3339). A volume's ``floor_m`` is
for an authority's standing zones only, which the run's notices never are (the API
files planned activity; 422 ``floor-not-standing``): it is left out of a schema-valid
notice. Nothing else is touched.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

_NOTICES = {("POST", "/v1/notices"), ("PUT", "/v1/notices/{notice_id}")}


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """A window ahead of now, and no floor, on every volume of a schema-valid notice."""
    meta = case.meta
    if (case.method.upper(), case.operation.path) not in _NOTICES or meta is None:
        return
    if not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    start, end = os.environ["DECONFLICTION_FUZZ_WINDOW"].split(",")
    for volume in case.body.get("volumes") or ():
        if isinstance(volume, dict) and isinstance(volume.get("properties"), dict):
            volume["properties"].update(start=start, end=end)
            volume["properties"].pop("floor_m", None)

"""Build the console's basemap (``src/deconfliction/web/basemap/basemap.json``) from
Natural Earth 1:50m data (public domain) as the npm package ``world-atlas`` ships it.

    cd /tmp && npm install world-atlas@2.0.2
    python tools/basemap.py /tmp/node_modules/world-atlas

The output holds, in (lon, lat) degrees rounded to 0.01° (about 1 km):

* ``land``: the land polygons (drawn filled; their outlines are the coastlines),
* ``borders``: the land borders (the arcs two countries share),
* ``places``: each country's name at a point inside its largest part.

TopoJSON (https://github.com/topojson/topojson-specification): quantized, delta-encoded
arcs that the geometries refer to by index; a negative index ``~i`` is arc ``i`` reversed.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, shape

OUT = Path(__file__).resolve().parents[1] / "src/deconfliction/web/basemap/basemap.json"
DIGITS = 2
Arc = list[list[float]]


def decode_arcs(topology: dict[str, Any]) -> list[Arc]:
    """Every arc of ``topology`` in degrees (undoing quantization and delta encoding)."""
    (kx, ky), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for encoded in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in encoded:
            x, y = x + dx, y + dy
            points.append([x * kx + tx, y * ky + ty])
        arcs.append(points)
    return arcs


def _ring(arcs: list[Arc], indices: list[int]) -> Arc:
    points: Arc = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def geometry(arcs: list[Arc], g: dict[str, Any]) -> dict[str, Any] | None:
    """A TopoJSON polygon geometry as GeoJSON (None for an empty one)."""
    if g["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [_ring(arcs, r) for r in g["arcs"]]}
    if g["type"] == "MultiPolygon":
        coords = [[_ring(arcs, r) for r in p] for p in g["arcs"]]
        return {"type": "MultiPolygon", "coordinates": coords}
    return None


def _round(points: Arc) -> Arc:
    out: Arc = []
    for lon, lat in points:
        p = [round(lon, DIGITS), round(lat, DIGITS)]
        if not out or p != out[-1]:
            out.append(p)
    return out


def _arc_uses(g: dict[str, Any]) -> list[int]:
    rings = g["arcs"] if g["type"] == "Polygon" else [r for p in g["arcs"] for r in p]
    return [i if i >= 0 else ~i for r in rings for i in r]


def build(atlas: Path) -> dict[str, Any]:
    countries = json.loads((atlas / "countries-50m.json").read_text())
    land = json.loads((atlas / "land-50m.json").read_text())
    arcs = decode_arcs(countries)
    owners: Counter[int] = Counter()
    places = []
    for g in countries["objects"]["countries"]["geometries"]:
        if g["type"] not in ("Polygon", "MultiPolygon"):
            continue
        owners.update(set(_arc_uses(g)))
        shp = shape(geometry(arcs, g))
        largest = max(shp.geoms, key=lambda p: p.area) if isinstance(shp, MultiPolygon) else shp
        if g.get("properties", {}).get("name") and largest.area > 0.5:
            at = largest.representative_point()
            places.append(
                {"name": g["properties"]["name"], "lon": round(at.x, 2), "lat": round(at.y, 2)}
            )
    land_arcs = decode_arcs(land)
    polygons = []
    for g in land["objects"]["land"]["geometries"]:
        geo = geometry(land_arcs, g)
        if geo is None:
            continue
        parts = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
        for part in parts:
            rings = [_round(r) for r in part]
            if len(rings[0]) >= 4 and Polygon(rings[0]).area > 0.001:
                polygons.append([r for r in rings if len(r) >= 4])
    shared = [_round(a) for i, a in enumerate(arcs) if owners[i] == 2]
    return {
        "source": "Natural Earth 1:50m (public domain), via world-atlas 2.0.2",
        "land": polygons,
        "borders": [a for a in shared if len(a) > 1],
        "places": sorted(places, key=lambda p: p["name"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("atlas", type=Path, help="the world-atlas package folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    basemap = build(args.atlas)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(basemap, separators=(",", ":")))
    counts = {k: len(v) for k, v in basemap.items() if isinstance(v, list)}
    print(f"{args.out}: {args.out.stat().st_size:,} bytes; {counts}")


if __name__ == "__main__":
    main()

#!/bin/sh
# Vendor the console's and the API docs' browser libraries from the npm registry into
# src/deconfliction/web/vendor (each with its licence), and rebuild the basemap.
# Run from the repository root with the project's virtual environment active:
#     sh tools/vendor.sh
# One change is made to what npm ships: ReDoc's bundle always shows its maker's logo
# from https://cdn.redoc.ly (no option turns it off); its address becomes "data:,"
# so that the page asks nothing of the Internet (ReDoc hides an image that fails).
set -eu
ROOT=$(pwd)
WEB=$ROOT/src/deconfliction/web
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts \
    leaflet@1.9.4 swagger-ui-dist@5.36.0 redoc@2.5.4 world-atlas@2.0.2 >/dev/null
N=$TMP/node_modules
mkdir -p "$WEB/vendor/leaflet" "$WEB/vendor/swagger-ui" "$WEB/vendor/redoc" "$WEB/basemap"
cp "$N/leaflet/dist/leaflet.js" "$N/leaflet/dist/leaflet.css" "$N/leaflet/LICENSE" \
    "$WEB/vendor/leaflet/"
cp "$N/swagger-ui-dist/swagger-ui-bundle.js" "$N/swagger-ui-dist/swagger-ui.css" \
    "$N/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt" "$N/swagger-ui-dist/LICENSE" \
    "$N/swagger-ui-dist/NOTICE" "$WEB/vendor/swagger-ui/"
sed 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:,#' "$N/redoc/bundles/redoc.standalone.js" \
    > "$WEB/vendor/redoc/redoc.standalone.js"
cp "$N/redoc/bundles/redoc.standalone.js.LICENSE.txt" "$N/redoc/LICENSE" "$WEB/vendor/redoc/"
cp "$N/world-atlas/LICENSE" "$WEB/basemap/LICENSE.world-atlas"
cd "$ROOT"
python tools/basemap.py "$N/world-atlas"

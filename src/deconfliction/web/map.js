// The console's map: GeoJSON (lon, lat) drawn as SVG in an equirectangular view fitted
// to the data. No tiles (the service may have no network): a graticule gives the scale.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 800;
const HEIGHT = 480;
const MARGIN = 28;
const METRES_PER_DEGREE = 111195.08; // along a meridian, mean Earth radius 6371008.8 m
const MARKER = 5; // half-size of an aircraft marker, SVG units
const MIN_SPAN_DEG = 0.01; // a lone point still gets a view about 1 km across

// One shape per footprint: {layer, geometry, radius_m, label, state, data (attributes)}.
export function shapes(notices, alerts) {
  const out = [];
  for (const notice of notices) {
    if (notice.state === "cancelled" || notice.state === "closed") continue;
    notice.volumes.features.forEach((feature, i) => {
      out.push({
        layer: "notices",
        geometry: feature.geometry,
        radius_m: feature.properties.radius_m ?? null,
        label: `${notice.title || notice.id}, volume ${i + 1}`,
        state: notice.state,
        data: { "data-notice": notice.id, "data-volume": i },
      });
    });
  }
  for (const alert of alerts) {
    if (alert.state === "resolved" || !alert.conflict.geometry) continue;
    const p = alert.conflict.properties;
    out.push({
      layer: "overlaps",
      geometry: alert.conflict.geometry,
      radius_m: null,
      label: `overlap with ${p.counterpart} (${alert.kind}, ${alert.state})`,
      state: alert.state,
      data: { "data-alert": alert.id },
    });
  }
  return out;
}

// Every [lon, lat] position in a geometry, at any depth of nesting.
function positions(geometry) {
  const found = [];
  const walk = (c) => {
    if (typeof c[0] === "number") found.push(c);
    else c.forEach(walk);
  };
  if (geometry.type === "GeometryCollection") geometry.geometries.forEach((g) => found.push(...positions(g)));
  else walk(geometry.coordinates);
  return found;
}

function circleDegrees(lat, radius_m) {
  const dlat = radius_m / METRES_PER_DEGREE;
  return [dlat / Math.max(Math.cos((lat * Math.PI) / 180), 1e-6), dlat];
}

// The view that fits every shape: project([lon, lat]) -> [x, y] in SVG units.
export function fit(all) {
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const shape of all) {
    for (const [lon, lat] of positions(shape.geometry)) {
      const [dlon, dlat] = shape.radius_m ? circleDegrees(lat, shape.radius_m) : [0, 0];
      west = Math.min(west, lon - dlon);
      east = Math.max(east, lon + dlon);
      south = Math.min(south, lat - dlat);
      north = Math.max(north, lat + dlat);
    }
  }
  const kx = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const spanX = Math.max((east - west) * kx, MIN_SPAN_DEG);
  const spanY = Math.max(north - south, MIN_SPAN_DEG);
  const scale = Math.min((WIDTH - 2 * MARGIN) / spanX, (HEIGHT - 2 * MARGIN) / spanY);
  const [cx, cy] = [(west + east) / 2, (south + north) / 2];
  const project = ([lon, lat]) => [
    WIDTH / 2 + (lon - cx) * kx * scale,
    HEIGHT / 2 - (lat - cy) * scale,
  ];
  const unproject = ([x, y]) => [cx + (x - WIDTH / 2) / (kx * scale), cy - (y - HEIGHT / 2) / scale];
  return { project, unproject, kx, scale, bounds: [west, south, east, north] };
}

const num = (v) => v.toFixed(2);

function ring(coordinates, view) {
  return coordinates.map((c, i) => `${i ? "L" : "M"}${view.project(c).map(num).join(" ")}`).join("") + "Z";
}

function marker([x, y]) {
  const m = MARKER;
  return `M${num(x)} ${num(y - m)}L${num(x + m)} ${num(y)}L${num(x)} ${num(y + m)}L${num(x - m)} ${num(y)}Z`;
}

// SVG path data of one shape (a circle is an ellipse in this view: two arcs).
export function pathData(shape, view) {
  const g = shape.geometry;
  switch (g.type) {
    case "Polygon":
      return g.coordinates.map((r) => ring(r, view)).join("");
    case "MultiPolygon":
      return g.coordinates.flatMap((p) => p.map((r) => ring(r, view))).join("");
    case "Point": {
      if (!shape.radius_m) return marker(view.project(g.coordinates));
      const [x, y] = view.project(g.coordinates);
      const [dlon, dlat] = circleDegrees(g.coordinates[1], shape.radius_m);
      const [rx, ry] = [dlon * view.kx * view.scale, dlat * view.scale];
      const arc = `A${num(rx)} ${num(ry)} 0 1 0`;
      return `M${num(x - rx)} ${num(y)}${arc} ${num(x + rx)} ${num(y)}${arc} ${num(x - rx)} ${num(y)}Z`;
    }
    case "MultiPoint":
      return g.coordinates.map((c) => marker(view.project(c))).join("");
    case "LineString":
      return g.coordinates.map((c, i) => `${i ? "L" : "M"}${view.project(c).map(num).join(" ")}`).join("");
    case "MultiLineString":
      return g.coordinates.map((l) => pathData({ geometry: { type: "LineString", coordinates: l } }, view)).join("");
    case "GeometryCollection":
      return g.geometries.map((part) => pathData({ geometry: part, radius_m: null }, view)).join("");
    default:
      return "";
  }
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A round step (1, 2 or 5 × 10^k degrees) giving about five grid lines across `span`.
function gridStep(span) {
  const rough = span / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
}

function drawGrid(group, view) {
  const [west, north] = view.unproject([0, 0]);
  const [east, south] = view.unproject([WIDTH, HEIGHT]);
  const step = gridStep(Math.min(east - west, north - south));
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
    const [x] = view.project([lon, 0]);
    group.append(svg("line", { x1: num(x), y1: 0, x2: num(x), y2: HEIGHT }));
    group.append(svg("text", { x: num(x + 3), y: HEIGHT - 4 }, `${lon.toFixed(digits)}°`));
  }
  for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
    const [, y] = view.project([0, lat]);
    group.append(svg("line", { x1: 0, y1: num(y), x2: WIDTH, y2: num(y) }));
    group.append(svg("text", { x: 3, y: num(y - 3) }, `${lat.toFixed(digits)}°`));
  }
}

// Redraw the map in `root` (the <svg>) from the party's notices and alerts.
export function drawMap(root, notices, alerts) {
  const all = shapes(notices, alerts);
  const groups = Object.fromEntries(["grid", "notices", "overlaps"].map((n) => [n, root.querySelector(`#map-${n}`)]));
  Object.values(groups).forEach((g) => g.replaceChildren());
  if (!all.length) {
    groups.grid.append(svg("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "Nothing to draw yet"));
    return null;
  }
  const view = fit(all);
  drawGrid(groups.grid, view);
  for (const shape of all) {
    const point = shape.geometry.type.endsWith("Point") && !shape.radius_m;
    const kind = point ? "aircraft" : "area";
    const path = svg("path", { d: pathData(shape, view), class: `${kind} ${shape.state}`, ...shape.data });
    path.append(svg("title", {}, shape.label));
    groups[shape.layer].append(path);
  }
  return view;
}

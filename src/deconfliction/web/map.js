// The console's map: Leaflet (vendored, window.L) over a Natural Earth basemap shipped in
// the package (no tiles: the service may have no network). Layers, bottom to top: land,
// borders and country names; standing zones; the party's notices; the overlaps of its
// alerts; live traffic. A time slider and an altitude band filter choose which volumes
// show: those whose window holds the chosen time and whose band meets the chosen band.

const L = window.L;
const KNOTS_PER_MPS = 1.943844;
const VECTOR_S = 60; // an aircraft's speed vector: where it will be in this many seconds
const EARTH_RADIUS_M = 6371008.8;
const PANES = { basemap: 250, zones: 390, notices: 400, overlaps: 410, traffic: 450 };
const STYLE = {
  land: { color: "#8a8f7a", weight: 1, fillColor: "#ece8d9", fillOpacity: 1 },
  border: { color: "#6d5a7e", weight: 1.5, dashArray: "6 4" },
  zone: { color: "#6b4f1d", weight: 1.5, fillColor: "#d9a441", fillOpacity: 0.25, dashArray: "2 3" },
  notice: { color: "#1f5fa8", weight: 1.5, fillColor: "#1f5fa8", fillOpacity: 0.25 },
  overlap: { color: "#c0392b", weight: 1.5, fillColor: "#c0392b", fillOpacity: 0.55 },
  acknowledged: { color: "#c0392b", weight: 1.5, fillColor: "#c0392b", fillOpacity: 0.2, dashArray: "5 3" },
  own: { color: "#ffffff", weight: 1.5, fillColor: "#0b7a3e", fillOpacity: 1, radius: 6 },
  vector: { color: "#0b7a3e", weight: 2 },
  other: { color: "#ffffff", weight: 1.5, fillColor: "#7a3db8", fillOpacity: 1, radius: 6 },
  suspect: { color: "#ffb000", weight: 3, fillColor: "#c0392b", fillOpacity: 1, radius: 8 },
};

const ms = (iso) => new Date(iso).getTime();

// One drawable volume: {layer, feature, radius_m, lower_m, upper_m, start, end (ms), label, style, data}.
export function volumes(notices, alerts) {
  const out = [];
  for (const notice of notices) {
    if (notice.state === "cancelled" || notice.state === "closed") continue;
    const layer = notice.standing ? "zones" : "notices";
    notice.volumes.features.forEach((feature, i) => {
      const p = feature.properties;
      out.push({
        layer,
        geometry: feature.geometry,
        radius_m: p.radius_m ?? null,
        lower_m: p.lower_m, upper_m: p.upper_m, start: ms(p.start), end: ms(p.end),
        label: `${notice.title || notice.id}, volume ${i + 1}: ${Math.round(p.lower_m)}–${Math.round(p.upper_m)} m`,
        style: layer === "zones" ? STYLE.zone : STYLE.notice,
        data: { "data-notice": notice.id, "data-volume": i },
      });
    });
  }
  for (const alert of alerts) {
    const p = alert.conflict.properties;
    if (alert.state === "resolved" || !alert.conflict.geometry || alert.conflict.geometry.type === "Point") continue;
    out.push({
      layer: "overlaps",
      geometry: alert.conflict.geometry,
      radius_m: null,
      lower_m: p.lower_m, upper_m: p.upper_m, start: ms(p.start), end: ms(p.end),
      label: `overlap with ${p.counterpart} (${alert.kind}, ${alert.state})`,
      style: alert.state === "acknowledged" ? STYLE.acknowledged : STYLE.overlap,
      data: { "data-alert": alert.id },
    });
  }
  return out;
}

// Is `v` shown at time `at` (ms, or null: any time) within the band [lower, upper] (m)?
export function shown(v, at, lower, upper) {
  const inTime = at === null || (v.start <= at && at < v.end);
  return inTime && v.lower_m <= upper && lower <= v.upper_m;
}

// The time span the slider covers: from the earliest start to the latest end (ms).
export function span(all) {
  if (!all.length) return null;
  return [Math.min(...all.map((v) => v.start)), Math.max(...all.map((v) => v.end))];
}

// Where an aircraft at [lon, lat] moving at gs (m/s) on track trk (deg) is after t s.
export function ahead([lon, lat], gs, trk, t) {
  const d = (gs * t) / EARTH_RADIUS_M;
  const rad = Math.PI / 180;
  const dlat = d * Math.cos(trk * rad);
  const dlon = (d * Math.sin(trk * rad)) / Math.max(Math.cos(lat * rad), 1e-6);
  return [lon + dlon / rad, lat + dlat / rad];
}

const latLng = ([lon, lat]) => [lat, lon];

function text(value) {
  const span_ = document.createElement("span");
  span_.textContent = value;
  return span_;
}

function tag(layer, data) {
  const node = layer.getElement?.();
  if (node) for (const [k, v] of Object.entries(data)) node.setAttribute(k, String(v));
}

export class AirspaceMap {
  constructor(element) {
    this.map = L.map(element, { zoomSnap: 0.25, worldCopyJump: true, attributionControl: true });
    this.map.attributionControl.setPrefix("Leaflet").addAttribution("Natural Earth (public domain)");
    for (const [name, z] of Object.entries(PANES)) this.map.createPane(name).style.zIndex = String(z);
    this.groups = Object.fromEntries(["basemap", "places", "zones", "notices", "overlaps", "traffic"].map((n) => [n, L.layerGroup().addTo(this.map)]));
    L.control.layers(null, {
      "Country names": this.groups.places,
      "Standing zones": this.groups.zones,
      "Your notices": this.groups.notices,
      "Overlaps in your alerts": this.groups.overlaps,
      "Live traffic": this.groups.traffic,
    }, { collapsed: false }).addTo(this.map);
    L.control.scale({ imperial: false }).addTo(this.map);
    this.map.setView([47, 8], 5);
    this.all = [];
    this.fitted = false;
    this.filter = { at: null, lower: -Infinity, upper: Infinity };
    this.ready = this.loadBasemap();
  }

  async loadBasemap() {
    const response = await fetch("basemap/basemap.json", { cache: "force-cache" });
    const basemap = await response.json();
    const pane = "basemap";
    const land = { type: "MultiPolygon", coordinates: basemap.land };
    L.geoJSON(land, { pane, style: STYLE.land, interactive: false }).addTo(this.groups.basemap);
    const borders = { type: "MultiLineString", coordinates: basemap.borders };
    L.geoJSON(borders, { pane, style: STYLE.border, interactive: false }).addTo(this.groups.basemap);
    for (const place of basemap.places) {
      const icon = L.divIcon({ className: "place", html: "", iconSize: null });
      const marker = L.marker([place.lat, place.lon], { icon, pane, interactive: false, keyboard: false });
      marker.addTo(this.groups.places);
      marker.getElement().textContent = place.name;
    }
    this.map.getContainer().dataset.basemap = "drawn";
  }

  // Show volumes at time `at` (ms or null: any) within [lower, upper] m.
  setFilter(filter) {
    this.filter = { ...this.filter, ...filter };
    this.redraw();
  }

  update(notices, alerts) {
    this.all = volumes(notices, alerts);
    this.redraw();
    if (!this.fitted && this.all.length) {
      this.fit();
      this.fitted = true;
    }
    return span(this.all);
  }

  fit() {
    const bounds = L.latLngBounds([]);
    for (const v of this.all) {
      if (v.geometry.type === "Point" && v.radius_m) bounds.extend(L.latLng(latLng(v.geometry.coordinates)).toBounds(2 * v.radius_m));
      else bounds.extend(L.geoJSON(v.geometry).getBounds());
    }
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 });
  }

  shape(v) {
    const options = { pane: v.layer, ...v.style };
    if (v.geometry.type === "Point" && v.radius_m) return L.circle(latLng(v.geometry.coordinates), { ...options, radius: v.radius_m });
    return L.geoJSON(v.geometry, { ...options, style: v.style });
  }

  redraw() {
    for (const name of ["zones", "notices", "overlaps"]) this.groups[name].clearLayers();
    const { at, lower, upper } = this.filter;
    let count = 0;
    for (const v of this.all) {
      if (!shown(v, at, lower, upper)) continue;
      const layer = this.shape(v).bindTooltip(text(v.label), { sticky: true });
      layer.addTo(this.groups[v.layer]);
      (layer.eachLayer ? layer.getLayers() : [layer]).forEach((part) => tag(part, v.data));
      count += 1;
    }
    this.map.getContainer().dataset.shown = String(count);
  }

  // Live traffic: the party's own aircraft (tracks) with speed vectors and labels, and
  // other aircraft only where a tactical alert discloses them. Suspect ones are marked:
  // an own aircraft whose states the plausibility gate refused (`suspects`: id -> when,
  // from track.suspect events) and none accepted since; another party's aircraft that
  // is nonconforming or threatens a party.
  traffic(tracks, trackAlerts, suspects = new Map()) {
    const group = this.groups.traffic;
    group.clearLayers();
    const pane = "traffic";
    for (const t of tracks) {
      const at = [t.lon, t.lat];
      L.polyline([latLng(at), latLng(ahead(at, t.gs_mps, t.trk_deg, VECTOR_S))], { pane, ...STYLE.vector, interactive: false }).addTo(group);
      const suspect = suspects.has(t.id) && ms(suspects.get(t.id)) >= ms(t.time);
      const marker = L.circleMarker(latLng(at), { pane, ...(suspect ? STYLE.suspect : STYLE.own) }).addTo(group);
      const label = `${t.id} ${Math.round(t.alt_m)} m ${Math.round(t.gs_mps * KNOTS_PER_MPS)} kt${suspect ? " SUSPECT" : ""}`;
      const north = t.trk_deg < 90 || t.trk_deg > 270; // keep the label off the speed vector
      const direction = north ? "bottom" : "top";
      marker.bindTooltip(text(label), { permanent: true, direction, offset: [0, north ? 8 : -8], className: "aircraft-label" });
      tag(marker, { "data-track": t.id, "data-lon": t.lon, "data-lat": t.lat, "data-suspect": suspect });
    }
    for (const a of trackAlerts) {
      const suspect = a.track.threatens.length > 0 || a.kind === "nonconforming";
      const marker = L.circleMarker(latLng(a.geometry.coordinates), { pane, ...(suspect ? STYLE.suspect : STYLE.other) }).addTo(group);
      const what = `${a.counterpart}: ${a.kind}, ${a.track.moment} at ${a.track.at.slice(11, 19)}Z` + (suspect ? " (suspect)" : "");
      marker.bindTooltip(text(what), { direction: "right", offset: [8, 0] });
      tag(marker, { "data-track-alert": a.alert, "data-suspect": suspect });
    }
  }
}

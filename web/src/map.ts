/**
 * The MapLibre map of a network and its results.
 *
 * Works offline: the default style is an inline blank style (a background layer, no tiles, no
 * glyphs), so nothing is fetched from the internet. A base-map style URL is an optional setting
 * and is only used under lon/lat networks; networks in a local frame are drawn without one.
 *
 * Layers (all ids start with `tk-`, so a base-map style can be swapped underneath them):
 * - `tk-links-toll` (source `tk-tolls`, the tolled links only): a casing under tolled links;
 * - `tk-links` (source `tk-links`): one line per link, width by flow (or |flow change|), colour by
 *   v/c (or change); two-way links are offset to their right so both directions show;
 * - `tk-zones`: zone centroids (promoted id `zone`); zone views colour them through feature state
 *   (`zc` colour, `v` value: incidence, trips not made).
 * - `tk-toll-labels`: toll labels, a symbol layer whose icons are drawn by the page (a blank
 *   style has no glyphs); MapLibre's collision detection keeps them from overlapping.
 *
 * Speed (Chicago-Sketch, 2,950 links, must be interactive): the `tk-links` source holds a
 * network's geometry and link ids only, loaded once per network. A result is drawn through
 * feature state (`w` width px, `o` offset px, `c` colour per link), which restyles the tiles
 * already built: no re-tiling in the worker, which is what a `setData` of every result would cost.
 * Popups read the full properties of a link from the collection last shown.
 *
 * Moving (Berlin-Center, 28,376 links, must drag within 1.5× of Sioux Falls' frame rate): the
 * cost of a frame is the line geometry (Berlin-Center's links are 330,000 vertices), not the
 * paint. So while the map of a network with more than {@link MOVING_LINKS} links moves (drag,
 * zoom, any camera change), `tk-links` is switched off (line-opacity 0: MapLibre skips the layer)
 * and `tk-links-moving` draws only its {@link MOVING_LINKS} links of highest capacity (source
 * property `m`, fixed per network), in the same colours, widths and selection; zones and toll
 * labels wait for the map to stop. The full drawing comes back at `moveend`. Only constant paint
 * properties are switched, without transition: no re-tiling, no feature-state work per frame.
 * While the map moves, links are not hovered either (each hover is a feature-state change, which
 * re-uploads a tile's paint buffers).
 */
import * as maplibregl from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import "maplibre-gl/dist/maplibre-gl.css";
import type { ExpressionSpecification, GeoJSONSource, MapGeoJSONFeature, StyleSpecification } from "maplibre-gl";
import { DIFF_STOPS, NETWORK_COLOR, SELECT_STOPS, SELECTED_COLOR, TOLL_COLOR, VOC_STOPS, colorAt, widthFor } from "./colors.js";
import { formatPercent, formatQuantity, formatRatio, formatSigned, formatSignedRatio } from "./format.js";
import { unitsOf, type Units } from "./units.js";
import type { LinkCollection, LinkFeature, PointCollection } from "./geo.js";
import { boundsOf, pointAlong } from "./geo.js";

maplibregl.setWorkerUrl(workerUrl);

export const LINKS_SOURCE = "tk-links";
export const TOLLS_SOURCE = "tk-tolls";
export const ZONES_SOURCE = "tk-zones";
export const LINKS_LAYER = "tk-links";
export const TOLL_LAYER = "tk-links-toll";
export const ZONES_LAYER = "tk-zones";
export const LABELS_SOURCE = "tk-toll-labels";
export const LABELS_LAYER = "tk-toll-labels";
export const MOVING_LAYER = "tk-links-moving";

/**
 * Links drawn while a large network's map moves (the most important by capacity): about
 * Chicago-Sketch's size, which a software renderer still drags at close to Sioux Falls' frame rate.
 */
export const MOVING_LINKS = 3000;

/** Most toll labels offered to the map (the highest tolls); collision then hides those that would overlap. */
export const MAX_TOLL_LABELS = 1000;

/** What the links currently show. */
export type MapMode = "network" | "flows" | "difference" | "select-link";

/** A zone's colour and the line its popup shows (zone views: incidence, trips not made). */
export interface ZoneValue {
  color: string;
  /** The number drawn (kept in the feature state `v`, for tests and popups). */
  value: number;
  text: string;
}

/** The inline blank style: no sources, no network access. */
export function blankStyle(): StyleSpecification {
  return {
    version: 8,
    name: "tollkit blank",
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#f3f1ec" } }],
  };
}

export class TollMap {
  readonly map: maplibregl.Map;
  private mode: MapMode = "network";
  private baseStyleUrl: string | null;
  private lonlat = true;
  private network: string | null = null;
  private hoverPopup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: "tk-hover", maxWidth: "280px" });
  private clickPopup = new maplibregl.Popup({ closeButton: true, closeOnClick: true, className: "tk-click", maxWidth: "280px" });
  private hoveredId: number | null = null;
  /** A scale bar, shown only under lon/lat networks (a local frame's distances are not metres). */
  private scale = new maplibregl.ScaleControl({ unit: "metric" });
  private loaded: Promise<void>;
  private links: LinkCollection = { type: "FeatureCollection", features: [] };
  private byLink = new Map<number, Record<string, unknown>>();
  /** Called with a status or error message for the user (never thrown at them). */
  onMessage: (text: string) => void = () => {};
  /**
   * When set, a click on a link picks it (the study editor) instead of opening its popup.
   * `additive` is true when Shift, Ctrl or Cmd was held.
   */
  onPick: ((link: number, additive: boolean) => void) | null = null;
  /** The links of the current frame (the fit control fits them). */
  private frameLinks: LinkCollection = { type: "FeatureCollection", features: [] };
  /** Zoom from which zones are drawn (0: always; dense networks only closer in). */
  zonesMinZoom = 0;
  /** Units of the network shown (labels and popups print tolls, times and revenue with them). */
  units: Units = unitsOf(undefined);
  /**
   * False while a shape is drawn on the map (draw.ts): links are not hovered and no hover popup
   * opens, so that nothing covers the place the planner clicks next.
   */
  private hoverable = true;
  /** Links drawn as selected (feature state `sel`). */
  private selected = new Set<number>();
  /** Zones drawn with a value (feature state `zc` colour, `v` value), by zone id. */
  private zoneValues = new Map<number, ZoneValue>();
  /** The heading of the zone values' popups, e.g. "Generalised cost per trip, B − A". */
  private zoneCaption = "";
  /** True when the network has more links than {@link MOVING_LINKS} (it is drawn simpler while moving). */
  private large = false;
  /** True while the simpler drawing of a moving map is on. */
  private simplified = false;

  constructor(container: HTMLElement, baseStyleUrl: string | null) {
    this.baseStyleUrl = baseStyleUrl;
    this.map = new maplibregl.Map({
      container,
      style: blankStyle(),
      center: [0, 0],
      zoom: 1,
      attributionControl: { compact: true },
      renderWorldCopies: false,
      maxPitch: 0,
      dragRotate: false,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new FitControl(() => this.fit(this.frameLinks)), "top-right");
    this.map.addControl(this.scale, "bottom-right");
    this.map.on("error", (e) => this.onMessage(`Map: ${e.error?.message ?? "unknown error"}`));
    this.loaded = new Promise((resolve) => this.map.once("load", () => resolve()));
    void this.loaded.then(() => {
      this.addLayers();
      this.bindInteraction();
    });
  }

  /** Resolves once the style and the tollkit layers are in place. */
  async ready(): Promise<void> {
    await this.loaded;
  }

  /** Resolves at the next `idle` event (after a repaint is requested, so it always comes). */
  onceIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.map.once("idle", () => resolve());
      this.map.triggerRepaint();
    });
  }

  /**
   * Sets the base-map style URL (null: the blank style). The tollkit sources and layers are
   * carried over to the new style. Ignored (blank style kept) for networks not in lon/lat.
   */
  setBaseStyle(url: string | null): void {
    this.baseStyleUrl = url;
    this.applyBaseStyle();
  }

  private applyBaseStyle(): void {
    const url = this.lonlat ? this.baseStyleUrl : null;
    this.map.setStyle(url ?? blankStyle(), {
      diff: false,
      transformStyle: (previous, next) => {
        if (!previous) return next;
        const ours = previous.layers.filter((l) => l.id.startsWith("tk-"));
        const sources = Object.fromEntries(Object.entries(previous.sources).filter(([id]) => id.startsWith("tk-")));
        return { ...next, sources: { ...next.sources, ...sources }, layers: [...next.layers, ...ours] };
      },
    });
  }

  /**
   * Puts the map in a network's frame: its link geometry (loaded once per network), zone dots,
   * whether coordinates are lon/lat (`false`: a local frame, drawn without a base map), and the
   * view, fitted to the network when it changes. Every `show…` call must follow the `setFrame`
   * of its network.
   */
  async setFrame(network: string, links: LinkCollection, zones: PointCollection, lonlat: boolean): Promise<void> {
    await this.ready();
    if (lonlat !== this.lonlat) {
      this.lonlat = lonlat;
      if (this.baseStyleUrl) this.applyBaseStyle();
      if (lonlat) this.map.addControl(this.scale, "bottom-right");
      else this.map.removeControl(this.scale);
    }
    if (network !== this.network) {
      this.network = network;
      this.map.removeFeatureState({ source: LINKS_SOURCE });
      this.map.removeFeatureState({ source: ZONES_SOURCE });
      this.zoneValues.clear();
      this.selected.clear();
      this.large = links.features.length > MOVING_LINKS;
      const moving = this.large ? movingLinks(links) : new Set<number>();
      const geometry = links.features.map((f) => ({
        type: "Feature" as const,
        geometry: f.geometry,
        // `m`: drawn while the map moves (large networks only, see the module notes)
        properties: moving.has(f.properties.link) ? { link: f.properties.link, m: 1 } : { link: f.properties.link },
      }));
      (this.map.getSource(LINKS_SOURCE) as GeoJSONSource).setData({ type: "FeatureCollection", features: geometry });
      (this.map.getSource(ZONES_SOURCE) as GeoJSONSource).setData(zones);
      this.frameLinks = links;
      this.fit(links);
      // Many zones (Berlin-Center has 865) cannot be told apart at the network's full extent:
      // they appear from 1.5 zoom levels closer in.
      const dense = zones.features.length > ZONES_DENSE;
      this.zonesMinZoom = dense ? Math.min(this.map.getZoom() + 1.5, 22) : 0;
      this.map.setLayerZoomRange(ZONES_LAYER, this.zonesMinZoom, 24);
    }
  }

  /** Draws a network before any results: links in grey. */
  async showNetwork(links: LinkCollection): Promise<void> {
    await this.ready();
    this.setLinks(links, "network", () => ({ width: 2, color: NETWORK_COLOR }));
  }

  /** Draws assignment results: width by `flow`, colour by `voc`, tolled links cased and labelled. */
  async showFlows(links: LinkCollection): Promise<void> {
    await this.ready();
    let maxFlow = 0;
    for (const f of links.features) maxFlow = Math.max(maxFlow, Math.abs(Number(f.properties.flow) || 0));
    this.setLinks(links, "flows", (p) => ({
      width: widthFor(Math.abs(Number(p.flow) || 0), maxFlow),
      color: colorAt(VOC_STOPS, Number(p.voc) || 0),
    }));
  }

  /** Draws a difference map: width by |`flowDifference`|, diverging colour by `flowDifference`. */
  async showDifference(links: LinkCollection): Promise<void> {
    await this.ready();
    let maxAbs = 0;
    for (const f of links.features) maxAbs = Math.max(maxAbs, Math.abs(Number(f.properties.flowDifference) || 0));
    this.setLinks(links, "difference", (p) => {
      const d = Number(p.flowDifference) || 0;
      return { width: widthFor(Math.abs(d), maxAbs), color: colorAt(DIFF_STOPS, maxAbs > 0 ? d / maxAbs : 0) };
    });
  }

  /**
   * Draws a select-link analysis: width and colour by `selectLinkFlow` (the flow of the trips
   * that use the selected links, PCE), from 0 to its largest value.
   */
  async showSelectLink(links: LinkCollection): Promise<void> {
    await this.ready();
    let max = 0;
    for (const f of links.features) max = Math.max(max, Number(f.properties.selectLinkFlow) || 0);
    this.setLinks(links, "select-link", (p) => {
      const v = Number(p.selectLinkFlow) || 0;
      return v > 0 ? { width: widthFor(v, max), color: colorAt(SELECT_STOPS, max > 0 ? v / max : 0) } : { width: 1, color: NETWORK_COLOR };
    });
  }

  /**
   * Colours zones (feature state `zc`, value `v`); null clears them. `caption` heads their
   * popups. Any link view drawn afterwards clears them too.
   */
  setZoneValues(values: Map<number, ZoneValue> | null, caption = ""): void {
    if (!this.map.getSource(ZONES_SOURCE)) return;
    this.map.removeFeatureState({ source: ZONES_SOURCE });
    this.zoneValues = new Map(values ?? []);
    this.zoneCaption = caption;
    for (const [id, z] of this.zoneValues) this.map.setFeatureState({ source: ZONES_SOURCE, id }, { zc: z.color, v: z.value });
    // coloured zones are the message of the view: show them at every zoom
    this.map.setLayerZoomRange(ZONES_LAYER, this.zoneValues.size > 0 ? 0 : this.zonesMinZoom, 24);
  }

  /**
   * Draws `links` (1-based ids) as selected: the feature state `sel` of exactly those links is
   * true (only the links whose state changes are touched, so a large selection stays cheap).
   */
  setSelection(links: ReadonlySet<number>): void {
    if (!this.map.getSource(LINKS_SOURCE)) return;
    for (const id of this.selected) if (!links.has(id)) this.map.setFeatureState({ source: LINKS_SOURCE, id }, { sel: false });
    for (const id of links) if (!this.selected.has(id)) this.map.setFeatureState({ source: LINKS_SOURCE, id }, { sel: true });
    this.selected = new Set(links);
  }

  /** Turns link hovering and its popup off (while a shape is drawn) or back on. */
  setHoverable(on: boolean): void {
    this.hoverable = on;
    if (!on) {
      this.setHover(null);
      this.hoverPopup.remove();
    }
  }

  /** Current mode (what the link layer shows). */
  getMode(): MapMode {
    return this.mode;
  }

  /** Fits the view to a collection of links. */
  fit(links: LinkCollection): void {
    const b = boundsOf(links);
    if (!b) return;
    // The legend sits at the bottom left: keep the network clear of it.
    this.map.fitBounds(b, { padding: { top: 30, bottom: 30, right: 60, left: 220 }, animate: false, maxZoom: 16 });
  }

  /** Centres on a link and opens its popup (the keyboard path to what hovering shows). */
  showLink(linkId: number): boolean {
    const f = this.links.features.find((x) => x.properties.link === linkId);
    if (!f) return false;
    const at = pointAlong(f.geometry.coordinates, 0.5);
    this.map.easeTo({ center: at, duration: 0 });
    this.clickPopup.setLngLat(at).setDOMContent(this.popupContent(f.properties)).addTo(this.map);
    return true;
  }

  /**
   * Draws links of the current network: each link's width, offset and colour go into its
   * feature state (see the module notes); the tolled links into the small `tk-tolls` source.
   */
  private setLinks(links: LinkCollection, mode: MapMode, look: (p: Record<string, unknown>) => { width: number; color: string }): void {
    this.links = links;
    this.byLink = new Map(links.features.map((f) => [f.properties.link, f.properties]));
    this.mode = mode;
    this.hoverPopup.remove();
    this.clickPopup.remove();
    this.hoveredId = null;
    if (this.zoneValues.size > 0) this.setZoneValues(null);
    const tolls: { type: "Feature"; geometry: LinkFeature["geometry"]; properties: Record<string, number> }[] = [];
    for (const f of links.features) {
      const { width, color } = look(f.properties);
      // Offset to the right of the link's direction by half its width, so both directions of a two-way road show.
      const offset = width / 2 + 0.5;
      this.map.setFeatureState({ source: LINKS_SOURCE, id: f.properties.link }, { w: width, o: offset, c: color, hover: false });
      if (mode !== "difference" && mode !== "select-link" && Number(f.properties.toll) > 0)
        tolls.push({ type: "Feature", geometry: f.geometry, properties: { link: f.properties.link, w: width, o: offset } });
    }
    (this.map.getSource(TOLLS_SOURCE) as GeoJSONSource).setData({ type: "FeatureCollection", features: tolls });
    this.setTollLabels(mode === "difference" || mode === "select-link" ? [] : links.features);
  }

  /**
   * Toll labels as a symbol layer: one label point per tolled link, 35 % along its own direction
   * (so the two directions of a road get two places), drawn as an image made here (the blank style has
   * no glyphs). MapLibre's symbol collision hides labels that would overlap, the highest tolls
   * placed first; the links table lists every toll.
   */
  private setTollLabels(features: LinkFeature[]): void {
    const tolled = features.filter((f) => Number(f.properties.toll) > 0);
    tolled.sort((a, b) => Number(b.properties.toll) - Number(a.properties.toll));
    const shown = tolled.slice(0, MAX_TOLL_LABELS);
    const points = shown.map((f) => {
      const text = this.units.money(Number(f.properties.toll));
      const icon = this.labelImage(text);
      return {
        type: "Feature" as const,
        geometry: { type: "Point" as const, coordinates: pointAlong(f.geometry.coordinates, 0.35) },
        properties: {
          link: f.properties.link,
          label: text,
          icon,
          toll: Number(f.properties.toll),
          iw: this.labelSizes.get(icon)![0],
          ih: this.labelSizes.get(icon)![1],
        },
      };
    });
    (this.map.getSource(LABELS_SOURCE) as GeoJSONSource).setData({ type: "FeatureCollection", features: points });
    if (tolled.length > shown.length)
      this.onMessage(
        `${tolled.length} tolled links: labels for the ${MAX_TOLL_LABELS} highest tolls (where they do not overlap); the table lists every toll.`,
      );
  }

  /** Pixel size (CSS px) of each label image, by image id. */
  private labelSizes = new Map<string, [number, number]>();

  /** The id of the image of a toll label (made on first use: white box, purple border, the toll). */
  private labelImage(text: string): string {
    const id = `tk-toll:${text}`;
    if (this.map.hasImage(id)) return id;
    const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
    const font = `600 ${11 * ratio}px system-ui, sans-serif`;
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d")!;
    ctx.font = font;
    const w = Math.ceil(ctx.measureText(text).width) + 8 * ratio;
    const hgt = 16 * ratio;
    canvas.width = w;
    canvas.height = hgt;
    ctx.font = font;
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = TOLL_COLOR;
    ctx.lineWidth = ratio;
    ctx.beginPath();
    ctx.roundRect(ratio / 2, ratio / 2, w - ratio, hgt - ratio, 3 * ratio);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = "#3f1d6b";
    ctx.textBaseline = "middle";
    ctx.textAlign = "center";
    ctx.fillText(text, w / 2, hgt / 2 + ratio / 2);
    this.map.addImage(id, ctx.getImageData(0, 0, w, hgt), { pixelRatio: ratio });
    this.labelSizes.set(id, [w / ratio, hgt / ratio]);
    return id;
  }

  private addLayers(): void {
    const empty = { type: "FeatureCollection" as const, features: [] };
    this.map.addSource(LINKS_SOURCE, { type: "geojson", data: empty, promoteId: "link" });
    this.map.addSource(TOLLS_SOURCE, { type: "geojson", data: empty });
    this.map.addSource(ZONES_SOURCE, { type: "geojson", data: empty, promoteId: "zone" });
    const state = (k: string, fallback: number | string): ExpressionSpecification => ["coalesce", ["feature-state", k], fallback];
    const linkPaint = {
      "line-color": [
        "case",
        ["boolean", ["feature-state", "hover"], false],
        "#111111",
        ["boolean", ["feature-state", "sel"], false],
        SELECTED_COLOR,
        state("c", NETWORK_COLOR),
      ] as ExpressionSpecification,
      "line-width": [
        "case",
        ["boolean", ["feature-state", "sel"], false],
        ["max", 4, ["+", state("w", 2), 2]],
        state("w", 2),
      ] as ExpressionSpecification,
      "line-offset": state("o", 1.5),
    };
    this.map.addLayer({
      id: TOLL_LAYER,
      type: "line",
      source: TOLLS_SOURCE,
      layout: { "line-cap": "butt", "line-join": "round" },
      paint: { "line-color": TOLL_COLOR, "line-width": ["+", ["get", "w"], 4], "line-offset": ["get", "o"] },
    });
    this.map.addLayer({
      id: LINKS_LAYER,
      type: "line",
      source: LINKS_SOURCE,
      layout: { "line-cap": "butt", "line-join": "round" },
      paint: { ...linkPaint, "line-opacity": 1, "line-opacity-transition": { duration: 0, delay: 0 } },
    });
    // The links drawn while a large network moves (off, i.e. skipped, at rest).
    this.map.addLayer({
      id: MOVING_LAYER,
      type: "line",
      source: LINKS_SOURCE,
      filter: ["==", ["get", "m"], 1],
      layout: { "line-cap": "butt", "line-join": "round" },
      paint: { ...linkPaint, "line-opacity": 0, "line-opacity-transition": { duration: 0, delay: 0 } },
    });
    this.map.addLayer({
      id: ZONES_LAYER,
      type: "circle",
      source: ZONES_SOURCE,
      paint: {
        // a zone with a value (feature state zc) is drawn larger, in its colour
        "circle-radius": [
          "interpolate",
          ["linear"],
          ["zoom"],
          8,
          ["case", ["!=", ["feature-state", "zc"], null], 5, 1.5],
          11,
          ["case", ["!=", ["feature-state", "zc"], null], 8, 3],
          14,
          ["case", ["!=", ["feature-state", "zc"], null], 11, 5],
        ],
        "circle-color": state("zc", "#ffffff"),
        "circle-opacity": 1,
        "circle-opacity-transition": { duration: 0, delay: 0 },
        "circle-stroke-opacity": 1,
        "circle-stroke-opacity-transition": { duration: 0, delay: 0 },
        "circle-stroke-color": "#222222",
        "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 8, 0.75, 11, 1.5],
      },
    });
    this.map.addSource(LABELS_SOURCE, { type: "geojson", data: empty });
    this.map.addLayer({
      id: LABELS_LAYER,
      type: "symbol",
      source: LABELS_SOURCE,
      layout: {
        "icon-image": ["get", "icon"],
        "icon-allow-overlap": false,
        "icon-ignore-placement": false,
        "icon-padding": 1,
        // Highest tolls first: they win the collisions.
        "symbol-sort-key": ["-", 0, ["get", "toll"]],
      },
      paint: { "icon-opacity": 1, "icon-opacity-transition": { duration: 0, delay: 0 } },
    });
  }

  /**
   * Switches between the full drawing and the simpler one of a moving large network (see the
   * module notes): constant paint properties only, so nothing is re-tiled.
   */
  private setSimplified(on: boolean): void {
    if (on === this.simplified) return;
    this.simplified = on;
    const map = this.map;
    map.setPaintProperty(LINKS_LAYER, "line-opacity", on ? 0 : 1);
    map.setPaintProperty(MOVING_LAYER, "line-opacity", on ? 1 : 0);
    map.setPaintProperty(ZONES_LAYER, "circle-opacity", on ? 0 : 1);
    map.setPaintProperty(ZONES_LAYER, "circle-stroke-opacity", on ? 0 : 1);
    map.setPaintProperty(LABELS_LAYER, "icon-opacity", on ? 0 : 1);
  }

  private bindInteraction(): void {
    const map = this.map;
    map.on("movestart", () => {
      // A moving map hovers nothing (see the module notes).
      if (this.hoveredId !== null) {
        this.setHover(null);
        this.hoverPopup.remove();
      }
      if (this.large) this.setSimplified(true);
    });
    map.on("moveend", () => this.setSimplified(false));
    map.on("mousemove", LINKS_LAYER, (e) => {
      if (map.isMoving() || !this.hoverable) return;
      const f = e.features?.[0];
      if (!f) return;
      map.getCanvas().style.cursor = "pointer";
      this.setHover(f);
      this.hoverPopup
        .setLngLat(e.lngLat)
        .setDOMContent(this.popupContent(this.propertiesOf(f)))
        .addTo(map);
    });
    map.on("mouseleave", LINKS_LAYER, () => {
      map.getCanvas().style.cursor = "";
      this.setHover(null);
      this.hoverPopup.remove();
    });
    map.on("click", LINKS_LAYER, (e) => {
      const f = e.features?.[0];
      if (!f) return;
      this.hoverPopup.remove();
      if (this.onPick) {
        const ev = e.originalEvent as MouseEvent;
        this.onPick(Number(f.properties.link), ev.shiftKey || ev.ctrlKey || ev.metaKey);
        return;
      }
      this.clickPopup
        .setLngLat(e.lngLat)
        .setDOMContent(this.popupContent(this.propertiesOf(f)))
        .addTo(map);
    });
    map.on("mousemove", ZONES_LAYER, (e) => {
      if (map.isMoving() || !this.hoverable) return;
      const f = e.features?.[0];
      if (!f) return;
      const z = this.zoneValues.get(Number(f.properties.zone));
      this.hoverPopup
        .setLngLat(e.lngLat)
        .setDOMContent(zoneContent(f.properties, z ? `${this.zoneCaption}: ${z.text}` : ""))
        .addTo(map);
    });
    map.on("mouseleave", ZONES_LAYER, () => this.hoverPopup.remove());
  }

  /** The full properties of a rendered link feature (the source holds only the drawing ones). */
  private propertiesOf(f: MapGeoJSONFeature): Record<string, unknown> {
    return this.byLink.get(Number(f.properties.link)) ?? f.properties;
  }

  private setHover(f: MapGeoJSONFeature | null): void {
    if (this.hoveredId !== null) map_setHover(this.map, this.hoveredId, false);
    this.hoveredId = f && typeof f.id === "number" ? f.id : null;
    if (this.hoveredId !== null) map_setHover(this.map, this.hoveredId, true);
  }

  /** The popup of a link: the fields of the current mode, formatted as in the panels. */
  popupContent(p: Record<string, unknown>): HTMLElement {
    const root = document.createElement("div");
    root.className = "popup";
    const h = document.createElement("h3");
    h.textContent = `Link ${p.link}` + (p.from !== undefined ? ` (${p.from} → ${p.to})` : "");
    root.append(h);
    const dl = document.createElement("dl");
    const row = (label: string, value: string) => {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dl.append(dt, dd);
    };
    const num = (k: string) => (p[k] === undefined || p[k] === null ? undefined : Number(p[k]));
    if (this.mode === "difference") {
      row("Flow A", formatQuantity(num("flowA")));
      row("Flow B", formatQuantity(num("flowB")));
      row("Flow change", formatSigned(num("flowDifference")));
      if (num("vocDifference") !== undefined) row("v/c change", formatSignedRatio(num("vocDifference")));
      if (num("timeDifference") !== undefined) row("Time change", `${formatSigned(num("timeDifference"))} ${this.units.time}`);
      if (num("tollDifference") !== undefined) row("Toll change", signedMoney(this.units, num("tollDifference")));
      if (num("revenueDifference") !== undefined) row("Revenue change", signedMoney(this.units, num("revenueDifference")));
    } else if (this.mode === "select-link") {
      row("Flow", formatQuantity(num("flow")));
      row("Flow of the selected trips", formatQuantity(num("selectLinkFlow")));
      const f = num("flow");
      if (f !== undefined && f > 0) row("Share", formatPercent((num("selectLinkFlow") ?? 0) / f));
    } else {
      if (num("flow") !== undefined) row("Flow", formatQuantity(num("flow")));
      if (num("capacity") !== undefined) row("Capacity", formatQuantity(num("capacity")));
      if (num("voc") !== undefined) row("v/c", formatRatio(num("voc")));
      if (num("time") !== undefined) row("Time", this.units.duration(num("time")));
      if (num("freeFlowTime") !== undefined) row("Free-flow time", this.units.duration(num("freeFlowTime")));
      if (num("toll") !== undefined) row("Toll", this.units.money(num("toll")));
      if (num("revenue") !== undefined) row("Revenue", this.units.money(num("revenue")));
    }
    root.append(dl);
    return root;
  }
}

/**
 * The {@link MOVING_LINKS} links of a network drawn while its map moves: the highest capacity
 * first (the main roads), then the longest (a link without capacity counts as 0).
 */
export function movingLinks(links: LinkCollection): Set<number> {
  const cap = (f: LinkFeature) => Number(f.properties.capacity) || 0;
  const len = (f: LinkFeature) => Number(f.properties.length) || 0;
  const ranked = [...links.features].sort((a, b) => cap(b) - cap(a) || len(b) - len(a) || a.properties.link - b.properties.link);
  return new Set(ranked.slice(0, MOVING_LINKS).map((f) => f.properties.link));
}

/** Zones beyond this number are only drawn closer in than the network's full extent. */
const ZONES_DENSE = 300;

/** A map button that fits the view to the whole network again. */
class FitControl implements maplibregl.IControl {
  private el: HTMLDivElement | null = null;
  constructor(private readonly onFit: () => void) {}
  onAdd(): HTMLElement {
    const div = document.createElement("div");
    div.className = "maplibregl-ctrl maplibregl-ctrl-group";
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tk-fit";
    b.title = "Fit the whole network";
    b.setAttribute("aria-label", "Fit the whole network");
    b.textContent = "⤢";
    b.addEventListener("click", () => this.onFit());
    div.append(b);
    this.el = div;
    return div;
  }
  onRemove(): void {
    this.el?.remove();
  }
}

function signedMoney(units: Units, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  return v > 0 ? `+${units.money(v)}` : units.money(v);
}

function map_setHover(map: maplibregl.Map, id: number, hover: boolean): void {
  map.setFeatureState({ source: LINKS_SOURCE, id }, { hover });
}

function zoneContent(p: Record<string, unknown>, line: string): HTMLElement {
  const el = document.createElement("div");
  el.className = "popup";
  el.textContent = `Zone ${p.zone ?? p.id ?? p.node ?? ""}`;
  if (line) {
    const v = document.createElement("p");
    v.textContent = line;
    el.append(v);
  }
  return el;
}

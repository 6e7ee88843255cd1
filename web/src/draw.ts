/**
 * Drawing areas on the map with terra-draw (its MapLibre adapter): a polygon (a cordon) or a
 * rectangle (a box selection). The drawing is in the map's coordinates (lon/lat, or the local
 * frame the API draws other networks in). terra-draw starts on first use, so a page that never
 * draws adds no layers. Its layers are prefixed `tk-td` so that a base-map change keeps them.
 */
import { TerraDraw, TerraDrawPolygonMode, TerraDrawRectangleMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";
import { tollMap } from "./context.js";
import type { Position } from "./geo.js";

let draw: TerraDraw | null = null;
let pending: ((ring: Position[] | null) => void) | null = null;

async function instance(): Promise<TerraDraw> {
  if (draw) return draw;
  await tollMap.ready();
  const d = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map: tollMap.map, prefixId: "tk-td" }),
    modes: [
      new TerraDrawPolygonMode({
        styles: { fillColor: "#e6550d", fillOpacity: 0.12, outlineColor: "#e6550d", outlineWidth: 2, closingPointColor: "#e6550d" },
      }),
      new TerraDrawRectangleMode({ styles: { fillColor: "#1f5fa8", fillOpacity: 0.1, outlineColor: "#1f5fa8", outlineWidth: 2 } }),
    ],
  });
  d.start();
  d.on("finish", (id) => {
    performance.mark("tollkit:draw-finish");
    const f = d.getSnapshotFeature(id);
    const ring = f && f.geometry.type === "Polygon" ? (f.geometry.coordinates[0] as Position[]) : null;
    d.setMode("static");
    tollMap.setHoverable(true);
    const done = pending;
    pending = null;
    done?.(ring);
  });
  // terra-draw hears keys on the map's canvas only: while a shape is drawn, Enter (finish) and
  // Escape (cancel) pressed with the focus elsewhere on the page (not in a form field) reach it too.
  document.addEventListener("keyup", (e) => {
    const canvas = tollMap.map.getCanvas();
    if (!pending || e.target === canvas || (e.key !== "Enter" && e.key !== "Escape")) return;
    if (e.target instanceof HTMLElement && e.target.closest("input, select, textarea, [contenteditable]")) return;
    canvas.dispatchEvent(new KeyboardEvent("keyup", { key: e.key, bubbles: true }));
  });
  draw = d;
  return d;
}

/**
 * Lets the user draw a polygon (click the corners; click the first one or press Enter to close)
 * or a rectangle (click two corners). Resolves with its ring, or null when cancelled. Any
 * earlier drawing is removed first.
 */
export async function drawArea(kind: "polygon" | "rectangle"): Promise<Position[] | null> {
  const d = await instance();
  cancelDrawing();
  d.clear();
  d.setMode(kind);
  // A hover popup would cover the next corner to click.
  tollMap.setHoverable(false);
  // Keys (Enter to finish, Escape to cancel) go to the map from the start.
  tollMap.map.getCanvas().focus({ preventScroll: true });
  return new Promise((resolve) => (pending = resolve));
}

/** True while a shape is being drawn. */
export function isDrawing(): boolean {
  return pending !== null;
}

/** Stops drawing (the pending drawArea resolves with null). */
export function cancelDrawing(): void {
  if (draw && pending) draw.setMode("static");
  tollMap.setHoverable(true);
  const done = pending;
  pending = null;
  done?.(null);
}

/** Removes the drawn shapes. */
export function clearDrawing(): void {
  cancelDrawing();
  draw?.clear();
}

/**
 * A server that never blocks (issue 15): the first Berlin-Center GeoJSON (28 376 links; loading
 * and serialising it takes about a second of CPU) is built in the map worker, so health checks
 * sent while it builds are answered before it, and several at once. An ordering check, not a
 * timing: were the GeoJSON built on the event loop, every request sent after it would wait for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { call, ServeProcess, startServe, stopServe, tempDir } from "../packages/api/test/helpers.js";

let s: ServeProcess;
beforeAll(async () => {
  s = await startServe(join(tempDir(), "nonblocking.db"));
}, 60_000);
afterAll(async () => {
  await stopServe(s);
});

describe("map work off the event loop", () => {
  it("answers health checks while the first Berlin-Center GeoJSON is built, and serves it compressed", async () => {
    const order: string[] = [];
    const geojson = fetch(`${s.url}/api/networks/berlin-center/geojson`).then(async (r) => {
      const body = await r.json();
      order.push("geojson");
      return { status: r.status, body };
    });
    await new Promise((r) => setTimeout(r, 50));
    for (let k = 0; k < 5; k++) {
      const h = await call(s.url, "/api/health");
      expect(h.status).toBe(200);
      order.push(`health ${k}`);
    }
    const g = await geojson;
    expect(g.status).toBe(200);
    expect(g.body.type).toBe("FeatureCollection");
    expect(g.body.features).toHaveLength(28376); // the catalogue's link count of Berlin-Center
    expect(order).toEqual(["health 0", "health 1", "health 2", "health 3", "health 4", "geojson"]);
    // the cached answer: the same document, gzip-encoded for a client that accepts it
    const res = await fetch(`${s.url}/api/networks/berlin-center/geojson`, { headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toMatch(/Accept-Encoding/i);
    const plain = await fetch(`${s.url}/api/networks/berlin-center/geojson`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    expect(JSON.parse(text)).toEqual(g.body);
    // undici decodes gzip itself: compare the raw bytes through node:zlib as well
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import("node:http").then(({ get }) =>
        get(`${s.url}/api/networks/berlin-center/geojson`, { headers: { "accept-encoding": "gzip" } }, (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (d: Buffer) => chunks.push(d));
          r.on("end", () => resolve(Buffer.concat(chunks)));
        }).on("error", reject),
      );
    });
    expect(gunzipSync(raw).toString("utf8")).toBe(text);
  }, 120_000);
});

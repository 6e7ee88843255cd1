/**
 * `tollkit networks list | info <id> | fetch <id>`.
 */
import { Command } from "commander";
import {
  BUILTIN_NETWORKS,
  catalogueEntry,
  fetchNetworkFiles,
  isAvailableOffline,
  loadCatalogue,
  loadNetwork,
  Network,
  networkIdKind,
  networkSummary,
} from "@tollkit/graph-core";
import { formatNumber, formatTable } from "../format.js";

/** The summary printed by `networks info` (and `--json`): graph-core's {@link networkSummary}. */
export const networkInfo = networkSummary;

function print(json: boolean, obj: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text()}\n`);
}

export function registerNetworks(program: Command): void {
  const networks = program.command("networks").description("The network catalogue: standard TNTP networks and built-in examples");
  networks.addHelpText(
    "after",
    "\nExamples:\n  tollkit networks list\n  tollkit networks info sioux-falls --json\n  tollkit networks fetch anaheim",
  );

  networks
    .command("list")
    .description("List catalogue and built-in networks")
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExamples:\n  tollkit networks list\n  tollkit networks list --json")
    .action((opts: { json?: boolean }) => {
      const rows = [
        ...loadCatalogue().networks.map((e) => ({
          id: e.id,
          name: e.name,
          zones: e.dimensions.zones,
          nodes: e.dimensions.nodes,
          links: e.dimensions.links,
          kind: "catalogue",
          available: e.supported === false ? "unsupported" : isAvailableOffline(e.id) ? "local" : "download",
        })),
        ...Object.entries(BUILTIN_NETWORKS).map(([id, b]) => {
          const net = b.make();
          return {
            id,
            name: b.description,
            zones: net.zoneCount,
            nodes: net.nodeCount,
            links: net.linkCount,
            kind: "built-in",
            available: "local",
          };
        }),
      ];
      print(!!opts.json, rows, () => {
        const head = ["id", "zones", "nodes", "links", "kind", "available"] as const;
        const cell = (v: string | number) => (typeof v === "number" ? formatNumber(v) : v);
        return formatTable(
          [head, ...rows.map((r) => head.map((h) => cell(r[h])))],
          head.map(() => "left"),
        ).join("\n");
      });
    });

  networks
    .command("info <id>")
    .description("Load a network and print its dimensions, demand, FIRST THRU NODE and cost weights")
    .option("--json", "machine-readable output")
    .option("--fallback <id>", "network to use instead when <id> cannot be resolved (no internet, no mirror)")
    .addHelpText(
      "after",
      "\n<id> is a catalogue id, a built-in id, a path to a *_net.tntp file or a GMNS folder.\n\nExamples:\n  tollkit networks info sioux-falls\n  tollkit networks info chicago-sketch --json",
    )
    .action(async (requested: string, opts: { json?: boolean; fallback?: string }) => {
      let id = requested;
      let net: Network;
      try {
        net = await loadNetwork(id);
      } catch (e) {
        if (!opts.fallback || networkIdKind(id) !== "catalogue") throw e;
        process.stderr.write(
          `tollkit: ${id} is not available here (${(e as Error).message.split(". ")[0]}); set TOLLKIT_NETWORK_MIRROR or run \`tollkit networks fetch ${id}\` online. Using ${opts.fallback} instead.\n`,
        );
        id = opts.fallback;
        net = await loadNetwork(id);
      }
      const info = networkInfo(id, net);
      print(!!opts.json, info, () =>
        [
          `${info.name} (${info.id})`,
          `  zones ${formatNumber(info.zones)}, nodes ${formatNumber(info.nodes)}, links ${formatNumber(info.links)}`,
          `  total demand ${formatNumber(info.totalDemand)} trips`,
          `  first thru node ${info.firstThruNode}`,
          `  cost weights: toll ${formatNumber(info.costWeights.tollFactor)}, distance ${formatNumber(info.costWeights.distanceFactor)}`,
          `  coordinates: ${info.coordinateSystem}`,
          ...(info.bestKnownObjective ? [`  best-known Beckmann objective ${formatNumber(info.bestKnownObjective)}`] : []),
          ...info.warnings.map((w) => `  warning: ${w}`),
        ].join("\n"),
      );
    });

  networks
    .command("fetch <id>")
    .description("Download a catalogue network into the cache (checked against its sha256)")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nFiles are looked up in networks/.cache, then TOLLKIT_NETWORK_MIRROR, then downloaded.\n\nExample:\n  tollkit networks fetch anaheim",
    )
    .action(async (id: string, opts: { json?: boolean }) => {
      catalogueEntry(id);
      const files = await fetchNetworkFiles(id);
      const rows = Object.entries(files).map(([kind, f]) => ({ kind, path: f.path, origin: f.origin }));
      print(!!opts.json, { id, files: rows }, () => rows.map((r) => `${r.kind.padEnd(12)} ${r.origin.padEnd(8)} ${r.path}`).join("\n"));
    });
}

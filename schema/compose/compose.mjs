// Composes the subgraph SDLs in schema/ into schema/supergraph.graphql with
// @theguild/federation-composition, a real Federation v2 composer.
//
//   node compose.mjs                       writes ../supergraph.graphql
//   node compose.mjs --schema-dir D --out - reads D/, prints the supergraph
//
// The subgraphs and their default URLs are listed in <schema dir>/subgraphs.json,
// which `cargo run -p salesync -- schema` writes from the launcher's list of
// subgraphs; the router overrides the URLs from the environment.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const schemaDir = option("--schema-dir", join(here, ".."));
const out = option("--out", join(here, "..", "supergraph.graphql"));

const subgraphs = JSON.parse(readFileSync(join(schemaDir, "subgraphs.json"), "utf8"));
const services = subgraphs.map(({ name, url }) => ({
  name,
  url,
  typeDefs: parse(readFileSync(join(schemaDir, `${name}.graphql`), "utf8")),
}));

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
const supergraph = result.supergraphSdl.endsWith("\n") ? result.supergraphSdl : `${result.supergraphSdl}\n`;
if (out === "-") process.stdout.write(supergraph);
else writeFileSync(out, supergraph);

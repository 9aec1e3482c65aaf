// persisted-documents.json is built from src/: this fails when an operation
// changed and the manifest was not rebuilt (`npm run persisted-documents`),
// which would make a router that runs only known documents refuse it.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

test("the persisted-documents manifest is current", () => {
  const web = new URL("..", import.meta.url).pathname;
  const scratch = mkdtempSync(join(tmpdir(), "salesync-manifest-"));
  const config = join(scratch, "config.json");
  const output = join(scratch, "persisted-documents.json");
  writeFileSync(config, JSON.stringify({ documents: [join(web, "src/**/*.js")], output }));
  execFileSync(join(web, "node_modules/.bin/generate-persisted-query-manifest"), ["--config", config], {
    cwd: web,
    stdio: "pipe",
  });
  assert.deepEqual(
    JSON.parse(readFileSync(output, "utf8")),
    JSON.parse(readFileSync(join(web, "persisted-documents.json"), "utf8")),
    "persisted-documents.json is stale: run `npm run persisted-documents` in web/",
  );
});

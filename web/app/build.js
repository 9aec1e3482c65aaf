// Bundles the terminal page (app/main.js and Apollo Client) into dist/.
// `npm run build`; the browser test runs it before serving the page.

import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const web = fileURLToPath(new URL("..", import.meta.url));
mkdirSync(`${web}dist`, { recursive: true });
await build({
  entryPoints: [`${web}app/main.js`],
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: "es2022",
  outfile: `${web}dist/app.js`,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
copyFileSync(`${web}app/index.html`, `${web}dist/index.html`);

// The Apollo Client terminal (app/) in a real browser: two terminals of one
// store, each in its own headless Chromium window, ring up one table and see
// each other's changes live; one takes the payment and the table leaves both
// floors; today's sales count it; the consultant's advice arrives on the
// page. The page is served from SALESYNC_APP_PORT, an origin the router
// allows (ROUTER_CORS_ORIGINS). Screenshots go to SALESYNC_SCREENSHOTS.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const url = process.env.SALESYNC_ROUTER_URL;
const appPort = Number(process.env.SALESYNC_APP_PORT);
assert.ok(url && appPort, "SALESYNC_ROUTER_URL and SALESYNC_APP_PORT are set");
const shots = process.env.SALESYNC_SCREENSHOTS ?? "target/browser";
mkdirSync(shots, { recursive: true });
const web = fileURLToPath(new URL("..", import.meta.url));

let server;
let browser;
const terminals = [];
const credentials = { username: `terminal${randomUUID().slice(0, 8)}`, password: "a long password 1" };

/** One GraphQL call as the owner (setting up the store). */
async function call(query, variables, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

before(async () => {
  execFileSync(process.execPath, [join(web, "app/build.js")], { stdio: "inherit" });
  const files = {
    "/index.html": ["text/html; charset=utf-8", readFileSync(join(web, "dist/index.html"))],
    "/app.js": ["text/javascript; charset=utf-8", readFileSync(join(web, "dist/app.js"))],
  };
  server = createServer((request, response) => {
    const file = files[new URL(request.url, "http://x").pathname];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": file[0] }).end(file[1]);
  });
  await new Promise((resolve) => server.listen(appPort, "127.0.0.1", resolve));

  const { signUp } = await call(
    `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`,
    {
      i: {
        ...credentials,
        ownerName: "김민지",
        phone: "010-1234-5678",
        name: "민지네 분식",
        address: "서울",
        storeType: "RESTAURANT",
        currency: "KRW",
      },
    },
  );
  const { createCategory } = await call('mutation { createCategory(name: "분식") { id } }', {}, signUp.token);
  for (const [name, price] of [
    ["김치찌개", 9000],
    ["김밥", 4500],
  ]) {
    await call(
      "mutation($i: CreateItemInput!) { createItem(input: $i) { id } }",
      { i: { categoryId: createCategory.id, name, price } },
      signUp.token,
    );
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  for (const name of ["counter", "floor"]) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error(`${name}:`, error));
    await page.goto(`http://127.0.0.1:${appPort}/index.html?router=${encodeURIComponent(url)}`);
    await page.fill('input[name="username"]', credentials.username);
    await page.fill('input[name="password"]', credentials.password);
    await page.click("#login button");
    await page.locator("#terminal").waitFor({ timeout: 30_000 });
    terminals.push(page);
  }
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** `page`'s table `n` row. */
const table = (page, n) => page.locator(`#floor li[data-table="${n}"]`);

async function add(page, tableNo, item) {
  await page.fill("#table", String(tableNo));
  await page.locator(`#menu li[data-item="${item}"] button`).click();
}

test("two terminals ring up one table and see each other's changes", async () => {
  const [counter, floor] = terminals;
  await add(counter, 2, "김치찌개");
  await table(floor, 2).locator(".total").getByText("₩9,000").waitFor({ timeout: 15_000 });

  await add(floor, 2, "김밥");
  await table(counter, 2).locator(".total").getByText("₩13,500").waitFor({ timeout: 15_000 });
  assert.match(await table(counter, 2).locator(".lines").innerText(), /김치찌개 ×1, 김밥 ×1/);
  await counter.screenshot({ path: join(shots, "terminal-counter.png") });
  await floor.screenshot({ path: join(shots, "terminal-floor.png") });
});

test("a payment at one terminal clears the table on both and counts in today's sales", async () => {
  const [counter, floor] = terminals;
  await table(counter, 2).getByRole("button", { name: "Pay by card" }).click();
  await table(counter, 2).waitFor({ state: "detached", timeout: 15_000 });
  await table(floor, 2).waitFor({ state: "detached", timeout: 15_000 });
  await counter.locator("#sale-count").getByText("1").waitFor({ timeout: 15_000 });
  assert.equal(await counter.locator("#today").innerText(), "₩13,500");
  assert.equal(await counter.locator("#error").innerText(), "");
});

test("the consultant's advice arrives on the page", async () => {
  const [counter] = terminals;
  await counter.click("#consult");
  await counter.locator("#advice-status").getByText("Done.").waitFor({ timeout: 30_000 });
  assert.ok((await counter.locator("#advice").innerText()).length > 20);
  await counter.screenshot({ path: join(shots, "terminal-advice.png") });
});

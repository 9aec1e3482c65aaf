// The playground in a real browser (headless Chromium, driven by
// playwright-core): the router serves the page and every file it needs,
// SignUp run from the page fills the token bar, a query runs as that store,
// a subscription shows an order placed elsewhere, and no request leaves the
// router's origin. Screenshots go to SALESYNC_SCREENSHOTS.
// `cargo test -p salesync-tests --test browser` starts the system and runs this.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const url = process.env.SALESYNC_ROUTER_URL;
assert.ok(url, "SALESYNC_ROUTER_URL names the router's GraphQL endpoint");
const origin = new URL(url).origin;
const shots = process.env.SALESYNC_SCREENSHOTS ?? "target/browser";
mkdirSync(shots, { recursive: true });

let browser;
let page;
const elsewhere = [];
const sockets = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("request", (request) => {
    const target = new URL(request.url());
    if (!["blob:", "data:"].includes(target.protocol) && target.host !== new URL(origin).host) {
      elsewhere.push(request.url());
    }
  });
  page.on("websocket", (socket) => sockets.push(socket.url()));
  page.on("pageerror", (error) => console.error("page error:", error));
});

after(async () => {
  await browser?.close();
});

/** Waits until the result pane shows each of `texts` (strings or patterns). */
async function shows(...texts) {
  const response = page.locator(".graphiql-response");
  for (const text of texts) {
    await response.getByText(text).first().waitFor({ timeout: 30_000 });
  }
}

/** Opens the playground with `operation` in the editor and runs it. */
async function run(operation, ...expected) {
  await page.goto(`${url}?query=${encodeURIComponent(operation)}`);
  await page.locator(".graphiql-execute-button").click({ timeout: 30_000 });
  await shows(...expected);
}

const username = `browser${randomUUID().slice(0, 8)}`;

test("SignUp run in the playground fills the token bar", async () => {
  await run(
    `mutation SignUp {
      signUp(input: { username: "${username}", password: "a long password 1", ownerName: "Kim",
        phone: "010-1234-5678", name: "Browser Bistro", address: "Seoul", storeType: "RESTAURANT" }) {
        token store { name }
      }
    }`,
    "Browser Bistro",
  );
  const token = await page.locator("#salesync-token").inputValue();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT in the bar");
  await page.locator("#salesync-who").getByText("store ").waitFor();
  await page.screenshot({ path: join(shots, "playground-signup.png") });
});

test("a query runs as the store whose token is in the bar", async () => {
  await run("query Me { me { username name } }", username, "Browser Bistro");
  await page.screenshot({ path: join(shots, "playground-query.png") });
});

test("a subscription shows an order placed from another terminal", async () => {
  const token = await page.locator("#salesync-token").inputValue();
  const call = async (query, variables) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data;
  };
  const { createCategory } = await call('mutation { createCategory(name: "Mains") { id } }');
  const { createItem } = await call(
    "mutation($c: ID!) { createItem(input: { categoryId: $c, name: \"Bibimbap\", price: 12000 }) { id } }",
    { c: createCategory.id },
  );

  await page.goto(`${url}?query=${encodeURIComponent("subscription Floor { tableChanged { tableNo total } }")}`);
  await page.locator(".graphiql-execute-button").click({ timeout: 30_000 });
  // The socket is open once the router acknowledged it; then give the
  // subscription a moment to reach the order subgraph.
  await page.waitForTimeout(1500);
  await call("mutation($i: ID!) { placeOrder(tableNo: 7, lines: [{ itemId: $i, quantity: 2 }]) { id } }", {
    i: createItem.id,
  });
  // Monaco writes spaces as no-break spaces.
  await shows("24000", /"tableNo":\s7/);
  assert.deepEqual(sockets, [url.replace(/^http/, "ws")], "over graphql-ws, to the router");
  await page.screenshot({ path: join(shots, "playground-subscription.png") });
});

test("nothing was fetched from anywhere but the router", () => {
  assert.deepEqual(elsewhere, []);
});

// A POS terminal page on Apollo Client: log in, ring up items to a table,
// watch every open table change live (from this terminal or any other),
// take payment, read today's sales, and watch the consultant's advice being
// written. Open it in two windows to see two terminals work one floor.
//
//   npm run build, then serve dist/ (the router must allow its origin: see
//   `cors` in router/router.config.yaml); ?router=<GraphQL URL> picks the
//   router, else port 4000 of this page's host.

import { createTerminal, errorCode, watchFloor } from "../src/client.js";
import {
  CHECKOUT,
  CONSULTING_RESULT,
  DASHBOARD,
  LOGIN,
  PLACE_ORDER,
  REQUEST_CONSULTING,
  SET_ORDER_LINES,
  STORE_AND_MENU,
} from "../src/operations.js";

const params = new URLSearchParams(location.search);
const url = params.get("router") ?? `${location.protocol}//${location.hostname}:4000/graphql`;
const session = { token: null };
const { client } = createTerminal({ url, token: () => session.token });

const $ = (id) => document.getElementById(id);
let store = null;
let floor = [];

function money(amount) {
  return new Intl.NumberFormat("ko-KR", { style: "currency", currency: store?.currency ?? "KRW" }).format(amount);
}

/** The store's business day now: its local date, turning at its closeout hour. */
function today() {
  const turned = new Date(Date.now() - store.closeoutHour * 3_600_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: store.timezone }).format(turned);
}

function report(error) {
  if (!error) {
    $("error").textContent = "";
    return;
  }
  const code = errorCode(error);
  $("error").textContent =
    code === "CONFLICT"
      ? "Another terminal changed this table just now: look again and retry."
      : `${code ?? "ERROR"}: ${error.message}`;
}

/** Runs an action, showing what went wrong instead of failing silently. */
async function attempt(action) {
  try {
    report(null);
    await action();
  } catch (error) {
    report(error);
  }
}

function element(tag, { dataset = {}, ...properties } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

// --- log in ------------------------------------------------------------------
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  attempt(async () => {
    const { data } = await client.mutate({
      mutation: LOGIN,
      variables: { username: form.get("username"), password: form.get("password") },
    });
    session.token = data.login.token;
    await open();
  });
});

async function open() {
  const { data } = await client.query({ query: STORE_AND_MENU, fetchPolicy: "network-only" });
  store = data.me;
  $("store").textContent = store.name;
  $("login").hidden = true;
  $("terminal").hidden = false;
  showMenu();
  // The floor: kept current by tableChanged, whoever changed it.
  watchFloor(client).subscribe(({ data }) => {
    if (data?.openOrders) {
      floor = data.openOrders;
      showFloor();
    }
  });
  await refreshToday();
}

// --- the menu and the floor ------------------------------------------------------
function showMenu() {
  const items = store.categories.flatMap((category) => category.items);
  $("menu").replaceChildren(
    ...items.map((item) =>
      element(
        "li",
        { dataset: { item: item.name } },
        element("span", { textContent: item.name }),
        element("span", { className: "money", textContent: money(item.price) }),
        element("button", {
          type: "button",
          textContent: "Add",
          disabled: item.soldOut,
          onclick: () => attempt(() => addToTable(item.id)),
        }),
      ),
    ),
  );
}

async function addToTable(itemId) {
  const tableNo = Number($("table").value);
  const order = floor.find((o) => o.tableNo === tableNo);
  if (!order) {
    await client.mutate({ mutation: PLACE_ORDER, variables: { tableNo, lines: [{ itemId, quantity: 1 }] } });
    return;
  }
  const lines = order.lines.map((line) => ({ itemId: line.item.id, quantity: line.quantity }));
  const line = lines.find((l) => l.itemId === itemId);
  if (line) line.quantity += 1;
  else lines.push({ itemId, quantity: 1 });
  // Only if nobody changed the table since this terminal saw it.
  await client.mutate({
    mutation: SET_ORDER_LINES,
    variables: { tableNo, lines, expectedVersion: order.version },
  });
}

function showFloor() {
  $("floor").replaceChildren(
    ...floor.map((order) =>
      element(
        "li",
        { className: "table", dataset: { table: String(order.tableNo) } },
        element("strong", { textContent: `Table ${order.tableNo} ` }),
        element("span", { className: "money total", textContent: money(order.total) }),
        element("button", {
          type: "button",
          textContent: "Pay by card",
          onclick: () => attempt(() => pay(order)),
        }),
        element("div", {
          className: "lines",
          textContent: order.lines.map((l) => `${l.name} ×${l.quantity}`).join(", "),
        }),
      ),
    ),
  );
}

async function pay(order) {
  // One key per payment attempt: a retried request is the same sale.
  await client.mutate({
    mutation: CHECKOUT,
    variables: {
      input: {
        tableNo: order.tableNo,
        idempotencyKey: crypto.randomUUID(),
        payments: [{ method: "CARD", amount: order.total }],
      },
    },
  });
  await refreshToday();
}

// --- today and the consultant ------------------------------------------------------
async function refreshToday() {
  const day = today();
  const { data } = await client.query({
    query: DASHBOARD,
    variables: { from: day, to: day },
    fetchPolicy: "network-only",
  });
  $("today").textContent = money(data.salesSummary.salesVolume);
  $("sale-count").textContent = String(data.salesSummary.saleCount);
}

$("refresh").addEventListener("click", () => attempt(refreshToday));

$("consult").addEventListener("click", () =>
  attempt(async () => {
    const day = today();
    const { data } = await client.mutate({
      mutation: REQUEST_CONSULTING,
      variables: { from: day, to: day, language: "KO" },
    });
    $("advice-status").textContent = "Writing...";
    $("advice").textContent = "";
    client
      .subscribe({ query: CONSULTING_RESULT, variables: { requestId: data.requestConsulting.id } })
      .subscribe({
        next: ({ data: update, error }) => {
          if (error) return report(error);
          const result = update.consultingResult;
          $("advice").textContent = result.content ?? "";
          $("advice-status").textContent =
            result.status === "COMPLETED" ? "Done." : result.status === "FAILED" ? `Failed: ${result.error}` : "Writing...";
        },
        error: report,
      });
  }),
);

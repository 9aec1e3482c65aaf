// A restaurant's day through Apollo Client, against a running Salesync
// (router at SALESYNC_ROUTER_URL): sign up, build the menu, two terminals
// taking one table's order and hearing each other over `tableChanged`,
// payment (retried), a refund, the dashboard, and consulting advice arriving
// over its subscription. `cargo test -p salesync-tests --test web_client`
// starts the system and runs this file, once as is and once against a router
// that runs only the persisted documents (SALESYNC_PERSISTED_DOCUMENTS=1).

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import WebSocket from "ws";

import { createTerminal, errorCode, watchFloor } from "../src/client.js";
import {
  CHECKOUT,
  CONSULTING_RESULT,
  CREATE_CATEGORY,
  CREATE_ITEM,
  DASHBOARD,
  LOGIN,
  PLACE_ORDER,
  REFUND_SALE,
  REQUEST_CONSULTING,
  SET_ITEM_COSTS,
  SET_ORDER_LINES,
  SIGN_UP,
  STORE_AND_MENU,
  TABLE_CHANGED,
} from "../src/operations.js";

const url = process.env.SALESYNC_ROUTER_URL;
assert.ok(url, "SALESYNC_ROUTER_URL names the router's GraphQL endpoint");
const trusted = process.env.SALESYNC_PERSISTED_DOCUMENTS === "1";
const persistedDocuments = trusted
  ? JSON.parse(readFileSync(new URL("../persisted-documents.json", import.meta.url)))
  : undefined;

/** A terminal that logs in: its client, and the token it holds. */
function terminal() {
  const session = { token: null };
  const { client, close } = createTerminal({
    url,
    token: () => session.token,
    webSocketImpl: WebSocket,
    persistedDocuments,
  });
  return { session, client, close };
}

/** Subscribes and queues what arrives; `next()` waits for the next event. */
function listen(client, query, variables) {
  const events = [];
  const waiters = [];
  let failure = null;
  let done = false;
  const subscription = client.subscribe({ query, variables }).subscribe({
    next: (result) => {
      if (result.error) failure = result.error;
      else events.push(result.data);
      waiters.splice(0).forEach((wake) => wake());
    },
    error: (error) => {
      failure = error;
      waiters.splice(0).forEach((wake) => wake());
    },
    complete: () => {
      done = true;
      waiters.splice(0).forEach((wake) => wake());
    },
  });
  return {
    get done() {
      return done;
    },
    /** The next event that `matches`, within `ms`. */
    async next(matches = () => true, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (failure) throw failure;
        const index = events.findIndex(matches);
        if (index >= 0) return events.splice(index, 1)[0];
        if (done) throw new Error("the subscription completed first");
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching event within ${ms} ms`);
        await new Promise((wake) => {
          waiters.push(wake);
          setTimeout(wake, left);
        });
      }
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** Retries `read` until `ok` holds for what it returns, for up to `ms`. */
async function eventually(read, ok, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`not reached within ${ms} ms; last: ${JSON.stringify(last)}`);
}

const credentials = { username: `owner${randomUUID().slice(0, 8)}`, password: "correct horse 42" };
const counter = terminal();
const floor = terminal();
const stranger = terminal();
const menu = {};

before(async () => {
  const { data } = await counter.client.mutate({
    mutation: SIGN_UP,
    variables: {
      input: {
        ...credentials,
        ownerName: "김민지",
        phone: "010-1234-5678",
        name: "민지네 분식",
        address: "서울 마포구 월드컵로 1",
        storeType: "RESTAURANT",
        tableCount: 8,
        timezone: "Asia/Seoul",
        currency: "KRW",
      },
    },
  });
  counter.session.token = data.signUp.token;
  assert.equal(data.signUp.store.currency, "KRW");

  const login = await floor.client.mutate({ mutation: LOGIN, variables: credentials });
  floor.session.token = login.data.login.token;
  assert.equal(login.data.login.store.id, data.signUp.store.id, "both terminals are one store");

  const other = await stranger.client.mutate({
    mutation: SIGN_UP,
    variables: {
      input: {
        username: `other${randomUUID().slice(0, 8)}`,
        password: "another secret 42",
        ownerName: "박서준",
        phone: "010-9876-5432",
        name: "서준 카페",
        address: "부산 해운대구 1",
        storeType: "CAFE",
      },
    },
  });
  stranger.session.token = other.data.signUp.token;
});

after(async () => {
  await Promise.all([counter.close(), floor.close(), stranger.close()]);
});

test("the owner builds a menu, and the cache holds one Store and one Item across subgraphs", async () => {
  const { data: category } = await counter.client.mutate({
    mutation: CREATE_CATEGORY,
    variables: { name: "식사" },
  });
  for (const [name, price, cost] of [
    ["김치찌개", 9000, 3200],
    ["떡볶이", 6000, 1800],
    ["김밥", 4500, 1500],
  ]) {
    const { data } = await counter.client.mutate({
      mutation: CREATE_ITEM,
      variables: { input: { categoryId: category.createCategory.id, name, price } },
    });
    menu[name] = { id: data.createItem.id, price, cost };
  }
  await counter.client.mutate({
    mutation: SET_ITEM_COSTS,
    variables: { costs: Object.values(menu).map(({ id, cost }) => ({ itemId: id, cost })) },
  });

  const { data } = await counter.client.query({ query: STORE_AND_MENU, fetchPolicy: "network-only" });
  assert.equal(data.me.name, "민지네 분식");
  assert.deepEqual(
    data.me.categories[0].items.map((i) => [i.name, i.price, i.cost]).sort(),
    Object.entries(menu).map(([name, i]) => [name, i.price, i.cost]).sort(),
  );

  // Normalised: the store subgraph's fields and the item and order
  // subgraphs' fields of the same Store are one cache entry, and an Item
  // carries the item subgraph's price beside the dashboard's cost.
  const cache = counter.client.cache.extract();
  const store = cache[counter.client.cache.identify(data.me)];
  assert.ok(store, "Store is normalised by __typename and id");
  assert.equal(store.name, "민지네 분식");
  assert.ok("categories" in store && "openOrders" in store, "fields of three subgraphs on one entry");
  const kimchi = cache[`Item:${menu["김치찌개"].id}`];
  assert.equal(kimchi.price, 9000);
  assert.equal(kimchi.cost, 3200);
});

test("two terminals take one table's order and each hears the other's change", async () => {
  const counterHears = listen(counter.client, TABLE_CHANGED);
  const floorHears = listen(floor.client, TABLE_CHANGED);
  // The floor terminal's screen: the open orders, which the events keep current.
  const seen = [];
  const watching = watchFloor(floor.client).subscribe(
    ({ data }) => data?.openOrders && seen.push(data.openOrders),
  );
  // Let both sockets finish subscribing before the first change.
  await new Promise((r) => setTimeout(r, 500));

  const placed = await floor.client.mutate({
    mutation: PLACE_ORDER,
    variables: { tableNo: 3, lines: [{ itemId: menu["김치찌개"].id, quantity: 2 }] },
  });
  const order = placed.data.placeOrder;
  assert.equal(order.total, 18000, "the server computes the total");

  const heardAtCounter = await counterHears.next((e) => e.tableChanged.id === order.id);
  assert.equal(heardAtCounter.tableChanged.total, 18000);

  // The counter adds to the same table, guarding against a change it has not seen.
  const changed = await counter.client.mutate({
    mutation: SET_ORDER_LINES,
    variables: {
      tableNo: 3,
      expectedVersion: heardAtCounter.tableChanged.version,
      lines: [
        { itemId: menu["김치찌개"].id, quantity: 2 },
        { itemId: menu["김밥"].id, quantity: 1 },
      ],
    },
  });
  assert.equal(changed.data.setOrderLines.total, 22500);

  const heardOnFloor = await floorHears.next(
    (e) => e.tableChanged.id === order.id && e.tableChanged.version === changed.data.setOrderLines.version,
  );
  assert.equal(heardOnFloor.tableChanged.lines.length, 2);

  // The floor's screen shows the order the counter changed, without
  // asking again: the events updated its cache.
  await eventually(
    async () => seen.at(-1),
    (orders) => orders?.some((o) => o.id === order.id && o.total === 22500),
  );

  // A stale version is refused, not merged.
  await assert.rejects(
    floor.client.mutate({
      mutation: SET_ORDER_LINES,
      variables: { tableNo: 3, expectedVersion: order.version, lines: [] },
    }),
    (error) => errorCode(error) === "CONFLICT",
  );

  watching.unsubscribe();
  counterHears.stop();
  floorHears.stop();
});

let sale;

test("payment is taken once however often it is sent, and a refund is counted", async () => {
  const input = {
    tableNo: 3,
    idempotencyKey: randomUUID(),
    payments: [{ method: "CASH", amount: 22500, tendered: 30000 }],
  };
  const first = await counter.client.mutate({ mutation: CHECKOUT, variables: { input } });
  const again = await counter.client.mutate({ mutation: CHECKOUT, variables: { input } });
  sale = first.data.checkout;
  assert.equal(again.data.checkout.id, sale.id, "a retried checkout is the same sale");
  assert.equal(sale.amount, 22500);
  assert.equal(sale.payments[0].change, 7500);
  assert.equal(sale.order.status, "PAID");

  const refunded = await counter.client.mutate({
    mutation: REFUND_SALE,
    variables: {
      input: {
        saleId: sale.id,
        idempotencyKey: randomUUID(),
        lines: [{ itemId: menu["김밥"].id, quantity: 1 }],
        reason: "늦게 나옴",
      },
    },
  });
  assert.equal(refunded.data.refundSale.status, "PARTIALLY_REFUNDED");
  assert.equal(refunded.data.refundSale.refundedAmount, 4500);

  // Another store cannot see or touch it.
  await assert.rejects(
    stranger.client.mutate({
      mutation: REFUND_SALE,
      variables: { input: { saleId: sale.id, idempotencyKey: randomUUID() } },
    }),
    (error) => errorCode(error) === "NOT_FOUND",
  );
});

test("the dashboard shows the day, and consulting advice arrives over the subscription", async () => {
  const day = { from: sale.businessDate, to: sale.businessDate };
  const { salesSummary, salesReport, dailyVolumes } = await eventually(
    async () =>
      (await counter.client.query({ query: DASHBOARD, variables: day, fetchPolicy: "network-only" })).data,
    // The sale subgraph's summary counts the refund at once; the
    // dashboard's reports once its event arrives. They read one moment of
    // the dashboard's figures, so once one has it, all of them do.
    (d) => d.salesReport.salesVolume === 18000 && d.salesSummary.refundCount === 1,
  );
  assert.equal(salesSummary.grossSales, 22500);
  assert.equal(salesSummary.refunds, 4500);
  assert.equal(salesSummary.salesVolume, 18000);
  assert.equal(salesReport.cost, 2 * 3200, "two stews kept; the gimbap was refunded");
  assert.equal(salesReport.profit, 18000 - 6400);
  assert.deepEqual(dailyVolumes.map((d) => [d.date, d.salesVolume]), [[sale.businessDate, 18000]]);

  const { data } = await counter.client.mutate({
    mutation: REQUEST_CONSULTING,
    variables: { ...day, language: "KO" },
  });
  const advice = listen(counter.client, CONSULTING_RESULT, { requestId: data.requestConsulting.id });
  const end = await advice.next((e) => ["COMPLETED", "FAILED"].includes(e.consultingResult.status), 30_000);
  assert.equal(end.consultingResult.status, "COMPLETED", end.consultingResult.error ?? "");
  assert.ok(end.consultingResult.content.length > 0);
  await eventually(async () => advice.done, (done) => done, 5_000);
});

test("a router that runs only persisted documents refuses any other", { skip: !trusted }, async () => {
  const post = async (body) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${counter.session.token}` },
      body: JSON.stringify(body),
    });
    return (await response.json()).errors?.[0]?.extensions?.code;
  };
  // The text of a known operation without its id, an unknown id.
  assert.equal(await post({ query: "query { me { id username } }" }), "PERSISTED_DOCUMENT_ID_REQUIRED");
  assert.equal(await post({ documentId: "f".repeat(64) }), "PERSISTED_DOCUMENT_NOT_FOUND");
});

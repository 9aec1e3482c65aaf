// The Apollo Client set-up of a Salesync terminal: queries and mutations
// over HTTP, subscriptions over one graphql-ws WebSocket, the token on both.
// A browser front end and the Node scenario in test/ use this same module.

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { isSubscriptionOperation } from "@apollo/client/utilities";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { createClient } from "graphql-ws";

import { OPEN_ORDERS, TABLE_CHANGED } from "./operations.js";

/**
 * A terminal's client.
 *
 * @param {object} options
 * @param {string} options.url The router's GraphQL endpoint, e.g. http://localhost:4000/graphql.
 * @param {() => string | null} options.token The current token (after signUp or login), or null.
 * @param {typeof WebSocket} [options.webSocketImpl] Node's `ws` outside a browser.
 * @param {object} [options.persistedDocuments] The manifest of persisted-documents.json: send each
 *   operation's id instead of its text, for a router that runs only known documents.
 * @returns {{ client: ApolloClient, close: () => Promise<void> }}
 */
export function createTerminal({ url, token, webSocketImpl, persistedDocuments }) {
  const http = new HttpLink({ uri: url });
  const withToken = new SetContextLink((prevContext) => {
    const current = token();
    return current
      ? { headers: { ...prevContext.headers, authorization: `Bearer ${current}` } }
      : {};
  });

  // One WebSocket for every subscription of this terminal. The token goes
  // in connection_init (browsers cannot set headers on a WebSocket); it is
  // read at each (re)connect, so a terminal that logs in again reconnects
  // with the new one after `restart()`.
  const socket = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl,
    lazy: true,
    connectionParams: () => {
      const current = token();
      return current ? { Authorization: `Bearer ${current}` } : {};
    },
    // The router ends a subscription with an error when changes may have
    // been missed; retry the socket itself on network trouble.
    retryAttempts: 5,
  });

  const transport = ApolloLink.split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(socket),
    ApolloLink.from([withToken, http]),
  );

  // Trusted documents: HTTP requests carry only the manifest's id
  // (`extensions.persistedQuery.sha256Hash`); subscriptions carry it beside
  // the text, and a router that requires ids runs the id's document.
  const link = persistedDocuments
    ? ApolloLink.from([
        new PersistedQueryLink(
          generatePersistedQueryIdsFromManifest({ loadManifest: () => persistedDocuments }),
        ),
        transport,
      ])
    : transport;

  const client = new ApolloClient({
    link,
    // Every Salesync object with an id is an entity (`__typename` + `id`):
    // the Store from the store subgraph and its menu from the item subgraph
    // are one cache entry, and a `tableChanged` event updates the same
    // `Order` a query read.
    cache: new InMemoryCache({
      typePolicies: {
        Store: { fields: { openOrders: { merge: false } } },
        Query: { fields: { openOrders: { merge: false } } },
        Category: { fields: { items: { merge: false } } },
      },
    }),
  });

  return {
    client,
    close: async () => {
      client.stop();
      await socket.dispose();
    },
  };
}

/**
 * The floor plan: the open orders, kept current by `tableChanged`. An event
 * about a known order updates its cache entry by itself (same `Order:<id>`);
 * a new order is added to the list here, a paid or cancelled one removed.
 * If the subscription ends with `UNAVAILABLE` (changes may have been
 * missed), refetch and subscribe again.
 *
 * @param {ApolloClient} client
 * @returns the watched query; `subscribe` to it to render.
 */
export function watchFloor(client) {
  const floor = client.watchQuery({ query: OPEN_ORDERS });
  floor.subscribeToMore({
    document: TABLE_CHANGED,
    updateQuery: (previous, { subscriptionData }) => {
      const changed = subscriptionData.data?.tableChanged;
      if (!changed) return previous;
      const others = (previous?.openOrders ?? []).filter((order) => order.id !== changed.id);
      const open = changed.status === "OPEN" ? [...others, changed] : others;
      return { openOrders: open.sort((a, b) => a.tableNo - b.tableNo) };
    },
  });
  return floor;
}

/** The `extensions.code` of a Salesync error (GraphQL errors as Apollo Client 4 gives them). */
export function errorCode(error) {
  return error?.errors?.[0]?.extensions?.code ?? null;
}

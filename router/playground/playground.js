// The Salesync playground: GraphiQL served by the router itself, talking to
// this router only. Queries and mutations go over HTTP, subscriptions over
// graphql-transport-ws on the same endpoint; the token from the bar (filled
// in by SignUp or Login) goes with both: as the Authorization header, and in
// the WebSocket's connection_init, where the router reads it.
(() => {
  "use strict";

  const endpoint = location.origin + location.pathname;
  const socketUrl = endpoint.replace(/^http/, "ws");
  const TOKEN_KEY = "salesync:token";

  const EXAMPLES = `# Salesync playground: every request goes to this router and nowhere else.
#
# 1. Run SignUp (a new store) or Login (after \`scripts/demo\`: demo / salesync-demo).
#    The token it returns fills the bar above; every operation then runs as
#    that store. Paste another token there to act as another store.
# 2. Pick an operation with the run button: Menu, then PlaceOrder with an item
#    id from it, while TableChanged runs in a second tab.

mutation SignUp {
  signUp(input: {
    username: "owner1", password: "a long password 1"
    ownerName: "Kim Minji", phone: "010-1234-5678"
    name: "Minji's Kitchen", address: "12 Sejong-daero, Seoul", storeType: "RESTAURANT"
  }) { token store { id name currency } }
}

mutation Login {
  login(username: "demo", password: "salesync-demo") { token store { id name } }
}

query Menu {
  me { name currency categories { name items { id name price cost soldOut } } }
}

query Floor {
  openOrders { tableNo total version lines { name quantity amount } }
}

mutation PlaceOrder($itemId: ID! = "paste an item id") {
  placeOrder(tableNo: 1, lines: [{ itemId: $itemId, quantity: 1 }]) { tableNo total version }
}

subscription TableChanged {
  tableChanged { tableNo status total version }
}
`;

  // --- the token -----------------------------------------------------------
  const tokenInput = document.getElementById("salesync-token");
  const who = document.getElementById("salesync-who");

  function token() {
    return tokenInput.value.trim();
  }

  function showWho() {
    const claims = decodeClaims(token());
    who.textContent = claims
      ? `store ${claims.sub}${claims.exp ? `, until ${new Date(claims.exp * 1000).toLocaleString()}` : ""}`
      : token()
        ? "a token that is not a JWT"
        : "not logged in";
  }

  function decodeClaims(jwt) {
    try {
      const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload));
    } catch {
      return null;
    }
  }

  function setToken(value) {
    tokenInput.value = value;
    localStorage.setItem(TOKEN_KEY, value);
    showWho();
  }

  tokenInput.value = localStorage.getItem(TOKEN_KEY) ?? "";
  tokenInput.addEventListener("input", () => setToken(tokenInput.value));
  document.getElementById("salesync-clear").addEventListener("click", () => setToken(""));
  showWho();

  /** The editor's headers, plus the token unless they name their own. */
  function headersFor(editorHeaders) {
    const headers = { ...(editorHeaders ?? {}) };
    const named = Object.keys(headers).some((k) => k.toLowerCase() === "authorization");
    if (!named && token()) headers.Authorization = `Bearer ${token()}`;
    return headers;
  }

  /** A SignUp or Login answer's token fills the bar. */
  function keepToken(result) {
    const fresh = result?.data?.login?.token ?? result?.data?.signUp?.token;
    if (typeof fresh === "string") setToken(fresh);
  }

  // --- which kind of operation runs ----------------------------------------
  /** Whether the operation GraphiQL runs (named, or the only one) is a subscription. */
  function isSubscription(query, operationName) {
    // Comments and strings may hold any word: drop them first.
    const code = query
      .replace(/"""[\s\S]*?"""/g, '""')
      .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
      .replace(/#[^\n]*/g, "");
    const operations = [...code.matchAll(/(^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
    const chosen = operationName
      ? operations.find((m) => m[3] === operationName)
      : operations[0];
    return chosen?.[2] === "subscription";
  }

  // --- transports ------------------------------------------------------------
  async function overHttp(params, headers) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...headers,
      },
      body: JSON.stringify(params),
    });
    const result = await response.json();
    keepToken(result);
    return result;
  }

  /** One graphql-transport-ws connection per subscription, as an async iterator. */
  async function* overWebSocket(params, headers) {
    const socket = new WebSocket(socketUrl, "graphql-transport-ws");
    const queue = [];
    let wake = () => {};
    let finished = false;
    const push = (item) => {
      queue.push(item);
      wake();
    };
    const send = (message) => socket.send(JSON.stringify(message));

    socket.onopen = () => send({ type: "connection_init", payload: headers });
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      switch (message.type) {
        case "connection_ack":
          send({ id: "1", type: "subscribe", payload: params });
          break;
        case "ping":
          send({ type: "pong" });
          break;
        case "next":
          push({ value: message.payload });
          break;
        case "error":
          push({ value: { errors: message.payload } });
          push({ done: true });
          break;
        case "complete":
          push({ done: true });
          break;
      }
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) {
        push({ value: { errors: [{ message: `the connection closed: ${event.code} ${event.reason}` }] } });
      }
      push({ done: true });
    };

    try {
      while (!finished) {
        if (queue.length === 0) await new Promise((resolve) => (wake = resolve));
        const item = queue.shift();
        if (item.done) finished = true;
        else yield item.value;
      }
    } finally {
      if (socket.readyState === WebSocket.OPEN) {
        if (!finished) send({ id: "1", type: "complete" });
        socket.close(1000);
      }
    }
  }

  function fetcher(params, options) {
    const headers = headersFor(options?.headers);
    return isSubscription(params.query, params.operationName)
      ? overWebSocket(params, headers)
      : overHttp(params, headers);
  }

  // --- GraphiQL ----------------------------------------------------------------
  // Monaco's workers come from this router too.
  const workers = {
    json: "/playground/json.worker.js",
    graphql: "/playground/graphql.worker.js",
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: (_moduleId, label) => workers[label] ?? "/playground/editor.worker.js",
  };

  const root = document.getElementById("graphiql");
  root.textContent = "";
  YogaGraphiQL.renderYogaGraphiQL(root, {
    title: "Salesync",
    fetcher,
    // A link may carry an operation: /graphql?query=...
    query: new URLSearchParams(location.search).get("query") ?? EXAMPLES,
  });
})();

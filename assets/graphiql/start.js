// Starts GraphiQL against this gateway. An API key or a token may be handed
// over in the URL fragment (#apiKey=... or #token=...): browsers never send
// the fragment to a server, so it stays out of access logs; it is removed from the address bar
// at once and never stored: GraphiQL keeps the request headers of its tabs
// and of every query in its history, so the storage it is given drops them
// before anything reaches localStorage.
(function () {
  // Removes every "headers" entry from a JSON value, at any depth.
  function withoutHeaders(value) {
    if (Array.isArray(value)) {
      return value.map(withoutHeaders);
    }
    if (value && typeof value === "object") {
      var kept = {};
      Object.keys(value).forEach(function (name) {
        if (name !== "headers") {
          kept[name] = withoutHeaders(value[name]);
        }
      });
      return kept;
    }
    return value;
  }
  // localStorage, minus headers: history, tabs and favourites survive a
  // reload; the API key does not.
  var storage = {
    getItem: function (name) {
      return localStorage.getItem(name);
    },
    setItem: function (name, text) {
      var value;
      try {
        value = JSON.parse(text);
      } catch (notJson) {
        localStorage.setItem(name, text);
        return;
      }
      localStorage.setItem(name, JSON.stringify(withoutHeaders(value)));
    },
    removeItem: function (name) {
      localStorage.removeItem(name);
    },
    clear: function () {
      Object.keys(localStorage).forEach(function (name) {
        if (name.indexOf("graphiql:") === 0) {
          localStorage.removeItem(name);
        }
      });
    },
    get length() {
      return Object.keys(localStorage).filter(function (name) {
        return name.indexOf("graphiql:") === 0;
      }).length;
    },
  };
  var params = new URLSearchParams(window.location.hash.slice(1));
  var key = params.get("apiKey") || params.get("token");
  if (key) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  var headers = JSON.stringify(
    { Authorization: "Bearer " + (key || "PASTE-YOUR-API-KEY-OR-TOKEN-HERE") },
    null,
    2
  );
  var query = [
    "# Every field of a chat, newest chats first. Press the play button (Ctrl-Enter).",
    "# The Headers tab below holds your API key or token.",
    "query Inbox {",
    "  chats(page: 1, pageSize: 10) {",
    "    totalCount",
    "    pageInfo { page pageSize hasNextPage hasPreviousPage }",
    "    items {",
    "      id title createdAt isRemoved workspaceId",
    "      channel { id name type }",
    "      ownerSuperIdentityId",
    "      owner {",
    "        name superIdentityId",
    "        ... on User { email }",
    "        ... on ExternalUser { id externalId isBlocked }",
    "      }",
    "      responderSuperIdentityId",
    "      responder { id type name picture }",
    "      responderVersion { id number }",
    "      ticket { id status }",
    "      latestMessage { preview createdAt role }",
    "      previousMessage { preview createdAt role }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  // The fetcher carries the key too: the first schema introspection runs
  // before the header editor exists, and would otherwise go without it.
  var currentHeaders = key ? { Authorization: "Bearer " + key } : {};
  // Subscriptions go over graphql-transport-ws on the same path; the key
  // travels in connection_init, taken from the Headers tab when the socket
  // (re)connects.
  var wsUrl =
    (window.location.protocol === "https:" ? "wss://" : "ws://") +
    window.location.host +
    window.location.pathname;
  var wsClient = graphqlWs.createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: function () {
      return currentHeaders;
    },
    // A refused key (4403) is not retried: the same key would be refused
    // again, and the close's reason, shown in the result pane, says what to
    // fix (in the Headers tab).
    shouldRetry: function (closed) {
      return !(closed && closed.code === 4403);
    },
  });
  var http = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: currentHeaders,
  });
  // Whether `params` runs a subscription: the operation it names, or its
  // only one, begins with `subscription`. Decided here rather than by
  // GraphiQL, which can tell only once the schema has loaded (not with a
  // missing or wrong key, the very case whose refusal must show).
  function isSubscription(params) {
    var text = (params.query || "").replace(/#[^\n]*/g, "");
    var name = params.operationName;
    var named = name && new RegExp("\\b(query|mutation|subscription)\\s+" + name + "\\b").exec(text);
    if (named) {
      return named[1] === "subscription";
    }
    return /^\s*subscription\b/.test(text);
  }
  // A subscription's results from graphql-ws; a close (4403 for a refused
  // key) becomes an error whose message is the close's reason.
  function subscribe(params) {
    var results = wsClient.iterate({
      query: params.query,
      variables: params.variables,
      operationName: params.operationName || undefined,
    });
    var closed = function (error) {
      if (error && typeof error.code === "number" && "reason" in error) {
        throw new Error("The WebSocket was closed (" + error.code + "): " + error.reason);
      }
      throw error;
    };
    return {
      next: function () {
        return results.next().catch(closed);
      },
      return: function () {
        return results.return();
      },
      [Symbol.asyncIterator]: function () {
        return this;
      },
    };
  }
  var fetcher = function (params, options) {
    if (options && options.headers) {
      currentHeaders = options.headers;
    }
    // Until the schema has loaded, GraphiQL keeps the prepared query's
    // operation name for whatever is typed next, in any tab: a name the
    // document does not define is dropped, so the document runs as typed.
    var name = params && params.operationName;
    if (name && !new RegExp("\\b(query|mutation|subscription)\\s+" + name + "\\b").test(params.query)) {
      params = Object.assign({}, params, { operationName: undefined });
    }
    if (isSubscription(params)) {
      return subscribe(params);
    }
    return http(params, options);
  };
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: query,
      headers: headers,
      shouldPersistHeaders: false,
      storage: storage,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();

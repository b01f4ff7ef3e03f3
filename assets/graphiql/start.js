// Starts GraphiQL against this gateway. An API key may be handed over in the
// URL fragment (#apiKey=...): browsers never send the fragment to a server,
// so the key stays out of access logs; it is removed from the address bar
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
  var key = params.get("apiKey");
  if (key) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  var headers = JSON.stringify(
    { Authorization: "Bearer " + (key || "PASTE-YOUR-API-KEY-HERE") },
    null,
    2
  );
  var query = [
    "# Every field of a chat, newest chats first. Press the play button (Ctrl-Enter).",
    "# The Headers tab below holds your API key.",
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
  });
  var http = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: currentHeaders,
    wsClient: wsClient,
  });
  var fetcher = function (params, options) {
    if (options && options.headers) {
      currentHeaders = options.headers;
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

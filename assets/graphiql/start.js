// Starts GraphiQL against this gateway. An API key may be handed over in the
// URL fragment (#apiKey=...): browsers never send the fragment to a server,
// so the key stays out of access logs; it is removed from the address bar
// at once and never stored.
(function () {
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
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: key ? { Authorization: "Bearer " + key } : {},
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: query,
      headers: headers,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();

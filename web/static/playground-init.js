// GraphQL Playground from the vendored bundle, pointed at the service's /graphql; nothing external.
window.addEventListener("load", () => {
  const endpoint = new URL("/graphql", window.location.href).toString();
  GraphQLPlayground.init(document.getElementById("root"), {
    endpoint,
    canSaveConfig: false,
    settings: {
      "request.credentials": "same-origin",
      "schema.polling.enable": false,
      "tracing.hideTracingResponse": true,
      "editor.fontFamily": "'Source Code Pro', 'Consolas', 'Menlo', monospace",
    },
    tabs: [{ endpoint, query: window.GRASSROOTS_QUERY }],
  });
});

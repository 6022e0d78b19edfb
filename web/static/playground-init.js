// GraphQL Playground from the vendored bundle, pointed at the service's /graphql; nothing external. Signed in
// by the session cookie; its anti-forgery value (the readable grassroots_csrf cookie) is a header preset.
window.addEventListener("load", () => {
  const endpoint = new URL("/graphql", window.location.href).toString();
  const csrf = (document.cookie.match(/(?:^|;\s*)grassroots_csrf=([^;]*)/) || [])[1] || "";
  const headers = { "X-CSRF-Token": decodeURIComponent(csrf) };
  GraphQLPlayground.init(document.getElementById("root"), {
    endpoint,
    canSaveConfig: false,
    headers,
    settings: {
      "request.credentials": "same-origin",
      "schema.polling.enable": false,
      "tracing.hideTracingResponse": true,
      "editor.fontFamily": "'Source Code Pro', 'Consolas', 'Menlo', monospace",
    },
    tabs: [{ endpoint, query: window.GRASSROOTS_QUERY, headers }],
  });
});

// GraphiQL 3 from the vendored UMD bundle: no CDN, the service's own /graphql. Signed in by the session
// cookie; its anti-forgery value (the readable grassroots_csrf cookie) goes with every request.
const csrf = (document.cookie.match(/(?:^|;\s*)grassroots_csrf=([^;]*)/) || [])[1] || "";
const fetcher = GraphiQL.createFetcher({
  url: new URL("/graphql", window.location.href).toString(),
  headers: { "X-CSRF-Token": decodeURIComponent(csrf) },
});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: window.GRASSROOTS_EXAMPLE,
    query: window.GRASSROOTS_QUERY,
    defaultEditorToolsVisibility: false,
    shouldPersistHeaders: false,
  }),
);

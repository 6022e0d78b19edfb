// GraphiQL 3 from the vendored UMD bundle: no CDN, the service's own /graphql.
const fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", window.location.href).toString() });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: window.GRASSROOTS_EXAMPLE,
    query: window.GRASSROOTS_QUERY,
    defaultEditorToolsVisibility: false,
    shouldPersistHeaders: false,
  }),
);

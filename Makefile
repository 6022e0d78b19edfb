# 基层党建组织网络图谱服务 / Grassroots Graph — `make run` and `make test` do all set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NEO4J_JAR := neo4j-local/target/neo4j-local-0.1.0.jar
NEO4J_SRC := neo4j-local/pom.xml $(shell find neo4j-local/src -type f 2>/dev/null)

.PHONY: setup run test test-unit lint format neo4j neo4j-local bench clean tools vendor schema screenshot

WEB_STAMP := web/node_modules/.installed

## setup: tools, virtual environment, Python packages, the local Neo4j module, the web tools (npm)
setup: $(STAMP) $(NEO4J_JAR) $(WEB_STAMP)

tools:
	@PYTHON=$(PYTHON) scripts/check-tools.sh

$(STAMP): pyproject.toml
	@PYTHON=$(PYTHON) scripts/check-tools.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

neo4j-local: $(NEO4J_JAR)

# npm packages for the GraphQL-over-HTTP audits and for re-vendoring the IDEs (`make vendor`); the
# served assets themselves are committed in web/static/vendor.
$(WEB_STAMP): web/package.json web/package-lock.json
	@PYTHON=$(PYTHON) scripts/check-tools.sh
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

## vendor: copy GraphiQL, GraphQL Playground, React, Cytoscape.js and cytoscape-dagre from web/node_modules into web/static/vendor
vendor: $(WEB_STAMP)
	cd web && node vendor.mjs

## schema: export schema.graphql from the code (a test fails when it is stale)
schema: $(STAMP)
	$(BIN)/python -m schema.export

$(NEO4J_JAR): $(NEO4J_SRC)
	@PYTHON=$(PYTHON) scripts/check-tools.sh
	cd neo4j-local && mvn -B -q package dependency:copy-dependencies
	@touch $@

## run: the service on http://127.0.0.1:8000/graphql over the embedded local Neo4j (or NEO4J_URI)
run: setup
	$(BIN)/grassroots serve

## neo4j: only the local Neo4j, in the foreground
neo4j: setup
	$(BIN)/grassroots neo4j

## test: the whole suite against its own Neo4j (own port, own throw-away data directory)
test: setup lint
	$(BIN)/python -m pytest

## test-unit: the tests that need no Neo4j and no browser (not marked `integration`), in seconds
test-unit: setup
	$(BIN)/python -m pytest -m "not integration"

## screenshot: refresh the README's picture of the page (docs/screenshot-page.png) from the browser test
screenshot: setup
	$(BIN)/python -m pytest -q tests/test_page_lod.py -k "community_opens"
	cp test-artifacts/page-community.png docs/screenshot-page.png

## lint: ruff, and the layers (core ← graph ← loaders ← schema | reports; see pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: benchmarks, results written to docs/benchmarks.md
bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) neo4j-local/target web/node_modules .pytest_cache .ruff_cache

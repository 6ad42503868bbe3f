# Two commands: `make demo` (run the product with demo data) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Databases the suite runs on; `make test TEST_DB=sqlite` for a quick run.
TEST_DB ?= sqlite postgres

.PHONY: install demo test lock messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.txt
	test -x $(BIN)/pip || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements.txt -e '.[test]'
	touch $@

demo: install
	sh scripts/pdf-libraries.sh
	$(BIN)/aftersales demo --port $(PORT)

test: install
	TEST_DB="$(TEST_DB)" sh scripts/run-tests.sh

# Re-pin every package after changing pyproject.toml's dependencies.
lock: install
	(echo "# Every package pinned (pip constraints file: make installs with -c requirements.txt)."; \
	 echo "# Regenerate: make lock"; \
	 $(BIN)/python -m pip freeze --exclude-editable) > requirements.txt

# Refresh and compile the Chinese catalogue (needs gettext's msgfmt).
messages: install
	cd src/aftersales && ../../$(BIN)/aftersales makemessages -l zh_Hans --no-obsolete && ../../$(BIN)/aftersales compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var test-results

# Every target creates .venv on first use, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: verify test bench lab emulator install clean git-filter

verify: $(STAMP)  ## replay every notebook headless on the emulator and write a report
	$(BIN)/mfa-kit verify $(ARGS)

test: $(DEV)      ## run the test suite
	$(BIN)/python -m pytest $(ARGS)

bench: $(DEV)     ## emulator load and notebook replay timings, as ratios against a same-run baseline
	$(BIN)/python benchmarks/emulator_load.py
	$(BIN)/python benchmarks/replay.py
	$(BIN)/python benchmarks/diagnose_har.py

lab: $(STAMP) git-filter ## emulator in the background + JupyterLab at the first notebook
	$(BIN)/mfa-kit lab $(ARGS)

# The clean filter .gitattributes names for notebooks/*.ipynb: what JupyterLab saves (outputs,
# counts, widget state) never shows in `git status`. Skipped outside a git checkout.
git-filter: $(STAMP)
	-@git rev-parse --is-inside-work-tree >/dev/null 2>&1 && \
	  git config filter.mfa-kit-notebook.clean "$(CURDIR)/$(BIN)/python -m mfa_helpers.runner.strip"

emulator: $(STAMP) ## the emulator alone, in the foreground
	$(BIN)/mfa-kit emulator $(ARGS)

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(DEV): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache runs

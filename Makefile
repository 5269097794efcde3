# Every target creates .venv on first use, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: verify test bench lab emulator install bytecode clean

verify: bytecode  ## replay every notebook headless on the emulator and write a report
	$(BIN)/mfa-kit verify $(ARGS)

test: $(DEV)      ## run the test suite
	$(BIN)/python -m pytest $(ARGS)

bench: $(DEV) bytecode ## emulator load and notebook replay timings, as ratios against a same-run baseline
	$(BIN)/python benchmarks/emulator_load.py
	$(BIN)/python benchmarks/replay.py
	$(BIN)/python benchmarks/diagnose_har.py

lab: bytecode     ## emulator in the background + JupyterLab at the first notebook
	$(BIN)/mfa-kit lab $(ARGS)

emulator: $(STAMP) ## the emulator alone, in the foreground
	$(BIN)/mfa-kit emulator $(ARGS)

install: $(STAMP)

# The kit's own modules compiled once, for every kernel to load: an editable install leaves them to
# each import, and with PYTHONDONTWRITEBYTECODE set (as in many containers) every notebook kernel
# compiled them again (~0.1 s each). Only what changed since is compiled.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q mfa_helpers

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(DEV): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache runs

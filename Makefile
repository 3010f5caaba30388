# Everything a fresh Debian machine needs: `make test` runs every test, `make demo` the embedded demo.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The default environment runs the current ansible release, which needs Python 3.12 or later (README, "Tested with").
PYTHON ?= $(shell tests/tools/newest-python.sh)
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/observability/cloudwatch
PYTEST := $(BIN)/python -m pytest

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help test demo demo-clean docs env host sanity lint unit integration molecule clean bench

help:
	@echo "make test        install what the tests need, then run every test layer"
	@echo "make demo        run the embedded demo against a local AWS emulator"
	@echo "make demo-clean  remove what the demo left running"
	@echo "layers: make sanity | lint | docs | unit | integration | molecule"
	@echo "make docs        lint the documentation, then build the site into build/docsite/build/html"
	@echo "make bench       measure API economy and fleet speed; writes docs/performance.md (not part of test)"

# The tested matrix (noxfile.py): the oldest end, then every layer in the default environment.
test: env host
	$(BIN)/nox --no-color

# The virtual environment, rebuilt whenever a pinned requirement changes.
$(BIN)/.installed: requirements.txt test-requirements.txt
	@test -n "$(PYTHON)" || { echo "the default environment needs Python 3.13 or 3.12 (see README)" >&2; exit 1; }
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip==24.2
	$(BIN)/python -m pip install --disable-pip-version-check -q -r test-requirements.txt
	touch $@

# Ansible finds the collection under ansible_collections/observability/cloudwatch: link the checkout there.
env: $(BIN)/.installed
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

# What the container, browser and shell-script tests need on the machine (as root, no terminal): podman
# with runc, every cached systemd test image (Debian and the RPM-family stand-ins), Debian's chromium for the
# status report test, and shellcheck for ansible-test's shellcheck sanity test.
host:
	tests/tools/podman-setup.sh --all
	@if ! command -v chromium >/dev/null || ! command -v shellcheck >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q chromium chromium-driver shellcheck; \
	fi

lint: env
	$(BIN)/ruff check plugins tests
	$(BIN)/antsibull-changelog lint
	$(BIN)/ansible-lint

unit: env
	$(PYTEST) tests/unit

integration: env
	$(PYTEST) -n 2 --dist loadfile --durations=15 tests/integration

# The agent role's Molecule scenarios (podman containers, as root), one after the other; each prepares what it
# needs in its own create. SCENARIOS="onprem site" runs a subset.
molecule: env
	tests/tools/molecule.sh $(SCENARIOS)

# ansible-test wants a real tree under ansible_collections/, outside any git checkout: copy the
# checkout (tracked and new files)
# into a fresh temporary directory, so runs side by side do not disturb each other.
# Then the tests that read the code as Ansible loads it (validate-modules, import) run again on the
# collection as a user installs it: built from that copy and installed from the tarball alone.
# SANITY_ARGS="--test import" runs some tests only (the oldest end of noxfile.py does).
sanity: env
	tests/tools/ansible-test-pip-standin.sh
	mkdir -p $(BUILD)
	tmp="$$(mktemp -d "$${TMPDIR:-/tmp}/cloudwatch-sanity.XXXXXX")"; root="$$tmp/ansible_collections"; \
	trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$root/observability/cloudwatch" "$$root/amazon"; \
	git ls-files -co --exclude-standard | while read -r f; do if [ -e "$$f" ]; then echo "$$f"; fi; done \
		| tar -cf - -T - | tar -xf - -C "$$root/observability/cloudwatch"; \
	aws="$$($(BIN)/python -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')"; \
	ln -sfn "$$aws" "$$root/amazon/aws"; \
	$(BIN)/ansible-galaxy collection build "$$root/observability/cloudwatch" --output-path "$$tmp/dist" >/dev/null; \
	installed="$$tmp/installed/ansible_collections"; \
	env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH="$$tmp/installed" $(BIN)/ansible-galaxy collection install --offline --no-deps \
		-p "$$tmp/installed" "$$tmp"/dist/*.tar.gz >/dev/null; \
	mkdir -p "$$installed/amazon" && ln -sfn "$$aws" "$$installed/amazon/aws"; \
	python="$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; \
	(cd "$$root/observability/cloudwatch" && $(BIN)/ansible-test sanity --venv --python "$$python" --color no $(SANITY_ARGS)); \
	echo "ansible-test sanity on the installed tarball"; \
	cd "$$installed/observability/cloudwatch" && env -u PYTHONPATH -u ANSIBLE_COLLECTIONS_PATH \
		$(BIN)/ansible-test sanity --test validate-modules --test import --venv --python "$$python" --color no

# The embedded demo (tests/tools/demo.sh): a local AWS, two containers, site, then the status report.
# Everything stays up for a second run; demo-clean removes it.
demo: env
	tests/tools/demo.sh

demo-clean: env
	tests/tools/demo.sh clean

# The documentation: antsibull-docs lints every module, plugin and role and the pages of docs/docsite,
# then builds the collection's site into build/docsite/build/html, offline (no intersphinx) and with
# warnings as errors. Without intersphinx, references to Ansible's own pages and to other collections
# cannot resolve and stay plain text; a broken reference into this collection still fails the build.
# antsibull-docs copies the collection's dependencies only from outside a Git work tree, so Git must not
# look above the virtual environment (which sits in the checkout).
DOCSITE := $(BUILD)/docsite
docs: env
	GIT_CEILING_DIRECTORIES=$(VENV) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .
	rm -rf $(DOCSITE) && mkdir -p $(DOCSITE) && chmod 700 $(DOCSITE)
	$(BIN)/antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $(DOCSITE) \
		--project observability.cloudwatch --title 'observability.cloudwatch' observability.cloudwatch >/dev/null
	printf '%s\n' "extensions = [e for e in extensions if e != 'sphinx.ext.intersphinx']" \
		'intersphinx_mapping = {}' \
		"nitpick_ignore_regex = [('std:ref', r'(?!ansible_collections\\.observability\\.cloudwatch\\.).*')]" \
		>> $(DOCSITE)/conf.py
	$(DOCSITE)/build.sh

# The benchmarks (benchmarks/run.py): API economy and fleet speed, written to docs/performance.md with its plot.
# Not part of `make test`; run it on a quiet machine. Podman containers as in `make molecule` (as root).
# BENCH_ARGS="--fleet 3" or "--only iam ssm" for a shorter run.
bench: env
	$(BIN)/python -m pip install --disable-pip-version-check -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) tests/output

# Everything builds .venv from uv.lock; uv itself is installed from PyPI where it is missing,
# so a fresh machine needs only python3 and make.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: venv test lint demo bench clean windows-agent

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

venv: $(STAMP)

# The suite waits on subprocesses, sockets and databases far more than it computes, so four
# pytest-xdist workers finish it several times sooner even on two cores; PYTEST_WORKERS=0 runs
# it in one process.
PYTEST_WORKERS ?= 4

test: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

demo: $(STAMP)
	$(VENV)/bin/ml-connector demo

# On Windows only: dist/ml-connector-agent/, the agent and its service host (docs/agent/install-windows.md).
windows-agent:
	powershell -NoProfile -ExecutionPolicy Bypass -File packaging/windows/build.ps1

bench: $(STAMP)
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) .tools

# The course's two commands:  `make course` (build everything, real profile)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# offline copies of the image data beside the checkout (as in CI), if there are any; see README, "Data"
ifneq ($(wildcard ../shared/data),)
export COURSE_DATA ?= $(abspath ../shared/data)
endif
# notebooks run with their own folder as working directory: pass the data root on as an absolute path
ifneq ($(COURSE_DATA),)
export COURSE_DATA := $(abspath $(COURSE_DATA))
endif

.PHONY: course test unit notebooks env lab sync benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

env: $(STAMP)

## Build the course: execute every notebook in the real profile, render HTML with an index page.
course: $(STAMP)
	COURSE_PROFILE=real $(PY) -m course_lib.build --out build/html $(NOTEBOOKS)

## Run every test: unit tests of course_lib, notebook hygiene, and every notebook under nbval (test profile).
# (tests train into a fresh, temporary run store: every run is trained, none is served from an earlier one)
test: $(STAMP)
	store=$$(mktemp -d) && trap 'rm -rf "$$store"' EXIT && \
	COURSE_STORE=$$store COURSE_PROFILE=test MPLBACKEND=Agg $(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax \
		--nbval-current-env --nbval-cell-timeout=300 --durations=15 -q

unit: $(STAMP)
	COURSE_STORE=off COURSE_PROFILE=test $(PY) -m pytest tests -q

notebooks: $(STAMP)
	COURSE_STORE=off COURSE_PROFILE=test MPLBACKEND=Agg $(PY) -m pytest $(NOTEBOOKS) --nbval-lax --nbval-current-env -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

## Rebuild each .ipynb from its jupytext .py twin (edit the .py, then run this).
sync: $(STAMP)
	$(VENV)/bin/jupytext --to ipynb --update-metadata '{"jupytext":{"formats":"ipynb,py:percent"}}' notebooks/[0-9][0-9]_*.py

benchmark: $(STAMP)
	$(PY) scripts/benchmark.py

clean:
	rm -rf build

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

.PHONY: course store course-from-store slides slides-tag site-check test unit notebooks env lab student sync refs benchmark clean

# --no-compile: bytecode is written only for the modules the course imports, when it first imports them
# (measured: the install 79 -> 46 s, the first imports 8 s more)
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -c constraints.txt -e '.[dev]'
	touch $(STAMP)

env: $(STAMP)

PROFILE ?= real
JOBS    ?= 0# notebooks executed side by side (0: one per CPU core)

## Build the course: execute every notebook in the real profile (PROFILE=full for the papers' budgets), render HTML with an index page.
course: $(STAMP)
	COURSE_PROFILE=$(PROFILE) $(PY) -m course_lib.build --out build/html --jobs $(JOBS) $(NOTEBOOKS)

## Train every run of a profile into the run store ($COURSE_STORE, else runs/) and pack it as runs-$(PROFILE).tar.gz, to hand to students.
store: $(STAMP)
	COURSE_PROFILE=$(PROFILE) $(PY) -m course_lib.build --out build/store-$(PROFILE)/html --jobs $(JOBS) $(NOTEBOOKS)
	$(PY) -m course_lib.store prune
	$(PY) -m course_lib.store pack --out runs-$(PROFILE).tar.gz
	@echo "store packed: runs-$(PROFILE).tar.gz (build a course from it: make course-from-store STORE=runs-$(PROFILE).tar.gz PROFILE=$(PROFILE))"

## Build the course from a packed store: make course-from-store STORE=runs-full.tar.gz PROFILE=full
# (unpack takes only run store entries, checked against their checksums, into the store: never runs or writes anything else)
course-from-store: $(STAMP)
	@test -f "$(STORE)" || { echo "give the packed store: make course-from-store STORE=runs-<profile>.tar.gz PROFILE=<profile>"; exit 2; }
	$(PY) -m course_lib.store unpack "$(STORE)"
	$(MAKE) course PROFILE=$(PROFILE)

## Static reveal.js decks of the executed notebooks (after `make course`), offline: build/slides/*.slides.html
slides: $(STAMP)
	@ls build/executed/*.ipynb >/dev/null 2>&1 || { echo "no executed notebooks in build/executed: run make course first"; exit 2; }
	$(PY) -m course_lib.slides --out build/slides build/executed/*.ipynb

## Give every cell its slide type (in the .py twins; then make sync)
slides-tag: $(STAMP)
	$(PY) -m course_lib.slides --tag notebooks/[0-9][0-9]_*.py

TEST_WORKERS ?= auto# pytest-xdist workers (auto: one per CPU core); each test file, and each notebook, stays on one worker

## Run every test: unit tests of course_lib, notebook hygiene, and every notebook under nbval (test profile).
# (tests train into a fresh, temporary run store: every run is trained, none is served from an earlier one)
# The notebooks run as students get them (the student edition: every exercise undone, each check must say
# "not done yet"); every solution of the instructor edition is checked by tests/test_exercises.py, and the
# instructor edition runs in the real profile in `make course`, where a solution that fails its check fails the build.
test: $(STAMP) student
	store=$$(mktemp -d) && trap 'rm -rf "$$store"' EXIT && \
	COURSE_STORE=$$store COURSE_PROFILE=test MPLBACKEND=Agg $(PY) -m pytest tests $(STUDENT_NOTEBOOKS) --nbval-lax \
		--nbval-current-env --nbval-cell-timeout=300 -n $(TEST_WORKERS) --dist loadfile --durations=15 -q

STUDENT := build/student
STUDENT_NOTEBOOKS = $(patsubst notebooks/%,$(STUDENT)/%,$(NOTEBOOKS))
## The student edition: the notebooks with every exercise's solution replaced by a stub, in build/student.
student: $(STAMP)
	$(PY) -m course_lib.exercises student --out $(STUDENT) $(NOTEBOOKS)

## Browser tests against the built site (after make course): index, links, math, figures, navigation
site-check: $(STAMP)
	COURSE_SITE=build/html $(PY) -m pytest tests/test_browser.py -k "not jupyterlab" -q

unit: $(STAMP)
	COURSE_STORE=off COURSE_PROFILE=test $(PY) -m pytest tests -q

notebooks: $(STAMP)
	COURSE_STORE=off COURSE_PROFILE=test MPLBACKEND=Agg $(PY) -m pytest $(NOTEBOOKS) --nbval-lax --nbval-current-env -q

EDITION ?= instructor# `make lab EDITION=student` opens the student edition (exercises to do)
lab: $(STAMP) $(if $(filter student,$(EDITION)),student)
	$(VENV)/bin/jupyter lab $(if $(filter student,$(EDITION)),$(STUDENT),notebooks)/

## Rebuild each .ipynb from its jupytext .py twin (edit the .py, then run this).
sync: $(STAMP)
	$(VENV)/bin/jupytext --to ipynb --update --update-metadata '{"jupytext":{"formats":"ipynb,py:percent"}}' notebooks/[0-9][0-9]_*.py

## Each chapter's closing reference list rewritten from the keys it cites (references.bib), then the notebooks synced
refs: $(STAMP)
	$(PY) -m course_lib.bibliography --sync notebooks/[0-9][0-9]_*.py
	$(MAKE) sync

benchmark: $(STAMP)
	$(PY) scripts/benchmark.py

clean:
	rm -rf build

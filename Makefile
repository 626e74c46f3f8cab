# MallBots in C -- top-level Makefile. `make` alone lists the targets.
#
# Build outputs go to build/ (never committed):
#   build/core, build/san/core     the core library (shared/), normal and sanitizer builds
#   build/chNN/src                 chapter NN's complete resolved source (make tree CH=NN)
#   build/chNN, build/san/chNN     chapter NN's programs and tests, normal and sanitizer builds
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# CH=NN (or CH=N, CH=chNN) picks a chapter; CH_ARG, EX_ARG and DB_ARG are set only when given on
# the command line (the commands that delete or move something take no default).
nn = $(if $(filter 0 1 2 3 4 5 6 7 8 9,$(1)),0$(1),$(1))
CH_ARG := $(if $(filter command line,$(origin CH)),$(call nn,$(patsubst ch%,%,$(CH))))
EX_ARG := $(if $(filter command line,$(origin EX)),$(EX))
DB_ARG := $(if $(filter command line,$(origin DB)),$(DB))
CH ?= $(shell scripts/chapter.sh newest 2>/dev/null)
override CH := $(call nn,$(patsubst ch%,%,$(CH)))
EX ?= 1

.DEFAULT_GOAL := help
CHAPTERS := $(shell scripts/chapter.sh list)
.PHONY: help deps deps-browser browser-npm lab-up lab-down lab-status lab-reset-db lab-reset-stream psql core core-san tree diff run test \
        exercises exercise exercise-reset clean check-deps fuzz bench chaos carry check-chapters lesson \
        format format-check events $(addprefix ch,$(CHAPTERS))

help:
	@echo "MallBots in C -- targets:"
	@echo "  make run [CH=NN]        start the lab, build chapter NN (default: newest) and run it"
	@echo "  make test [CH=NN]       build with sanitizers and run all tests (or one chapter's)"
	@echo "  make chNN               build chapter NN into build/chNN/ (e.g. make ch03)"
	@echo "  make tree CH=NN         write chapter NN's complete source to build/chNN/src/"
	@echo "  make diff CH=NN         show what chapter NN changes, as a unified diff"
	@echo "  make lesson CH=NN       chapter NN's source change in the order of its README's tour, tests left out"
	@echo "  make carry              after changing a chapter: bring later chapters' patches up to date"
	@echo "  make format | format-check   lay out every C file as .clang-format says (patched files too)"
	@echo "  make check-chapters     check that every chapter's patches apply (run by make test)"
	@echo "  make exercises          list the guided exercises"
	@echo "  make exercise CH=NN EX=N        work on an exercise (starter copied to exercises-work/)"
	@echo "  make exercise-reset CH=NN EX=N  start an exercise over (your files are kept aside)"
	@echo "  make lab-up | lab-down | lab-status        the local lab (PostgreSQL + NATS)"
	@echo "  make psql [CH=NN]       SQL prompt on chapter NN's database (mallbots_chNN)"
	@echo "  make events [CH=NN] [ARGS=\"tail|list|info|dead ...\"]  watch the NATS stream, decoded (ch06 on; docs/events.md)"
	@echo "  make lab-reset-db CH=NN (or DB=name)      empty chapter NN's database (its data is lost)"
	@echo "  make lab-reset-stream   empty the lab's NATS stream and consumer groups (every chapter's)"
	@echo "  make docker-up [CH=NN] | docker-status | docker-logs | docker-down | docker-wipe   the lab in containers"
	@echo "  make test-docker [CH=NN]   build the images, walk an order and run the e2e tests in containers (minutes)"
	@echo "  make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS=...]  fuzz the core's parsers (libFuzzer; not in make test)"
	@echo "  make bench [CH=NN] [BENCH_ORDERS=1000] [BENCH_CLIENTS=8] [BENCH_ARGS=--json]  load-test a chapter"
	@echo "                          (ch08 on: each order followed to approved; docs/bench.md)"
	@echo "  make chaos [CH=09] [CHAOS_ARGS=\"--orders 2000 --nats-kills 3 ...\"]  orders while nats-server,"
	@echo "                          PostgreSQL and the program crash; checks nothing lost or doubled"
	@echo "  make deps               install the Debian packages the workspace needs"
	@echo "  make deps-browser       also Chromium, Node.js, npm and playwright-core (the browser tests)"
	@echo "  make clean              remove build/ (stops the lab first)"
	@echo "Chapters: $(CHAPTERS) (newest runnable: $(CH)); CH=3 means CH=03"

deps:
	@scripts/deps.sh

# The browser tests' extras: Chromium, Node.js and npm (Debian packages), then playwright-core at
# the version tests/browser/package-lock.json pins. make test runs the browser tests once these
# are there, and counts them as skipped before.
deps-browser:
	@scripts/deps.sh --browser
	@$(MAKE) browser-npm
# npm ci installs exactly the lock file's versions; again only when the lock file changed.
browser-npm: tests/browser/node_modules/.package-lock.json
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	@echo "npm ci (tests/browser: playwright-core, no browser download)"
	@cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@

check-deps:
	@scripts/deps.sh --check > /dev/null 2>&1 || scripts/deps.sh

lab-up: check-deps
	@scripts/lab.sh up
lab-down:
	@scripts/lab.sh down
lab-status:
	@scripts/lab.sh status
psql:
	@scripts/run-chapter.sh check $(CH)
	@scripts/lab.sh psql $(CH)
lab-reset-stream:
	@scripts/lab.sh reset-stream
lab-reset-db:
	@test -n "$(DB_ARG)$(CH_ARG)" || { echo "usage: make lab-reset-db CH=NN (chapter NN's database) or DB=name"; exit 2; }
	@scripts/lab.sh reset-db $(if $(DB_ARG),$(DB_ARG),$(CH_ARG))

core: check-deps
	@$(MAKE) -j$(JOBS) -f mk/core.mk OUT=build/core all
core-san: check-deps
	@$(MAKE) -j$(JOBS) -f mk/core.mk OUT=build/san/core SAN=1 all tests

# make chNN: resolve the chapter's tree, then build it against the core library.
define chapter_rule
ch$(1): core
	@scripts/chapter.sh sync $(1) build/ch$(1)/src
	@$$(MAKE) -j$$(JOBS) -f mk/chapter.mk SRC=build/ch$(1)/src OUT=build/ch$(1) CORE=build/core all
endef
$(foreach n,$(CHAPTERS),$(eval $(call chapter_rule,$(n))))
# make ch3 = make ch03
$(foreach n,$(filter 0%,$(CHAPTERS)),$(eval ch$(n:0%=%): ch$(n)))

tree:
	@test -n "$(CH)" || { echo "usage: make tree CH=NN"; exit 2; }
	@scripts/chapter.sh sync $(CH) build/ch$(CH)/src
	@echo "chapter $(CH): complete source in build/ch$(CH)/src/ ($$(find build/ch$(CH)/src -type f | wc -l) files)"

diff:
	@test -n "$(CH)" || { echo "usage: make diff CH=NN"; exit 2; }
	@scripts/chapter.sh diff $(CH)

lesson:
	@test -n "$(CH)" || { echo "usage: make lesson CH=NN"; exit 2; }
	@scripts/chapter.sh lesson $(CH)

# A chapter stores its changes to earlier chapters' files as patches (docs/architecture.md, section 2).
carry:
	@scripts/chapter.sh carry
check-chapters:
	@scripts/chapter.sh check
format:
	@scripts/format.sh fix
format-check:
	@scripts/format.sh check

run: check-deps
	@scripts/run-chapter.sh $(CH)

# The stream tool of chapter CH (from 06 on) on the lab's nats-server (docs/events.md).
events: check-deps
	@scripts/events.sh $(CH) $(ARGS)

test: check-deps
	@scripts/test.sh $(CH_ARG)

# Coverage-guided fuzzing of the core's input parsers (tests/fuzz/README.md): clang + libFuzzer,
# builds into build/fuzz/, runs each harness FUZZ_SECONDS (default 60). Not part of `make test`.
fuzz: check-deps
	@$(MAKE) -f tests/fuzz/fuzz.mk run

# Load test of chapter CH on a scratch database (scripts/bench.sh, docs/bench.md). Not a test.
BENCH_ORDERS ?= 1000
BENCH_CLIENTS ?= 8
# The builds print on stderr, so that stdout is only the report (BENCH_ARGS=--json).
bench: check-deps
	@$(MAKE) ch$(CH) >&2
	@$(MAKE) -f mk/bench.mk OUT=build/bench CORE=build/core >&2
	@scripts/bench.sh $(CH) --orders $(BENCH_ORDERS) --clients $(BENCH_CLIENTS) $(BENCH_ARGS)

# Crash safety, shown (scripts/chaos.sh, docs/bench.md "Chaos"): orders through chapter CH's
# program (09 unless CH is given) while it kill -9s nats-server and the program and restarts
# PostgreSQL, then checks that nothing was lost or duplicated. Not a test (make test runs a small one).
chaos: check-deps
	@$(MAKE) ch$(if $(CH_ARG),$(CH_ARG),09) >&2
	@$(MAKE) -f mk/bench.mk OUT=build/bench CORE=build/core >&2
	@scripts/chaos.sh $(if $(CH_ARG),$(CH_ARG),09) $(CHAOS_ARGS)

# The docker lab (docker/README.md): scripts/docker-lab.sh; ports etc. from MB_* variables.
DOCKER_TARGETS := docker-base docker-build docker-up docker-down docker-logs docker-status docker-wipe docker-clean
.PHONY: $(DOCKER_TARGETS) test-docker
$(DOCKER_TARGETS): docker-%:
	@CH=$(CH) scripts/docker-lab.sh $*
test-docker: check-deps
	@CH=$(CH) scripts/docker-lab.sh test

exercises:
	@scripts/exercise.sh list
exercise: check-deps
	@scripts/exercise.sh run $(CH) $(EX)
exercise-reset:
	@test -n "$(CH_ARG)" -a -n "$(EX_ARG)" || { echo "usage: make exercise-reset CH=NN EX=N (make exercises lists them)"; exit 2; }
	@scripts/exercise.sh reset $(CH_ARG) $(EX_ARG)

clean:
	@scripts/lab.sh down > /dev/null 2>&1 || true
	@scripts/docker-lab.sh down > /dev/null 2>&1 || true
	rm -rf build

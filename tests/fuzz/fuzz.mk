# tests/fuzz/fuzz.mk -- coverage-guided fuzzing of the core's input parsers with libFuzzer.
# Called by the top-level Makefile (`make fuzz`), not part of `make test`. See tests/fuzz/README.md.
#
#   make -f tests/fuzz/fuzz.mk [FUZZ_SECONDS=60] [FUZZ_TARGETS="pbjson web"] [FUZZ_JOBS=1] build|run
#
# The core library is built with clang, ASan + UBSan and libFuzzer's coverage instrumentation into
# build/fuzz/core (mk/core.mk with CC=clang SAN=1); each tests/fuzz/fuzz_<name>.c becomes
# build/fuzz/fuzz_<name>. `run` runs each for FUZZ_SECONDS on the corpus build/fuzz/corpus/<name>
# (kept between runs, seeded from tests/fuzz/seeds/<name>), with tests/fuzz/<name>.dict when there
# is one; crash, leak and timeout inputs land in build/fuzz/artifacts/<name>/.
SAN := 1
CC := clang
include mk/flags.mk

FUZZ_OUT := build/fuzz
FUZZ_CORE := $(FUZZ_OUT)/core
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
# FUZZ_JOBS > 1 runs libFuzzer's fork mode (-jobs would write fuzz-N.log files into the current
# directory)
FUZZ_PAR := $(if $(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS) -ignore_crashes=0)
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_TESTGEN := $(FUZZ_CORE)/obj/testgen/pbjson_test.pb-c.o
FUZZ_INC := -Ishared -I$(FUZZ_CORE)/gen -I$(FUZZ_CORE)/testgen

.PHONY: build run core toolchain coverage
build: $(FUZZ_BINS)

# clang with the libFuzzer runtime (Debian 12: clang, libclang-rt-14-dev)
toolchain:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	    clang -x c -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null || \
	    { echo "make fuzz needs clang with libFuzzer: apt-get install -y clang libclang-rt-14-dev"; exit 2; }

# The library and the generated test messages, through the core's own makefile.
core: toolchain
	$(Q)$(MAKE) --no-print-directory -f mk/core.mk OUT=$(FUZZ_CORE) CC=clang SAN=1 EXTRA_CFLAGS=-fsanitize=fuzzer-no-link \
	    all $(FUZZ_TESTGEN)

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h core
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS_ALL)) -fsanitize=fuzzer $(FUZZ_INC) $< $(FUZZ_TESTGEN) \
	    $(FUZZ_CORE)/libmallcore.a $(LDLIBS_ALL) -o $@

# A crash, leak (LeakSanitizer), UBSan report, timeout or broken property stops that harness with
# the input saved under build/fuzz/artifacts/<name>/ (the whole output is in
# build/fuzz/logs/<name>.log); the other harnesses still run, and `run` fails at the end.
run: build
	@failed=; mkdir -p $(FUZZ_OUT)/logs; for t in $(FUZZ_TARGETS); do \
	    corpus=$(FUZZ_OUT)/corpus/$$t; art=$(FUZZ_OUT)/artifacts/$$t/; log=$(FUZZ_OUT)/logs/$$t.log; \
	    mkdir -p $$corpus $$art; \
	    seeds=; [ -d tests/fuzz/seeds/$$t ] && seeds=tests/fuzz/seeds/$$t; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s, corpus $$corpus"; \
	    rc=0; UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_PAR) \
	        -timeout=10 -rss_limit_mb=4096 -max_len=16384 -print_final_stats=1 \
	        -artifact_prefix=$$art $$dict $$corpus $$seeds > $$log 2>&1 || rc=$$?; \
	    grep -aE '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|SUMMARY|fuzz_[a-z]+: check failed|Test unit written|ERROR: libFuzzer|ParseDictionaryFile)' $$log || true; \
	    if [ $$rc -ne 0 ]; then echo "fuzz_$$t: FAILED (exit $$rc), see $$log"; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed"; exit 1; fi; echo "fuzz: no findings"

# Line/branch coverage of the parsers reached by the corpus (and seeds): every harness rebuilt with
# clang's source-based coverage, each corpus replayed once (-runs=0), one llvm-cov report.
FUZZ_COV := $(FUZZ_OUT)/cov
FUZZ_COV_FLAGS := -fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_FILES := shared/pbjson.c shared/httpc.c shared/web.c shared/cfg.c shared/pb.c
coverage: toolchain
	$(Q)$(MAKE) --no-print-directory -f mk/core.mk OUT=$(FUZZ_COV)/core CC=clang SAN=1 \
	    EXTRA_CFLAGS="$(FUZZ_COV_FLAGS)" all $(FUZZ_COV)/core/obj/testgen/pbjson_test.pb-c.o
	@set -e; rm -f $(FUZZ_COV)/*.profraw; objs=; for t in $(FUZZ_TARGETS); do \
	    echo "  COV     fuzz_$$t"; \
	    $(CC) $(filter-out -MMD -MP,$(CFLAGS_ALL)) $(FUZZ_COV_FLAGS) -fsanitize=fuzzer \
	        -Ishared -I$(FUZZ_COV)/core/gen -I$(FUZZ_COV)/core/testgen tests/fuzz/fuzz_$$t.c \
	        $(FUZZ_COV)/core/obj/testgen/pbjson_test.pb-c.o $(FUZZ_COV)/core/libmallcore.a $(LDLIBS_ALL) \
	        -o $(FUZZ_COV)/fuzz_$$t; \
	    mkdir -p $(FUZZ_OUT)/corpus/$$t; seeds=; [ -d tests/fuzz/seeds/$$t ] && seeds=tests/fuzz/seeds/$$t; \
	    LLVM_PROFILE_FILE=$(FUZZ_COV)/$$t.profraw $(FUZZ_COV)/fuzz_$$t -runs=0 $(FUZZ_OUT)/corpus/$$t $$seeds \
	        > $(FUZZ_COV)/$$t.log 2>&1; \
	    objs="$$objs -object $(FUZZ_COV)/fuzz_$$t"; \
	done; \
	llvm-profdata merge -sparse $(FUZZ_COV)/*.profraw -o $(FUZZ_COV)/all.profdata; \
	llvm-cov report -instr-profile=$(FUZZ_COV)/all.profdata $${objs# -object} $(FUZZ_COV_FILES); \
	echo "per-line detail: llvm-cov show -instr-profile=$(FUZZ_COV)/all.profdata$$objs shared/pbjson.c"

# mk/bench.mk -- builds the load generator (tests/bench/*.c) against the core library.
# Called by the top-level Makefile (`make bench`) and by tests/scripts/test_bench.sh:
#   make -f mk/bench.mk OUT=build/bench CORE=build/core [SAN=1]
include mk/flags.mk

OUT ?= build/bench
CORE ?= build/core
SRCS := $(wildcard tests/bench/*.c)
OBJS := $(SRCS:tests/bench/%.c=$(OUT)/obj/%.o)
INC := -Ishared -I$(CORE)/gen -Itests/bench

all: $(OUT)/bench

$(OUT)/bench: $(OBJS) $(CORE)/libmallcore.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(OBJS) $(CORE)/libmallcore.a $(LDLIBS_ALL)

$(OUT)/obj/%.o: tests/bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC) -c $< -o $@

.PHONY: all
-include $(wildcard $(OUT)/obj/*.d)

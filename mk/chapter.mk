# mk/chapter.mk -- builds one chapter from its resolved source tree.
# Called by the top-level Makefile after scripts/chapter.sh has written the tree:
#   make -f mk/chapter.mk SRC=build/ch03/src OUT=build/ch03 CORE=build/core [SAN=1] [CHAPTER=03]
# CHAPTER (the chapter's number, recorded with its migrations) defaults to the NN of .../chNN/src.
# The tree's layout (see docs/architecture.md):
#   proto/<module>/*.proto  -> protoc-c -> $(OUT)/gen          (compiled into the chapter library)
#   migrations/NNN_*.sql, migrations/seed.sql -> $(OUT)/gen/migrations.c (embedded in the binary)
#   the generated headers   -> $(OUT)/gen/proto_index.c: every message descriptor, for tests
#   **/*.c outside cmd/, tests/, exercises/  -> $(OUT)/libchapter.a
#   cmd/<name>/*.c          -> $(OUT)/<name>                   (the programs: mallbots, ...)
#   tests/unit/test_*.c     -> $(OUT)/tests/unit/test_*         (no servers needed)
#   tests/e2e/test_*.c      -> $(OUT)/tests/e2e/test_*          (need the lab)
#   tests/exercise/test_*.c -> $(OUT)/tests/exercise/test_*     (only in exercise builds, see
#                                                              scripts/exercise.sh)
include mk/flags.mk

SRC ?= build/ch03/src
OUT ?= build/ch03
CORE ?= build/core
CHAPTER ?= $(patsubst ch%,%,$(notdir $(patsubst %/src,%,$(SRC:%/=%))))

PROTOS := $(shell cd $(SRC) && find proto -name '*.proto' 2>/dev/null | sort)
GEN_C := $(PROTOS:proto/%.proto=$(OUT)/gen/%.pb-c.c)
GEN_H := $(GEN_C:.c=.h)
MIGRATIONS := $(sort $(wildcard $(SRC)/migrations/*.sql))
MIG_C := $(if $(MIGRATIONS),$(OUT)/gen/migrations.c)
LIB_SRCS := $(shell cd $(SRC) && find . -name '*.c' -not -path './cmd/*' -not -path './tests/*' \
              -not -path './exercises/*' | sed 's|^\./||' | sort)
CMDS := $(notdir $(wildcard $(SRC)/cmd/*))
UNIT_SRCS := $(patsubst $(SRC)/%,%,$(wildcard $(SRC)/tests/unit/test_*.c))
E2E_SRCS := $(patsubst $(SRC)/%,%,$(wildcard $(SRC)/tests/e2e/test_*.c))
EXERCISE_SRCS := $(patsubst $(SRC)/%,%,$(wildcard $(SRC)/tests/exercise/test_*.c))
SUPPORT_SRCS := $(patsubst $(SRC)/%,%,$(wildcard $(SRC)/tests/support/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(OUT)/obj/%.o) $(GEN_C:$(OUT)/gen/%.c=$(OUT)/obj/gen/%.o) \
            $(if $(MIG_C),$(OUT)/obj/gen/migrations.o) $(if $(GEN_C),$(OUT)/obj/gen/proto_index.o)
# test support: the chapter's own tests/support/*.c plus the core's (tests/support/, e.g. e2e.h)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(OUT)/obj/%.o) $(wildcard $(CORE)/obj/tests/support/*.o)
INC := -I$(SRC) -I$(OUT)/gen -Ishared -I$(CORE)/gen -Itests/support -I$(SRC)/tests/support
CORE_LIB := $(CORE)/libmallcore.a

# (the empty recipes: no "Nothing to be done" when all is up to date)
all: $(addprefix $(OUT)/,$(CMDS))
	@:
tests: $(UNIT_SRCS:%.c=$(OUT)/%) $(E2E_SRCS:%.c=$(OUT)/%)
	@:
exercise-tests: $(EXERCISE_SRCS:%.c=$(OUT)/%)
	@:

$(OUT)/libchapter.a: $(LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(OUT)/gen/%.pb-c.c $(OUT)/gen/%.pb-c.h: $(SRC)/proto/%.proto
	@mkdir -p $(OUT)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c -I$(SRC)/proto -I/usr/include --c_out=$(OUT)/gen $<

$(OUT)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(OUT)/gen
	@echo "  EMBED   $(SRC)/migrations"
	$(Q)scripts/embed-sql.sh --chapter '$(CHAPTER)' $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# every message descriptor of the chapter's protos, for tests (see scripts/proto-index.sh)
$(OUT)/gen/proto_index.c: $(GEN_H) scripts/proto-index.sh
	$(Q)scripts/proto-index.sh $(GEN_H) > $@.tmp && mv $@.tmp $@

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GEN_CFLAGS) $(INC) -c $< -o $@

$(OUT)/obj/%.o: $(SRC)/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC) -c $< -o $@

define cmd_rule
$(OUT)/$(1): $(patsubst %.c,$(OUT)/obj/%.o,$(patsubst $(SRC)/%,%,$(wildcard $(SRC)/cmd/$(1)/*.c))) $(OUT)/libchapter.a $(CORE_LIB)
	@echo "  LINK    $$@"
	$$(Q)$$(CC) $$(LDFLAGS_ALL) -o $$@ $$(filter %.o,$$^) $(OUT)/libchapter.a $(CORE_LIB) $$(LDLIBS_ALL)
endef
$(foreach c,$(CMDS),$(eval $(call cmd_rule,$(c))))

$(OUT)/tests/%: $(OUT)/obj/tests/%.o $(SUPPORT_OBJS) $(OUT)/libchapter.a $(CORE_LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(SUPPORT_OBJS) $(OUT)/libchapter.a $(CORE_LIB) $(CMOCKA_LIBS) $(LDLIBS_ALL)

.PHONY: all tests exercise-tests
.SECONDARY:
-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

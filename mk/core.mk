# mk/core.mk -- builds the core library (shared/) into $(OUT)/libmallcore.a.
# Called by the top-level Makefile: make -f mk/core.mk OUT=build/core [SAN=1]
include mk/flags.mk

OUT ?= build/core
WKT_PROTOS := google/protobuf/timestamp.proto google/protobuf/struct.proto
CORE_PROTOS := $(patsubst proto/%,%,$(wildcard proto/*/*.proto))

PB_GEN_C := $(WKT_PROTOS:%.proto=$(OUT)/gen/%.pb-c.c) $(CORE_PROTOS:%.proto=$(OUT)/gen/%.pb-c.c)
GEN_H := $(PB_GEN_C:.c=.h)
# The lab console's page (shared/console.h), embedded in the library as C strings.
CONSOLE_FILES := shared/console/index.html shared/console/console.js shared/console/console.css
CONSOLE_C := $(OUT)/gen/console_assets.c
GEN_C := $(PB_GEN_C) $(CONSOLE_C)
SRCS := $(wildcard shared/*.c)
OBJS := $(SRCS:%.c=$(OUT)/obj/%.o) $(GEN_C:$(OUT)/gen/%.c=$(OUT)/obj/gen/%.o)
INC := -Ishared -I$(OUT)/gen

all: $(OUT)/libmallcore.a
	@: # (an empty recipe: no "Nothing to be done" when it is up to date)

$(OUT)/libmallcore.a: $(OBJS)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(OUT)/gen/google/protobuf/%.pb-c.c $(OUT)/gen/google/protobuf/%.pb-c.h: /usr/include/google/protobuf/%.proto
	@mkdir -p $(OUT)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c -I/usr/include --c_out=$(OUT)/gen $<

$(OUT)/gen/%.pb-c.c $(OUT)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(OUT)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c -Iproto -I/usr/include --c_out=$(OUT)/gen $<

$(CONSOLE_C): $(CONSOLE_FILES) scripts/embed-files.sh
	@mkdir -p $(dir $@)
	@echo "  EMBED   $@"
	$(Q)scripts/embed-files.sh console_index_html shared/console/index.html console_js \
	    shared/console/console.js console_css shared/console/console.css > $@.tmp && mv $@.tmp $@

$(OUT)/obj/shared/%.o: shared/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC) -c $< -o $@

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GEN_CFLAGS) $(INC) -c $< -o $@

# ---- core unit and integration tests (tests/shared/test_*.c, tests/shared/it_*.c) ----
TEST_SRCS := $(wildcard tests/shared/test_*.c tests/shared/it_*.c)
# Test support: tests/support/*.c is linked into every core test AND every chapter test
# (mk/chapter.mk links $(CORE)/obj/tests/support/*.o), so it must not need the core's test protos.
# Support that does need them (e.g. tests/shared/es_thing.c, which uses es_test.proto's
# descriptors) lives in tests/shared/ under a name not starting with test_ or it_: it is built to
# $(OUT)/obj/tests/shared/ and linked into the core tests only, with the testgen objects.
TEST_SUPPORT := $(wildcard tests/support/*.c) \
                $(filter-out $(TEST_SRCS),$(wildcard tests/shared/*.c))
TEST_PROTOS := $(patsubst tests/shared/%,%,$(wildcard tests/shared/*.proto))
TEST_GEN_C := $(TEST_PROTOS:%.proto=$(OUT)/testgen/%.pb-c.c)
TEST_BINS := $(TEST_SRCS:%.c=$(OUT)/%)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT:%.c=$(OUT)/obj/%.o) $(TEST_GEN_C:$(OUT)/testgen/%.c=$(OUT)/obj/testgen/%.o)
TEST_INC := $(INC) -Itests/support -I$(OUT)/testgen

# The lab console's browser tests are run by this program (tests/browser/console_host.c), which
# starts a chapter's program with the e2e support; scripts/test.sh runs it when Chromium is there.
BROWSER_HOST := $(OUT)/tests/browser/console_host

tests: $(TEST_BINS) $(BROWSER_HOST)
	@:

$(OUT)/testgen/%.pb-c.c $(OUT)/testgen/%.pb-c.h: tests/shared/%.proto
	@mkdir -p $(OUT)/testgen
	@echo "  PROTOC  $<"
	$(Q)protoc-c -Itests/shared -I/usr/include --c_out=$(OUT)/testgen $<

$(OUT)/obj/testgen/%.o: $(OUT)/testgen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GEN_CFLAGS) $(TEST_INC) -c $< -o $@

$(OUT)/obj/tests/%.o: tests/%.c | $(GEN_H) $(TEST_GEN_C:.c=.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_INC) -c $< -o $@

$(OUT)/tests/%: $(OUT)/obj/tests/%.o $(TEST_SUPPORT_OBJS) $(OUT)/libmallcore.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT_OBJS) $(OUT)/libmallcore.a $(CMOCKA_LIBS) $(LDLIBS_ALL)

.PHONY: all tests
.SECONDARY:
-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

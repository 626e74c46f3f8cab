# mk/flags.mk -- compiler and linker flags shared by the core and chapter builds.
# SAN=1 selects the sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer) used by tests.
# TSAN=1 selects ThreadSanitizer instead (SAN=1 wins if both are given), for the multi-threaded
# tests: make -f mk/core.mk OUT=build/tsan/core TSAN=1 all tests; then run e.g.
# build/tsan/core/tests/shared/test_web (a report prints "WARNING: ThreadSanitizer").
CC ?= cc
# V=1 shows the full commands
Q := $(if $(filter 1,$(V)),,@)
PKGS := libprotobuf-c libpq jansson uuid libnats
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -MMD -MP $(shell pkg-config --cflags $(PKGS))
ifeq ($(SAN),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(TSAN),1)
# at -O1 without ASan, GCC's format-truncation check sees widths that cannot occur (pbjson.c's
# RFC 3339 formatting of a range-checked year): a warning there, not an error
OPT := -O1 -fsanitize=thread -fno-omit-frame-pointer -Wno-error=format-truncation
else
OPT := -O2
endif
CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS_ALL := $(OPT) -Wl,--as-needed
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS)) -lcivetweb -lpthread -lm
# Generated protobuf-c code: the same flags minus the ones protoc-c's output does not meet.
GEN_CFLAGS := $(filter-out -Wmissing-prototypes -Wshadow,$(CFLAGS_ALL)) -Wno-unused-parameter
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

# Build, run and test the platform. `make help` lists the targets.
#
# Two build flavours share the sources:
#   build/release  -O2, what `make up` runs
#   build/test     -O1 with AddressSanitizer + UndefinedBehaviorSanitizer, what `make test` runs
SHELL := /bin/bash
.DEFAULT_GOAL := all

SERVICES := gateway auth users catalog cart orders payments notifications realtime
FLAVOUR  ?= release
B        := build/$(FLAVOUR)

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS := -D_GNU_SOURCE -Icore/include $(shell pkg-config --cflags jansson libpq hiredis librabbitmq libsodium libjwt libcurl libulfius 2>/dev/null)
ifeq ($(FLAVOUR),test)
CFLAGS   := -std=c17 $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS  := -fsanitize=address,undefined
else
CFLAGS   := -std=c17 $(WARN) -O2 -g
LDFLAGS  :=
endif

CORE_LIBS := $(shell pkg-config --libs libulfius jansson libpq hiredis librabbitmq libsodium libjwt libcurl 2>/dev/null) -lmicrohttpd -lpthread -lm
# Debian's libh2o-evloop.pc omits this define; without it h2o.h assumes libuv.
H2O_CFLAGS := -DH2O_USE_LIBUV=0
H2O_LIBS   := $(shell pkg-config --libs libh2o-evloop 2>/dev/null) -lssl -lcrypto -lz
LWS_LIBS   := $(shell pkg-config --libs libwebsockets 2>/dev/null)
# libvips (catalog: product image variants).
VIPS_CFLAGS := $(shell pkg-config --cflags vips 2>/dev/null)
VIPS_LIBS   := $(shell pkg-config --libs vips 2>/dev/null)

CORE_SRC := $(wildcard core/src/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o)
CORE_LIB := $(B)/libcore.a

BINS := $(SERVICES:%=$(B)/bin/%)

# `make V=1` shows full command lines.
Q := $(if $(V),,@)
# Keep objects of unit tests (make treats them as intermediates otherwise).
.SECONDARY:

.PHONY: all build test unit up down deps status seed format format-check help clean
all build: $(BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(CPPFLAGS) $(if $(findstring services/gateway,$<),$(H2O_CFLAGS)) $(if $(findstring services/catalog,$<),$(VIPS_CFLAGS)) $(CFLAGS) -MMD -MP -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Each service links its own objects, the core library, and the libraries of
# its server framework (Ulfius by default; h2o for the gateway; lws for realtime)
# and of its own needs (libvips for the catalog).
define service_rule
$(1)_OBJ := $$(patsubst %.c,$(B)/obj/%.o,$$(wildcard services/$(1)/*.c))
$(B)/bin/$(1): $$($(1)_OBJ) $(CORE_LIB)
	@mkdir -p $$(dir $$@)
	@$(if $(Q),echo "  LD    $$@")
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$($(1)_OBJ) $(CORE_LIB) $(if $(filter gateway,$(1)),$(H2O_LIBS)) $(if $(filter realtime,$(1)),$(LWS_LIBS)) $(if $(filter catalog,$(1)),$(VIPS_LIBS)) $(CORE_LIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(s))))

# Unit tests (cmocka): tests/unit/test_<name>.c, each linked against the core.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(CORE_LIB) $(CORE_LIBS) -lcmocka

unit-bins: $(UNIT_BIN)
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

deps: ## install what is missing (apt-get, npm)
	scripts/deps.sh

up: ## install, build, start infrastructure and every service, print the URLs
	scripts/deps.sh
	$(MAKE) --no-print-directory FLAVOUR=release all
	scripts/platform.sh up

down: ## stop everything `make up` started
	scripts/platform.sh down

status:
	scripts/platform.sh status

test: ## the whole suite: unit (ASan+UBSan), API tests on real servers
	scripts/deps.sh
	$(MAKE) --no-print-directory FLAVOUR=test all unit-bins
	scripts/run-tests.sh

# SEED_ENV: the platform to seed (default var/dev/platform.env, what `make up`
# writes); SEED_ARGS: e.g. --products=500 --images=none.
seed: ## load the demo catalog (categories, 3000 products, images) into the running platform
	node scripts/seed-catalog.mjs $(SEED_ENV) $(SEED_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

-include $(shell find build -name '*.d' 2>/dev/null)

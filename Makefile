# pam_nsbox — build, test, install.
PREFIX     ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec/nsbox
HELPER_PATH ?= $(LIBEXECDIR)/nsbox-helper
# A sanitizer build lives beside the plain one, so neither reuses the
# other's objects.
ifeq ($(SANITIZE),1)
B := build/sanitize
else
B := build
endif

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-missing-field-initializers \
           -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC -fvisibility=hidden \
           -Ilib -DNSBOX_HELPER_PATH='"$(HELPER_PATH)"'
LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed

# SANITIZE=1: the helper, the CLI, the test tools and the unit tests get
# AddressSanitizer and UndefinedBehaviorSanitizer.  The PAM module cannot
# carry ASan: its runtime would have to be preloaded into sshd, su, login
# and everything they start.  It gets UBSan in trap mode (no runtime); its
# code is the same lib/ code the ASan unit tests, fuzzers and the
# ASan-built libpam loop exercise, and valgrind runs on it too.
MOD_CFLAGS := $(CFLAGS)
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
             -U_FORTIFY_SOURCE -DNSBOX_SANITIZE=1
MOD_CFLAGS += -fsanitize=undefined -fsanitize-undefined-trap-on-error -U_FORTIFY_SOURCE
CFLAGS  += $(SAN_FLAGS)
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC    := $(wildcard lib/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
HELPER_SRC := $(wildcard helper/*.c)
HELPER_OBJ := $(HELPER_SRC:%.c=$(B)/%.o)
CLI_SRC    := $(wildcard cli/*.c)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)
HDRS       := $(wildcard lib/*.h helper/*.h cli/*.h)

all: $(B)/pam_nsbox.so $(B)/nsbox-helper $(B)/nsbox-init $(B)/nsbox

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The module's own objects (see MOD_CFLAGS).
$(B)/mod/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -c -o $@ $<

$(B)/libnsbox.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

MOD_OBJ := $(B)/mod/pam_nsbox/pam_nsbox.o $(LIB_SRC:%.c=$(B)/mod/%.o)

$(B)/pam_nsbox.so: $(MOD_OBJ) pam_nsbox/pam_nsbox.map
	$(CC) -shared $(filter-out -fsanitize=address%,$(LDFLAGS)) $(if $(SAN_FLAGS),-fsanitize=undefined) \
	    -Wl,--version-script=pam_nsbox/pam_nsbox.map -o $@ $(MOD_OBJ) -lpam -liniparser -lmnl -lcap

$(B)/nsbox-helper: $(HELPER_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(HELPER_OBJ) $(B)/libnsbox.a -lmnl -lcap -lnftables

# The box's PID 1 lives as long as the box: a small program of its own,
# libcap linked in statically so that an idle box maps little.
$(B)/nsbox-init: $(B)/helper/init/nsbox-init.o $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $< $(B)/libnsbox.a -lmnl -Wl,-Bstatic -lcap -Wl,-Bdynamic

$(B)/nsbox: $(CLI_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(CLI_OBJ) $(B)/libnsbox.a -liniparser -lmnl -lcap

# ---- tests --------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOLS    := $(B)/tests/logsink $(B)/tests/pamthreads $(B)/tests/pamloop

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libnsbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libnsbox.a $(LDFLAGS) -lcmocka -liniparser -lmnl -lcap

$(B)/tests/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lpam -lpthread

check: all $(UNIT_BIN) $(TOOLS)
	NSBOX_BUILD=$(B) NSBOX_SANITIZE=$(SANITIZE) tests/run

# A real ssh login into a box, in a throwaway test world (as root).
demo: all $(TOOLS)
	NSBOX_BUILD=$(B) tests/world bash tests/lib/demo.sh

# ---- fuzzing (clang's libFuzzer) --------------------------------------------
# make fuzz FUZZ_SECONDS=N runs every target for N seconds from a copy of its
# committed seed corpus; a crash fails the run and leaves the input in
# build/fuzz/.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FZ           := build/fuzz
FUZZ_TARGETS := policy expand proto
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -DNSBOX_HELPER_PATH='"/nonexistent"'

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(FZ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) -liniparser -lmnl -lcap

$(FZ)/gen_seeds: tests/fuzz/gen_seeds.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(FZ)
	$(CC) -std=gnu11 -D_GNU_SOURCE -Ilib -o $@ $< $(LIB_SRC) -liniparser -lmnl -lcap

fuzz: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf $(FZ)/corpus-$$t; mkdir -p $(FZ)/corpus-$$t; \
		cp tests/fuzz/corpus/$$t/* $(FZ)/corpus-$$t/; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		if ! (cd $(FZ) && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
			corpus-$$t > fuzz-$$t.log 2>&1); then \
			tail -n 40 $(FZ)/fuzz-$$t.log; echo "fuzz $$t: crashed (input saved in $(FZ))"; exit 1; \
		fi; \
		grep -E 'stat::number_of_executed_units' $(FZ)/fuzz-$$t.log; \
	done

# Refresh the protocol seeds from the encoder (commit the result).
fuzz-seeds: $(FZ)/gen_seeds
	$(FZ)/gen_seeds tests/fuzz/corpus/proto

# Login latency against pam_namespace, unshare(1) and bubblewrap; scale,
# footprint, teardown (as root; about 5 minutes).
bench: all $(TOOLS)
	NSBOX_BUILD=$(B) tests/world bash tests/bench/bench.sh

.PHONY: all check demo clean fuzz fuzz-seeds bench
clean:
	rm -rf $(B)

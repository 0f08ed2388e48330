# pam_nsbox — build, test, install.
#
#   make install [DESTDIR=...] [PREFIX=/usr]    make uninstall (the same arguments)
PREFIX      ?= /usr
# nsbox is on every user's PATH: users run `nsbox root`.
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec/nsbox
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
PAMCONFDIR  ?= $(PREFIX)/share/pam-configs
# Where libpam looks for modules: beside libpam itself (pkg-config knows).
PAMDIR      ?= $(shell pkg-config --variable=libdir pam 2>/dev/null)/security
# Where systemd looks for units, for the helper's socket activation, the
# boxes' slice and the user manager's drop-in: pkg-config's systemd for
# PREFIX=/usr, PREFIX/lib/systemd/system (which systemd reads too) for
# another prefix.
SYSTEMDUNITDIR ?= $(or $(if $(filter /usr,$(PREFIX)),$(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)),$(PREFIX)/lib/systemd/system)
HELPER_PATH ?= $(LIBEXECDIR)/nsbox-helper
# The release, from the top of debian/changelog: the helper logs it as it
# starts, and `nsbox version` says it.
VERSION     ?= $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
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
           -Ilib -Ihelper -DNSBOX_HELPER_PATH='"$(HELPER_PATH)"' -DNSBOX_VERSION='"$(VERSION)"'
LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed

# SANITIZE=1: the helper, the CLI, the test tools and the unit tests get
# AddressSanitizer and UndefinedBehaviorSanitizer.  The PAM module cannot
# carry ASan: its runtime would have to be preloaded into sshd, su, login
# and everything they start.  It gets UBSan in trap mode (no runtime); its
# code is the same lib/ code the ASan unit tests, fuzzers and the
# ASan-built libpam loop exercise, and valgrind runs on it too.
MOD_CFLAGS := $(CFLAGS)
# The module carries only what it calls: each function and datum in a
# section of its own, and the linker drops those nothing reaches (the
# helper's address pools, the CLI's policy warnings and show replies).
MOD_CFLAGS += -ffunction-sections -fdata-sections
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
HDRS       := $(wildcard lib/*.h helper/*.h helper/init/*.h cli/*.h pam_nsbox/*.h)
MOD_SRC    := $(wildcard pam_nsbox/*.c)
MGR_SRC    := $(wildcard helper/manager/*.c)

all: $(B)/pam_nsbox.so $(B)/nsbox-helper $(B)/nsbox-init $(B)/nsbox-user-manager $(B)/nsbox

# The helper's path is compiled into the module: a different PREFIX or
# HELPER_PATH rebuilds what uses it.
$(B)/config.stamp: FORCE
	@mkdir -p $(B)
	@echo '$(HELPER_PATH) $(VERSION)' | cmp -s - $@ || echo '$(HELPER_PATH) $(VERSION)' > $@

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The module's own objects (see MOD_CFLAGS).
$(B)/mod/pam_nsbox/pam_nsbox.o: $(B)/config.stamp
$(B)/helper/main.o $(B)/cli/nsbox.o: $(B)/config.stamp
$(B)/mod/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -c -o $@ $<

$(B)/libnsbox.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

MOD_OBJ := $(MOD_SRC:%.c=$(B)/mod/%.o) $(LIB_SRC:%.c=$(B)/mod/%.o)

$(B)/pam_nsbox.so: $(MOD_OBJ) pam_nsbox/pam_nsbox.map
	$(CC) -shared $(filter-out -fsanitize=address%,$(LDFLAGS)) $(if $(SAN_FLAGS),-fsanitize=undefined) \
	    -Wl,--gc-sections -Wl,--version-script=pam_nsbox/pam_nsbox.map -o $@ $(MOD_OBJ) -lpam -liniparser -lmnl \
	    -Wl,-Bstatic -lcap -Wl,-Bdynamic

$(B)/nsbox-helper: $(HELPER_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(HELPER_OBJ) $(B)/libnsbox.a -lmnl -lcap -lnftables -lnftnl -lsystemd

# The box's PID 1 lives as long as the box: a small program of its own,
# libcap linked in statically so that an idle box maps little.
INIT_SRC := $(wildcard helper/init/*.c)
INIT_OBJ := $(INIT_SRC:%.c=$(B)/%.o)
$(B)/nsbox-init: $(INIT_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(INIT_OBJ) $(B)/libnsbox.a -lmnl -Wl,-Bstatic -lcap -Wl,-Bdynamic

# systemd --user's way into its box (user@.service runs it; see
# conf/systemd/user@.service.d/nsbox.conf).
$(B)/nsbox-user-manager: $(MGR_SRC:%.c=$(B)/%.o) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(MGR_SRC:%.c=$(B)/%.o) $(B)/libnsbox.a -lmnl -lcap

$(B)/nsbox: $(CLI_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(CLI_OBJ) $(B)/libnsbox.a -liniparser -lmnl -lcap -ljson-c

# ---- tests --------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOLS    := $(B)/tests/logsink $(B)/tests/pamthreads $(B)/tests/pamloop $(B)/tests/usermgr

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libnsbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libnsbox.a $(LDFLAGS) -lcmocka -liniparser -lmnl -lcap

# The helper's code that unit tests reach directly.
$(B)/tests/test_cpus: tests/unit/test_cpus.c helper/cpus.c $(B)/libnsbox.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< helper/cpus.c $(B)/libnsbox.a $(LDFLAGS) -lcmocka

$(B)/tests/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lpam -lpthread -lcap

# make check and make demo first install the Debian packages they need
# when some are missing (tests/deps.sh), then build.
check:
	@tests/deps.sh check vm
	@$(MAKE) --no-print-directory all test-programs
	NSBOX_BUILD=$(B) NSBOX_SANITIZE=$(SANITIZE) tests/run

test-programs: $(UNIT_BIN) $(TOOLS)

# make lint: the same build with clang (-Werror as with gcc) in build/clang,
# and cppcheck over every source, with the suppressions and their reasons
# in tests/cppcheck.supp.
lint:
	@tests/deps.sh lint
	$(MAKE) --no-print-directory CC=clang B=build/clang all test-programs
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability --std=c11 \
	    -D_GNU_SOURCE -Ilib -Ihelper -Ipam_nsbox --inline-suppr --suppressions-list=tests/cppcheck.supp \
	    pam_nsbox helper lib cli

# The VM tier alone: booted Debian 12 and 13 with systemd, the .deb
# installed as the README says (tests/vm/; as root, about 7 minutes a
# release when its image has to be built, 5 when it is cached in build/vm).
# make check runs it too, at its end.  VM_RELEASES=bookworm picks one.
check-vm:
	@tests/deps.sh vm
	tests/vm/run $(VM_RELEASES)

# A boxed login of a throwaway user, in a test world (as root): a shell in
# the box with a terminal, a short tour without one.
demo:
	@tests/deps.sh demo
	@$(MAKE) --no-print-directory all test-programs
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
# footprint, teardown (as root; about 5 minutes).  Then the limits, on a
# booted Debian machine of the VM tier (about 8 minutes more; SKIP without
# qemu; BENCH_VM=no leaves them out).
bench: all $(TOOLS)
	NSBOX_BUILD=$(B) tests/world bash tests/bench/bench.sh
	@[ "$(BENCH_VM)" = no ] || tests/bench/limits-vm.sh

# ---- install ----------------------------------------------------------------
MAN8 := man/pam_nsbox.8 man/nsbox.8
MAN5 := man/nsbox.conf.5

UNITS := nsbox-helper.socket nsbox-user.socket nsbox.slice

$(B)/units/%: conf/systemd/%.in $(B)/config.stamp
	@mkdir -p $(dir $@)
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' $< > $@

GENERATED_UNITS := $(B)/units/nsbox-helper.service $(B)/units/user@.service.d/nsbox.conf

install: all $(GENERATED_UNITS)
	@case "$(PAMDIR)" in /security) echo "install: cannot find the PAM module directory (pkg-config pam); set PAMDIR" >&2; exit 1;; esac
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(PAMCONFDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security/nsbox.d $(DESTDIR)$(SYSTEMDUNITDIR)/user@.service.d
	install -m 0644 $(B)/pam_nsbox.so $(DESTDIR)$(PAMDIR)/pam_nsbox.so
	install -m 0755 $(B)/nsbox-helper $(B)/nsbox-init $(B)/nsbox-user-manager $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(B)/nsbox $(DESTDIR)$(BINDIR)/nsbox
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 conf/pam-configs/nsbox $(DESTDIR)$(PAMCONFDIR)/nsbox
	install -m 0644 $(addprefix conf/systemd/,$(UNITS)) $(B)/units/nsbox-helper.service $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 $(B)/units/user@.service.d/nsbox.conf $(DESTDIR)$(SYSTEMDUNITDIR)/user@.service.d/nsbox.conf
	@# An admin's policy is never replaced.
	if [ -e $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf"; \
	else \
		install -m 0644 conf/nsbox.conf $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf; \
	fi
	@# The user manager's PAM stack includes the distribution's, which lives
	@# in /usr/lib/pam.d (Debian 12 and 13); an admin's own is kept.
	if [ -e $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user ] && ! cmp -s conf/pam.d/systemd-user $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user: add 'session required pam_nsbox.so user_manager' to it"; \
	elif [ -n "$(DESTDIR)" ] || [ -e /usr/lib/pam.d/systemd-user ]; then \
		install -d $(DESTDIR)$(SYSCONFDIR)/pam.d; \
		install -m 0644 conf/pam.d/systemd-user $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		echo "systemd runs here: systemctl daemon-reload && systemctl enable --now nsbox-helper.socket nsbox-user.socket"; \
	fi

# Exactly what install put there: the policy only while it is still the
# example, nsbox.d only while it is empty.
uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_nsbox.so $(DESTDIR)$(LIBEXECDIR)/nsbox-helper \
	    $(DESTDIR)$(LIBEXECDIR)/nsbox-init $(DESTDIR)$(LIBEXECDIR)/nsbox-user-manager $(DESTDIR)$(BINDIR)/nsbox \
	    $(DESTDIR)$(PAMCONFDIR)/nsbox \
	    $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS) nsbox-helper.service user@.service.d/nsbox.conf)
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSTEMDUNITDIR)/user@.service.d 2>/dev/null
	if cmp -s conf/pam.d/systemd-user $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/pam.d/systemd-user; \
	fi
	if cmp -s conf/nsbox.conf $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/security/nsbox.conf: it was changed"; \
	fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/security/nsbox.d 2>/dev/null

.PHONY: all check check-vm lint test-programs demo clean fuzz fuzz-seeds bench install uninstall FORCE
clean:
	rm -rf $(B)

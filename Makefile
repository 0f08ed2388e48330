# pam_nsbox — build, test, install.
PREFIX     ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec/nsbox
HELPER_PATH ?= $(LIBEXECDIR)/nsbox-helper
B := build

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-missing-field-initializers \
           -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC -fvisibility=hidden \
           -Ilib -DNSBOX_HELPER_PATH='"$(HELPER_PATH)"'
LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -U_FORTIFY_SOURCE
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC    := $(wildcard lib/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
HELPER_SRC := $(wildcard helper/*.c)
HELPER_OBJ := $(HELPER_SRC:%.c=$(B)/%.o)
CLI_SRC    := $(wildcard cli/*.c)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)
HDRS       := $(wildcard lib/*.h helper/*.h cli/*.h)

all: $(B)/pam_nsbox.so $(B)/nsbox-helper $(B)/nsbox

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libnsbox.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/pam_nsbox.so: $(B)/pam_nsbox/pam_nsbox.o $(B)/libnsbox.a pam_nsbox/pam_nsbox.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=pam_nsbox/pam_nsbox.map -o $@ $< $(B)/libnsbox.a \
	    -lpam -liniparser -lmnl -lcap

$(B)/nsbox-helper: $(HELPER_OBJ) $(B)/libnsbox.a
	$(CC) $(LDFLAGS) -pie -o $@ $(HELPER_OBJ) $(B)/libnsbox.a -lmnl -lcap -lnftables

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
	tests/run

# A real ssh login into a box, in a throwaway test world (as root).
demo: all $(TOOLS)
	tests/world bash tests/lib/demo.sh

.PHONY: all check demo clean
clean:
	rm -rf $(B)

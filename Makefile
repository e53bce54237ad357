# mcpgate: one build for everything.
#
#   make            bin/mcpgated, bin/mcpgatectl, bin/mcpgate
#   make check      every test: unit, integration, sanitizers, man lint, fuzz
#   make demo       a gateway in the foreground under ./demo/
#   make install    programs, man pages, system users and directories
#   make deb        the Debian package, in build/deb, checked by lintian
#   make deb-check  install that package here, run it, remove and purge it
#   make fuzz       the libFuzzer targets (FUZZ_SECONDS each)
#   make bench      benchmarks
#   make deps       the Debian packages the build and tests need

PREFIX ?=	/usr/local
DESTDIR ?=
SBINDIR ?=	$(PREFIX)/sbin
BINDIR_I ?=	$(PREFIX)/bin
MANDIR ?=	$(PREFIX)/share/man
SYSCONFDIR ?=	/etc

CC ?=		cc
BUILD ?=	build/obj
BIN ?=		bin

# Each program links only the libraries it uses: the client and
# mcpgatectl need neither libseccomp nor libargon2, which are the daemon's.
PKGS =		openssl libseccomp jansson yaml-0.1 libbsd-overlay libargon2 \
		libcurl
TOOL_PKGS =	openssl jansson yaml-0.1 libbsd-overlay
PKG_CFLAGS =	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS =	$(shell pkg-config --libs $(PKGS) 2>/dev/null)
TOOL_LIBS =	$(shell pkg-config --libs $(TOOL_PKGS) 2>/dev/null)

WARNFLAGS =	-Wall -Wextra -Werror -Wformat=2 -Wformat-security \
		-Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
		-Wshadow -Wvla -Wimplicit-fallthrough
HARDFLAGS =	-D_FORTIFY_SOURCE=3 -fstack-protector-strong \
		-fstack-clash-protection -fcf-protection -fPIE
HARDLDFLAGS =	-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--as-needed
OPTFLAGS =	-O2 -g

# make SAN=1: AddressSanitizer and UBSan, in a tree of its own.
ifeq ($(SAN),1)
BUILD =		build/san
BIN =		build/san/bin
OPTFLAGS =	-O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-DMCPGATE_SANITIZE
HARDFLAGS =	-fstack-protector-strong -fPIE
HARDLDFLAGS =	-pie -Wl,-z,relro,-z,now -fsanitize=address,undefined
endif

ALLCFLAGS =	-std=gnu11 -D_GNU_SOURCE -Icommon -I$(BUILD)/gen \
		$(WARNFLAGS) $(HARDFLAGS) \
		$(OPTFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALLLDFLAGS =	$(HARDLDFLAGS) $(LDFLAGS)
LIBS =		$(PKG_LIBS)

COMMON_SRCS =	$(wildcard common/*.c)
DAEMON_SRCS =	$(wildcard privsep/*.c netd/*.c mcpd/*.c auditd/*.c)
CTL_SRCS =	$(wildcard ctl/*.c)
CLIENT_SRCS =	$(wildcard client/*.c)
UNIT_SRCS =	$(wildcard tests/unit/test_*.c)
HELPER_SRCS =	$(wildcard tests/integration/*.c)

# common/ is a static library: a program takes from it only the objects
# it uses, so the client gets no sandbox or child code.  The daemon's
# code but its main() is a second one, for the unit tests, fuzz targets
# and benchmarks to link against.
DAEMON_LIB_SRCS = $(filter-out privsep/mcpgated.c,$(DAEMON_SRCS))
COMMON_OBJS =	$(COMMON_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS =	$(DAEMON_SRCS:%.c=$(BUILD)/%.o)
CTL_OBJS =	$(CTL_SRCS:%.c=$(BUILD)/%.o)
CLIENT_OBJS =	$(CLIENT_SRCS:%.c=$(BUILD)/%.o)
COMMON_LIB =	$(BUILD)/libcommon.a
DAEMON_LIB =	$(BUILD)/libmcpgated.a
UNIT_BINS =	$(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_BINS =	$(HELPER_SRCS:tests/integration/%.c=$(BUILD)/tests/%)

PROGS =		$(BIN)/mcpgated $(BIN)/mcpgatectl $(BIN)/mcpgate

# The systemd unit, its paths those of this install; mcpgated install
# systemd prints the same text, compiled in.
UNITDIR ?=	$(PREFIX)/lib/systemd/system
UNIT_SED =	sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
		    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

MANPAGES =	man/mcpgate.1 man/mcpgate-audit.5 man/mcpgate-roles.5 \
		man/mcpgated.conf.5 man/mcpgate-protocol.7 man/mcpgated.8 \
		man/mcpgatectl.8

FUZZ_SECONDS ?=	20
# make check runs each target briefly, one a CPU at a time.
CHECK_FUZZ_SECONDS ?= 10
# Parallel compiles in make check.
JOBS ?=		$(shell nproc 2>/dev/null || echo 1)
FUZZ_SRCS =	$(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS =	$(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS =	-std=gnu11 -D_GNU_SOURCE -Icommon -Ibuild/fuzz/obj/gen \
		-g -O1 \
		-fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all \
		-DMCPGATE_SANITIZE -DMCPGATE_FUZZ $(PKG_CFLAGS)
FUZZ_COMMON_LIB = build/fuzz/obj/libcommon.a
FUZZ_DAEMON_LIB = build/fuzz/obj/libmcpgated.a

DEBS =		gcc libc6-dev make pkgconf libssl-dev libseccomp-dev \
		libjansson-dev libyaml-dev libbsd-dev libargon2-dev \
		libcurl4-openssl-dev mandoc clang \
		libclang-rt-14-dev openssl procps passwd util-linux jq python3 \
		systemd debhelper dpkg-dev lintian

# Keep the fuzz objects between builds.
.SECONDARY: $(COMMON_SRCS:%.c=build/fuzz/obj/%.o) \
	$(DAEMON_LIB_SRCS:%.c=build/fuzz/obj/%.o) build/fuzz/obj/client/rpc.o \
	build/fuzz/obj/client/jsonout.o

.PHONY: all progs deps check test unit integration san fuzz fuzz-build \
	bench demo install users clean lint-man peers deb deb-check

all: progs $(UNIT_BINS) $(HELPER_BINS) $(BUILD)/tests/peerbench \
    $(BUILD)/tests/relaychain

# What make install installs, and no test.
progs: $(PROGS) $(BUILD)/mcpgated.service

# The unit as a file, and as a C string for privsep/configure.c.  The
# paths come from the command line or the Makefile: after a change of
# PREFIX, SBINDIR or SYSCONFDIR, make clean.
$(BUILD)/mcpgated.service: systemd/mcpgated.service.in Makefile
	@mkdir -p $(@D)
	$(UNIT_SED) systemd/mcpgated.service.in >$@

%/gen/mcpgated_service.h: systemd/mcpgated.service.in Makefile
	@mkdir -p $(@D)
	{ echo '#define MCPGATED_SERVICE \'; $(UNIT_SED) $< | \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' \
	    -e 's/$$/\\n" \\/'; echo '    ""'; } >$@

.PRECIOUS: %/gen/mcpgated_service.h

$(BUILD)/privsep/configure.o: $(BUILD)/gen/mcpgated_service.h
build/fuzz/obj/privsep/configure.o: build/fuzz/obj/gen/mcpgated_service.h

$(BIN)/mcpgated: $(DAEMON_OBJS) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $^ $(LIBS)

$(BIN)/mcpgatectl: $(CTL_OBJS) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $^ $(TOOL_LIBS)

$(BIN)/mcpgate: $(CLIENT_OBJS) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $^ $(TOOL_LIBS)

$(COMMON_LIB): $(COMMON_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(DAEMON_LIB): $(DAEMON_LIB_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(DAEMON_LIB) $(COMMON_LIB) \
    tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Itests/unit $(ALLLDFLAGS) -o $@ $< $(DAEMON_LIB) \
	    $(COMMON_LIB) $(LIBS)

$(BUILD)/tests/%: tests/integration/%.c $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(COMMON_LIB) $(TOOL_LIBS)

# spawnprobe drives the parent's spawner API: the daemon's library.
$(BUILD)/tests/spawnprobe: tests/integration/spawnprobe.c $(DAEMON_LIB) \
    $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(DAEMON_LIB) \
	    $(COMMON_LIB) $(LIBS)

# httpprobe drives netd's HTTP client: the daemon's library too.
$(BUILD)/tests/httpprobe: tests/integration/httpprobe.c $(DAEMON_LIB) \
    $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(DAEMON_LIB) \
	    $(COMMON_LIB) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find build -path build/deb -prune -o -name '*.d' -type f \
    -print 2>/dev/null)

# Debian packages, installed with apt-get when one is missing.  Node.js
# and npm run the official MCP SDK in the tests; a node already on PATH
# (18 or later) will do.
deps:
	@missing=""; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		missing="$$missing nodejs npm"; \
	fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "missing Debian packages:$$missing"; \
			echo "run as root: apt-get install$$missing"; exit 1; \
		fi; \
		echo "installing:$$missing"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $$missing; \
	fi

# The system users the daemon drops to (as make install creates them).
users:
	@for u in _mcpgate _mcpgate-audit _mcpgate-dns; do \
		getent passwd $$u >/dev/null || { \
			echo "creating system user $$u"; \
			useradd --system --no-create-home --home-dir /nonexistent \
			    --shell /usr/sbin/nologin --user-group $$u; }; \
	done

san:
	@$(MAKE) --no-print-directory SAN=1 all

fuzz-build: $(FUZZ_BINS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_COMMON_LIB): $(COMMON_SRCS:%.c=build/fuzz/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DAEMON_LIB): $(DAEMON_LIB_SRCS:%.c=build/fuzz/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

build/fuzz/%: tests/fuzz/%.c $(FUZZ_DAEMON_LIB) $(FUZZ_COMMON_LIB)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_DAEMON_LIB) $(FUZZ_COMMON_LIB) $(LIBS)

# The client's parsers: its objects, not the daemon's.
FUZZ_CLIENT_OBJS = build/fuzz/obj/client/rpc.o build/fuzz/obj/client/jsonout.o

build/fuzz/fuzz_client: tests/fuzz/fuzz_client.c $(FUZZ_CLIENT_OBJS) \
    $(FUZZ_COMMON_LIB)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_CLIENT_OBJS) $(FUZZ_COMMON_LIB) $(LIBS)

fuzz: deps fuzz-build
	@tests/run fuzz $(FUZZ_SECONDS)

lint-man:
	@tests/run man

# The MCP peers of the tests, exactly as tests/peers/package-lock.json has
# them, from the npm registry.  npm caches in ~/.npm; a user whose home it
# cannot write (nobody's is /nonexistent) gets a cache under build/.
PEERS_STAMP =	tests/peers/node_modules/.package-lock.json
NPM_CACHE =	$(shell [ -w "$${HOME:-/nonexistent}" ] || \
		    echo "--cache '$(CURDIR)/build/npm-cache'")

$(PEERS_STAMP): tests/peers/package.json tests/peers/package-lock.json
	npm ci --prefix tests/peers --ignore-scripts --no-audit --no-fund \
	    $(NPM_CACHE)

peers: $(PEERS_STAMP)

# The sanitizer build and the fuzz targets are compiled by tests/run in
# the background, at nice 19, while the plain build's tests run.
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@$(MAKE) --no-print-directory peers
	@if [ "$$(id -u)" -eq 0 ]; then $(MAKE) --no-print-directory users; fi
	@FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) MCPGATE_LATER_BUILD="$(MAKE) \
	    --no-print-directory -j$(JOBS) san fuzz-build" tests/run all

test: all peers
	@tests/run unit integration

$(BUILD)/tests/bench: tests/bench/bench.c tests/bench/benchlib.c \
    tests/bench/benchlib.h $(DAEMON_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< tests/bench/benchlib.c \
	    $(DAEMON_LIB) $(COMMON_LIB) $(LIBS) -lpthread

$(BUILD)/tests/mcpbench: tests/bench/mcpbench.c tests/bench/benchlib.c \
    tests/bench/benchlib.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< tests/bench/benchlib.c \
	    $(LIBS) -lpthread

$(BUILD)/tests/peerbench: tests/bench/peerbench.c tests/bench/benchlib.c \
    tests/bench/benchlib.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< tests/bench/benchlib.c \
	    $(LIBS) -lpthread

$(BUILD)/tests/relaychain: tests/bench/relaychain.c tests/bench/benchlib.c \
    tests/bench/benchlib.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< tests/bench/benchlib.c \
	    $(LIBS) -lpthread

bench: deps
	@$(MAKE) --no-print-directory all peers $(BUILD)/tests/bench \
	    $(BUILD)/tests/mcpbench $(BUILD)/tests/peerbench \
	    $(BUILD)/tests/relaychain
	@tests/bench/run

demo: deps
	@$(MAKE) --no-print-directory all peers
	@if [ "$$(id -u)" -eq 0 ]; then $(MAKE) --no-print-directory users; fi
	@tests/demo

install: progs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR_I) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN)/mcpgated $(BIN)/mcpgatectl $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BIN)/mcpgate $(DESTDIR)$(BINDIR_I)
	install -m 0644 man/mcpgate.1 $(DESTDIR)$(MANDIR)/man1
	install -m 0644 man/mcpgated.conf.5 man/mcpgate-roles.5 \
	    man/mcpgate-audit.5 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/mcpgate-protocol.7 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 man/mcpgated.8 man/mcpgatectl.8 $(DESTDIR)$(MANDIR)/man8
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 $(BUILD)/mcpgated.service $(DESTDIR)$(UNITDIR)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
		$(MAKE) --no-print-directory users; \
		install -d -o root -g root -m 0755 /var/empty; \
		install -d -o root -g root -m 0700 /var/lib/mcpgate; \
		install -d -o _mcpgate-audit -g _mcpgate-audit -m 0750 \
		    /var/log/mcpgate; \
		test -e $(SYSCONFDIR)/mcpgated.conf || \
		    install -m 0644 privsep/mcpgated.conf.example \
		    $(SYSCONFDIR)/mcpgated.conf; \
	else \
		install -d $(DESTDIR)$(SYSCONFDIR); \
		install -m 0644 privsep/mcpgated.conf.example \
		    $(DESTDIR)$(SYSCONFDIR)/mcpgated.conf.example; \
		echo "not root or DESTDIR set: create the users _mcpgate,"; \
		echo "_mcpgate-audit and _mcpgate-dns and the directories of mcpgated(8) by hand"; \
	fi

# The Debian package (debian/), built with the Debian tools on a copy of
# the tree, so that neither their files nor the package land in it:
# build/deb/mcpgate_VERSION_ARCH.deb, then lintian, which must report no
# error and no warning (its report: build/deb/lintian.log).  Built again
# only when what goes into it has changed.
VERSION =	$(shell sed -n 's/^\#define MCPGATE_VERSION[^"]*"\(.*\)"/\1/p' \
		    common/util.h)
DEB_DIR =	build/deb
DEB_STAMP =	$(DEB_DIR)/.built
DEB_INPUTS =	Makefile $(wildcard debian/* debian/source/*) \
		$(COMMON_SRCS) $(DAEMON_SRCS) $(CTL_SRCS) $(CLIENT_SRCS) \
		$(wildcard */*.h) $(MANPAGES) systemd/mcpgated.service.in

deb: deps $(DEB_STAMP)
	@cat $(DEB_DIR)/lintian.log
	@ls $(DEB_DIR)/*.deb

$(DEB_STAMP): $(DEB_INPUTS)
	@rm -rf $(DEB_DIR)
	@mkdir -p $(DEB_DIR)/mcpgate-$(VERSION)
	tar -c --exclude=./build --exclude=./bin --exclude=./demo \
	    --exclude=./.git --exclude=./tests/peers/node_modules -f - . | \
	    tar -x -C $(DEB_DIR)/mcpgate-$(VERSION)
	cd $(DEB_DIR)/mcpgate-$(VERSION) && \
	    dpkg-buildpackage -us -uc -b -j$(JOBS) >../build.log 2>&1 || \
	    { tail -n 30 ../build.log; exit 1; }
	lintian --fail-on error,warning $(DEB_DIR)/*.changes \
	    >$(DEB_DIR)/lintian.log 2>&1 || { cat $(DEB_DIR)/lintian.log; \
	    exit 1; }
	@touch $@

# Installs the package on this machine, starts the daemon from it, runs
# the walkthrough, then removes and purges it: for a machine that is
# thrown away after (CI), never for one where mcpgate is installed.
deb-check: deb peers
	@tests/run deb-install

clean:
	rm -rf build bin demo tests/peers/node_modules

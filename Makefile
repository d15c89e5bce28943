# spamsift: plain GNU Makefile.
#
#   make                  build build/spamsift, build/spamsiftd, build/spamsift-fpd,
#                         build/libspamsift.a
#   make check            install missing test packages (as root), build, run
#                         unit tests, the corpus test and a fuzz smoke run
#   make SANITIZE=address,undefined check
#                         the same under ASan/UBSan (objects in build/san/)
#   make fuzz             build the libFuzzer targets (build/fuzz/)
#   make bench            build and run bench/parse (spamsift vs GMime 3),
#                         bench/run-classify.sh (vs bogofilter),
#                         bench/run-rules.sh (scans with 1,000 rules vs none),
#                         bench/run-fuzzy.sh (fingerprints: false matches, recall),
#                         bench/run-daemon.sh (spamsiftd's load vs spamd, rspamd),
#                         bench/run-fpd.sh (spamsift-fpd's lookups/s and p99),
#                         bench/run-web.sh (history pages at 1,000 scans/s, 100k kept) and
#                         bench/run-redis.sh (the model on Redis vs embedded, rspamd)
#   make demo             install, build and parse the sample mail
#   make install          install the binaries into $(PREFIX)/bin and sbin, the
#                         default rules (built in too) into
#                         $(PREFIX)/share/spamsift/rules for reading, and
#                         dist/spamsiftd.conf into $(SYSCONFDIR)/spamsift/ if absent
#   make format-check     check formatting with clang-format

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
PKGS := icu-uc icu-i18n libidn2 libxxhash lmdb zlib libhs libpcre2-8 libpsl libarchive libsodium \
	libunbound opendkim libssl libcrypto libmaxminddb hiredis

ifeq ($(SANITIZE),)
B := build
OPT := -O2
else
B := build/san
OPT := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

CC ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
CFLAGS ?= -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(CFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(OPT) $(LDFLAGS)
# libspf2 and libmagic have no pkg-config file in Debian 12.
LIBS := $(PKG_LIBS) -lspf2 -lmagic -lm -lpthread

LIB_SRC := $(sort $(wildcard src/util/*.c src/mime/*.c src/text/*.c src/learn/*.c src/store/*.c \
	src/check/*.c src/dns/*.c src/dnsl/*.c src/auth/*.c src/rules/*.c src/phish/*.c src/fuzzy/*.c \
	src/engine/*.c src/proto/*.c src/report/*.c src/history/*.c src/web/*.c)) src/fpd/client.c
CLI_SRC := $(sort $(wildcard src/cli/*.c))
DAEMON_SRC := $(sort $(wildcard src/daemon/*.c))
FPD_SRC := $(filter-out src/fpd/client.c,$(sort $(wildcard src/fpd/*.c)))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

# The default rule set, embedded: build/gen/rules_default.c from rules/*.rules.
RULE_FILES := $(sort $(wildcard rules/*.rules))
GEN_RULES := build/gen/rules_default.c

# The web page (src/web/assets), embedded: build/gen/web_assets.c.
WEB_FILES := $(sort $(wildcard src/web/assets/*.* src/web/assets/i18n/*.json))
GEN_WEB := build/gen/web_assets.c

LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/rules_default.o
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/web_assets.o
FPD_OBJ := $(FPD_SRC:%.c=$(B)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/obj/%.o)
LIB := $(B)/libspamsift.a

.PHONY: all check format-check unit cli-check rules-check daemon-check milter-check http-check \
	reload-check dns-check dnsl-check auth-check checks-check report-check fpd-check web-check \
	redis-check redis-journal-check sentinel-check rhist-check fpd-redis-check corpus-check fuzz fuzz-smoke bench demo install \
	deps clean

all: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd $(LIB)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(GEN_RULES): $(RULE_FILES) scripts/embed-rules.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-rules.sh $@ $(RULE_FILES)

$(B)/obj/gen/rules_default.o: $(GEN_RULES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(GEN_WEB): $(WEB_FILES) src/web/embed.sh
	@mkdir -p $(dir $@)
	sh src/web/embed.sh $@ $(WEB_FILES)

$(B)/obj/gen/web_assets.o: $(GEN_WEB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/spamsift: $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

# libev has no pkg-config file in Debian 12. libev also exports libevent's
# function names (its compatibility layer), and libunbound calls libevent:
# libevent is linked ahead of libev so that those calls reach libevent.
$(B)/spamsiftd: $(DAEMON_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIB) $(LIBS) \
		-Wl,--push-state,--no-as-needed $(shell pkg-config --libs libevent 2>/dev/null) -Wl,--pop-state -lev

# The fingerprint server, on libev like spamsiftd (same link line).
$(B)/spamsift-fpd: $(FPD_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(FPD_OBJ) $(LIB) $(LIBS) \
		-Wl,--push-state,--no-as-needed $(shell pkg-config --libs libevent 2>/dev/null) -Wl,--pop-state -lev

# fpcli: a small FPP client for the tests (keys, replays, adds, lookups).
$(B)/tests/fpcli: $(B)/obj/tests/fpd/fpcli.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The daemon's I/O-free modules are unit tested and fuzzed too.
DAEMON_PURE_OBJ := $(B)/obj/src/daemon/config.o

$(B)/tests/unit: $(TEST_OBJ) $(DAEMON_PURE_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(DAEMON_PURE_OBJ) $(LIB) $(LIBS)

$(B)/tests/parse_corpus: $(B)/obj/tests/corpus/parse_corpus.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(B)/tests/dnsprobe: $(B)/obj/tests/dns/dnsprobe.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(B)/tests/dnslprobe: $(B)/obj/tests/dnsl/dnslprobe.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(B)/tests/authprobe: $(B)/obj/tests/auth/authprobe.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

deps:
	@scripts/deps.sh build test

# Under SANITIZE the fuzz smoke run is skipped: the fuzz targets are always
# built with ASan/UBSan, so the plain `make check` has run them already.
check: deps
	$(MAKE) format-check unit cli-check rules-check daemon-check milter-check http-check \
		reload-check dns-check dnsl-check auth-check checks-check report-check fpd-check \
		web-check redis-check redis-journal-check sentinel-check rhist-check fpd-redis-check corpus-check
ifeq ($(SANITIZE),)
	$(MAKE) fuzz-smoke
endif

# tokens_first_cjk_run_as_later_ones again, in a process of its own: ICU
# state a process builds once must not change what a fresh one computes.
unit: $(B)/tests/unit
	$(B)/tests/unit
	$(B)/tests/unit tokens_first_cjk_run_as_later_ones

cli-check: $(B)/spamsift
	SPAMSIFT=$(B)/spamsift sh tests/cli.sh
	SPAMSIFT=$(B)/spamsift sh tests/model.sh
	SPAMSIFT=$(B)/spamsift sh tests/eval.sh

# The rule set: the default rules' messages, --rules, errors, daemon reload.
rules-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/rules.sh

daemon-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/daemon.sh

# A private Postfix (root) with spamsiftd as its milter, fed by swaks.
milter-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/milter.sh

http-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/http.sh

# spamsiftd -c FILE and SIGHUP reloads.
reload-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/reload.sh

# The DNS client against a private nsd on 127.0.0.1.
dns-check: $(B)/tests/dnsprobe
	DNSPROBE=$(B)/tests/dnsprobe SPAMSIFT=$(B)/spamsift sh tests/dns.sh

# The DNS list check (src/dnsl) against a private nsd on 127.0.0.1.
dnsl-check: $(B)/tests/dnslprobe
	DNSLPROBE=$(B)/tests/dnslprobe SPAMSIFT=$(B)/spamsift sh tests/dnsl.sh

# SPF, DKIM and DMARC against a private nsd, with mail signed by opendkim-tools and dkimpy.
auth-check: $(B)/tests/authprobe
	AUTHPROBE=$(B)/tests/authprobe SPAMSIFT=$(B)/spamsift sh tests/auth.sh

# The built-in checks end to end: spamsift check and spamsiftd with a
# private nsd, a DKIM key made here, DNS lists from a rule file.
checks-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/checks.sh

# User reports: ARF checked by Python's email package, contacts, the
# evidence store and --stats, and the daemon's POST /report and TELL.
report-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/report.sh

# spamsift-fpd: real servers on 127.0.0.1, keys, replays, kill -9, federation.
fpd-check: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd $(B)/tests/fpcli
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd FPD=$(B)/spamsift-fpd FPCLI=$(B)/tests/fpcli \
		sh tests/fpd.sh

# The web page and its API: curl, and Debian's chromium driven by
# playwright-core (npm ci into build/web-node); screenshots in
# build/test-artifacts/web/.
web-check: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd FPD=$(B)/spamsift-fpd sh tests/web.sh

# The model on Redis: real redis-server processes (a primary, a replica),
# a 3-master Cluster, two spamsiftd sharing a model, kill -9 of Redis under
# load, the journal, migrate.
redis-check: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd $(B)/tests/fpcli
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd FPD=$(B)/spamsift-fpd FPCLI=$(B)/tests/fpcli \
		sh tests/redis.sh

# Reports made while Redis is down (a new user, a re-learn as the other
# class, an unlearn) redone from the journal when it is back; a journal
# replayed twice changes nothing.
redis-journal-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/redis_journal.sh

# Redis Sentinel: a master, its replica and a sentinel; the model, the
# history and the fingerprint store through redis+sentinel:// URLs; the
# master killed: the replica promoted, nothing lost.
sentinel-check: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd $(B)/tests/fpcli
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd FPD=$(B)/spamsift-fpd FPCLI=$(B)/tests/fpcli \
		sh tests/sentinel.sh

# The scan history on Redis: a real redis-server, two spamsiftd sharing
# it, the bounds on Redis, Redis killed and back.
rhist-check: $(B)/spamsift $(B)/spamsiftd
	SPAMSIFT=$(B)/spamsift SPAMSIFTD=$(B)/spamsiftd sh tests/rhist.sh

# spamsift-fpd with its store on Redis: two servers sharing one store, a
# restart, expiry, federation with an LMDB server, Redis down and back.
fpd-redis-check: $(B)/spamsift $(B)/spamsift-fpd $(B)/tests/fpcli
	SPAMSIFT=$(B)/spamsift FPD=$(B)/spamsift-fpd FPCLI=$(B)/tests/fpcli sh tests/fpd_redis.sh

corpus-check: $(B)/tests/parse_corpus
	sh tests/corpus/run.sh $(B)/tests/parse_corpus

# libFuzzer targets: clang only, always with ASan/UBSan, objects of their own.
FZ := build/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-Iinclude -Isrc $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FZ)/obj/%.o) $(FZ)/obj/gen/rules_default.o
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FZ)/%)

$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FZ)/obj/gen/rules_default.o: $(GEN_RULES)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@

$(FZ)/%: $(FZ)/obj/fuzz/%.o $(FUZZ_LIB_OBJ)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

$(FZ)/fuzz_config: $(FZ)/obj/src/daemon/config.o
$(FZ)/fuzz_fentry: $(FZ)/obj/src/fpd/fentry.o

fuzz: $(FUZZ_BIN)

FUZZ_RUNS ?= 20000
fuzz-smoke: fuzz
	sh fuzz/run.sh $(FUZZ_RUNS) $(FUZZ_BIN)

$(B)/bench/parse: bench/parse.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags gmime-3.0) -o $@ $< $(LIB) \
		$(shell pkg-config --libs gmime-3.0) $(LIBS)

$(B)/bench/rules: bench/rules.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS)

# phish_check() per message over the corpora: build/bench/phish build/corpora/*/index
$(B)/bench/phish: bench/phish.c bench/corpus.c bench/corpus.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/corpus.c $(LIB) $(LIBS)

# fingerprints over the corpora: false matches, recall on varied copies, speed
$(B)/bench/fuzzy: bench/fuzzy.c bench/corpus.c bench/corpus.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/corpus.c $(LIB) $(LIBS)

$(B)/bench/spamc_load: bench/spamc_load.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

$(B)/bench/web_load: bench/web_load.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

$(B)/bench/fpd_load: bench/fpd_load.c bench/lat.c bench/lat.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/lat.c $(LIB) $(LIBS)

# rspamd_fuzzy_load: the same load on rspamd's fuzzy_storage (the anchor).
$(B)/bench/rspamd_fuzzy_load: bench/rspamd_fuzzy_load.c bench/lat.c bench/lat.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< bench/lat.c

bench:
	@scripts/deps.sh build bench
	$(MAKE) $(B)/spamsift $(B)/spamsift-fpd $(B)/bench/fpd_load $(B)/bench/rspamd_fuzzy_load
	sh bench/run-fpd.sh $(B)/spamsift $(B)/spamsift-fpd $(B)/bench/fpd_load \
		$(B)/bench/rspamd_fuzzy_load
	$(MAKE) $(B)/bench/parse
	sh bench/run-parse.sh $(B)/bench/parse
	$(MAKE) $(B)/spamsift
	sh bench/run-classify.sh $(B)/spamsift
	$(MAKE) $(B)/bench/rules
	sh bench/run-rules.sh $(B)/spamsift $(B)/bench/rules
	$(MAKE) $(B)/bench/fuzzy
	sh bench/run-fuzzy.sh $(B)/bench/fuzzy
	$(MAKE) $(B)/spamsiftd $(B)/bench/spamc_load
	sh bench/run-daemon.sh $(B)/spamsift $(B)/spamsiftd $(B)/bench/spamc_load
	$(MAKE) $(B)/bench/web_load
	sh bench/run-web.sh $(B)/spamsift $(B)/spamsiftd $(B)/bench/web_load
	sh bench/run-redis.sh $(B)/spamsift $(B)/spamsiftd $(B)/bench/spamc_load

demo:
	@scripts/deps.sh build
	$(MAKE) all
	$(B)/spamsift parse tests/data/demo-vi.eml
	$(B)/spamsift parse --text tests/data/demo-vi.eml

install: $(B)/spamsift $(B)/spamsiftd $(B)/spamsift-fpd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(B)/spamsift $(DESTDIR)$(PREFIX)/bin/spamsift
	install -m 755 $(B)/spamsiftd $(DESTDIR)$(PREFIX)/sbin/spamsiftd
	install -m 755 $(B)/spamsift-fpd $(DESTDIR)$(PREFIX)/sbin/spamsift-fpd
	install -d $(DESTDIR)$(PREFIX)/share/spamsift/rules
	install -m 644 $(RULE_FILES) $(DESTDIR)$(PREFIX)/share/spamsift/rules/
	install -d $(DESTDIR)$(SYSCONFDIR)/spamsift
	[ -e $(DESTDIR)$(SYSCONFDIR)/spamsift/spamsiftd.conf ] || \
		install -m 644 dist/spamsiftd.conf $(DESTDIR)$(SYSCONFDIR)/spamsift/spamsiftd.conf

FORMAT_FILES = $(wildcard src/*/*.c src/*/*.h include/*.h tests/unit/*.c tests/unit/*.h \
	tests/corpus/*.c tests/fpd/*.c tests/dns/*.c tests/dnsl/*.c tests/auth/*.c fuzz/*.c bench/*.c)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build/obj build/san build/fuzz build/tests build/bench build/spamsift build/spamsiftd build/spamsift-fpd \
		build/libspamsift.a build/gen

-include $(wildcard $(B)/obj/*/*.d $(B)/obj/*/*/*.d $(FZ)/obj/*/*.d $(FZ)/obj/*/*/*.d)

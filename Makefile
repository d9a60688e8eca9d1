# zerodown — PGXS build
EXTENSION = zerodown
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = zerodown
OBJS = \
	src/common/backoff.o \
	src/common/rules.o \
	src/zerodown.o \
	src/patch.o \
	src/catalog.o \
	src/plan.o \
	src/creation.o \
	src/blockers.o \
	src/align.o \
	src/register.o \
	src/baseline.o \
	src/repair.o \
	src/load.o \
	src/step.o \
	src/lint.o \
	src/check.o \
	src/shmem.o \
	src/gate.o \
	src/deploy.o \
	src/worker.o \
	src/publish.o \
	src/clone.o \
	src/sync.o \
	src/trigger.o \
	src/expand.o \
	src/contracts.o \
	src/backfill.o \
	src/replica_lag.o

# release 0.1.0 as shipped, then the upgrade script of each later release,
# built from its parts in updates/ (see updates/README.md)
DATA = zerodown--0.1.0.sql
DATA_built = zerodown--0.1.0--0.2.0.sql
PGFILEDESC = "zerodown - zero-downtime deployments for PostgreSQL"

# pg_regress suites: sql/NAME.sql against expected/NAME.out
REGRESS = \
	install \
	register \
	align \
	plan \
	placeholders \
	load \
	unregister \
	errors \
	privileges \
	gate \
	lint \
	dry_run \
	check \
	publish \
	clone \
	sync \
	expand_column \
	expand_table \
	backfill \
	dualwrite_errors \
	replica_lag \
	unneeded_rollback \
	failed_statement \
	extschema \
	deployer_create \
	contract_rollback \
	baseline \
	begin_commit \
	trust_catalog \
	trust_search_path \
	trust_placeholders \
	trust_nesting \
	trust_dualwrite \
	trust_clone \
	trust_public \
	trust_jobs \
	trust_settings \
	trust_audits \
	trust_bad_input

# isolation specs: test/specs/NAME.spec against test/expected/NAME.out
ISOLATION = \
	align_concurrent \
	lock_retry \
	gate_drain \
	gate_managed \
	publish_read \
	dualwrite \
	trust_gate_search_path
ISOLATION_OPTS = --inputdir=test

# TAP restart/crash tests
TAP_TESTS = 1
PROVE_TESTS ?= test/t/*.pl

# WERROR=1 (tools/test.sh, so CI) makes every compiler warning an error
include src/warnings.mk

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

zerodown--0.1.0--0.2.0.sql: $(sort $(wildcard updates/0.2.0/*.sql))
	cat $^ > $@

# pgTAP suites, run with pg_prove against a running server with the
# extension available (tools/test.sh starts one)
.PHONY: prove
prove:
	pg_prove --ext .sql --recurse test/pgtap

# the zd client (src/zd), built, installed into $(bindir) and cleaned with
# the extension
.PHONY: zd-all zd-install zd-clean
all: zd-all
install: zd-install
clean: zd-clean

zd-all:
	$(MAKE) -C src/zd all

# zd goes into PostgreSQL's bindir, which is rarely on PATH (Debian keeps it
# in /usr/lib/postgresql/15/bin): say where, and how to run it, rather than
# put a link outside PostgreSQL's tree behind the packager's back
zd-install: zd-all
	$(MAKE) -C src/zd install
	@echo "zd installed as $(DESTDIR)$(bindir)/zd"
	@case ":$$PATH:" in *":$(bindir):"*) ;; *) \
	  echo "zd: $(bindir) is not on PATH; add it (export PATH=$(bindir):\$$PATH)" \
	       "or link zd into a directory that is (ln -s $(bindir)/zd /usr/local/bin/zd)" ;; esac

zd-clean:
	$(MAKE) -C src/zd clean

# layout: pgindent's, with pg_bsd_indent (tools/setup.sh pg-bsd-indent).
# "make typedefs" rebuilds src/typedefs.list from the built objects.
.PHONY: pgindent pgindent-check typedefs
pgindent:
	tools/pgindent.sh
pgindent-check:
	tools/pgindent.sh --check
typedefs: all
	tools/pgindent.sh --typedefs

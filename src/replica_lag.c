/*-------------------------------------------------------------------------
 *
 * replica_lag.c
 *	  The replica-lag brake: before each batch of a backfill, each step of a
 *	  deployment and each patch that zd align commits, wait while a streaming
 *	  standby's replay is further behind than zerodown.max_replica_lag (time)
 *	  or zerodown.max_replica_lag_bytes (WAL), up to
 *	  zerodown.replica_lag_timeout.
 *
 * What is measured.  The standbys are the physical walsenders of this
 * server, read from their shared memory as pg_stat_replication reads it (so
 * the brake works for a deployer without pg_read_all_stats); logical
 * walsenders, base backups and disconnected standbys are not waited for.
 * For each standby:
 *
 * - bytes: pg_current_wal_lsn() - replay_lsn, exact, but only as fresh as
 *	 the standby's last status message;
 * - time: 0 when the standby has replayed all the WAL written (replay_lag is
 *	 stale then, or NULL), else the larger of replay_lag and how long its
 *	 replay position has stood still behind the WAL as this backend saw it.
 *	 replay_lag alone would hide a standby that stopped replaying (paused,
 *	 recovery_min_apply_delay, a conflict): it is only recomputed when the
 *	 replay position moves, so it keeps the last, small, value.
 *
 * A standby reports its replay position when it receives WAL and otherwise
 * every wal_receiver_status_interval (10 s by default).  While a wait
 * lasts, nothing else may write WAL, so it writes a no-op WAL record
 * (XLOG_NOOP) every ZD_REPLICA_NUDGE_MS and lets the WAL writer flush it:
 * each standby receives it and answers with its current replay position,
 * and the wait ends within a fraction of a second of the standby catching
 * up instead of up to ten seconds later.
 *
 * While it waits, it shows why: pg_stat_activity (query "zerodown: ...:
 * waiting for the standbys: standby "s1" (pid 1234) is 8.2 s and 12.0 MB
 * behind ...", wait event Extension), a NOTICE (LOG in the worker) when it
 * starts, every ZD_REPLICA_NOTICE_MS and when it ends, and the caller's
 * report callback (the backfill's progress in zerodown.expansion_status).
 * It waits on its latch, so cancel and terminate stop it at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xlog.h"
#include "access/xloginsert.h"
#include "catalog/pg_control.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "replica_lag.h"

#define ZD_REPLICA_POLL_MS			100 /* how often a wait looks again */
#define ZD_REPLICA_NUDGE_MS			200 /* how often it asks for replies */
#define ZD_REPLICA_ACTIVITY_MS		1000	/* pg_stat_activity refresh */
#define ZD_REPLICA_NOTICE_MS		5000	/* NOTICE while waiting */
#define ZD_MIN_REPLICA_LAG_MS		1000
#define ZD_MAX_REPLICA_LAG_MS		3600000

/* settings */
int			zerodown_max_replica_lag = 0;
int			zerodown_max_replica_lag_bytes = 0;
int			zerodown_replica_lag_timeout = 600000;
char	   *zerodown_replica_lag_ignore = NULL;

/* one standby as the brake sees it */
typedef struct Standby
{
	int			pid;			/* its walsender */
	WalSndState state;
	XLogRecPtr	replay;
	TimeOffset	replay_lag;		/* pg_stat_replication's, in us; -1: NULL */
	int64		bytes;			/* WAL written and not replayed */
	int64		lag_us;			/* the time lag the brake uses */
	bool		ignored;		/* named in zerodown.replica_lag_ignore */
	bool		over;			/* above a limit, and not ignored */
} Standby;

/*
 * What this backend saw of each walsender slot: the replay position, and
 * since when it has stood there while WAL was waiting to be replayed.
 */
typedef struct Seen
{
	int			pid;
	XLogRecPtr	replay;
	TimestampTz since;			/* 0: it was not behind */
} Seen;

/* how a wait ended */
typedef struct WaitResult
{
	double		waited_ms;
	bool		timed_out;
	char	   *message;
	char	   *detail;
	char	   *hint;
} WaitResult;

static Seen *seen = NULL;

PG_FUNCTION_INFO_V1(zd_wait_for_replicas);
PG_FUNCTION_INFO_V1(zd_replica_lag);

static bool check_max_replica_lag(int *newval, void **extra, GucSource source);
static bool check_replica_lag_ignore(char **newval, void **extra, GucSource source);
static bool is_ignored(const char *name);
static bool brake_on(void);
static int	read_standbys(Standby *standbys);
static Standby *behind_most(Standby *standbys, int n, int *nover);
static void wait_for_standbys(const char *activity, ZdReplicaWaitReport report,
							  void *arg, WaitResult *result);
static void nudge_standbys(void);
static char *describe(Standby *standby, int nover);
static char *standby_name(int pid);
static char *format_bytes(int64 bytes);
static const char *state_name(WalSndState state);
static Datum interval_datum(int64 us);
static inline void CheckPrimary(const char *action);

/*
 * The functions that measure lag run on the primary: a standby's own WAL
 * position is the WAL it replays, and no deployment runs there.
 */
static inline void
CheckPrimary(const char *action)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s on a standby", action),
				 errdetail("This server is in recovery: it replays WAL and writes none, so there is no lag of its own standbys to brake on."),
				 errhint("Call it on the primary, where deployments and backfills run.")));
}

void
ZdReplicaLagInit(void)
{
	DefineCustomIntVariable("zerodown.max_replica_lag",
							"Sets how far behind in time a standby may replay before zerodown's long work waits.",
							"A backfill waits before its next batch, a deployment before its next step "
							"and zd align before its next patch while a streaming standby's replay is "
							"further behind. 0 turns the time limit off.",
							&zerodown_max_replica_lag,
							0, 0, ZD_MAX_REPLICA_LAG_MS,
							PGC_SUSET,
							GUC_UNIT_MS,
							check_max_replica_lag, NULL, NULL);

	DefineCustomIntVariable("zerodown.max_replica_lag_bytes",
							"Sets how much WAL a standby may have left to replay before zerodown's long work waits.",
							"Measured as pg_current_wal_lsn() minus the standby's replay_lsn. "
							"0 turns the size limit off.",
							&zerodown_max_replica_lag_bytes,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zerodown.replica_lag_timeout",
							"Sets how long zerodown waits for lagging standbys before the work fails.",
							"The batch or step that was to come does not run; what ran before stays "
							"done. 0 waits as long as it takes.",
							&zerodown_replica_lag_timeout,
							600000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zerodown.replica_lag_ignore",
							   "Lists the standbys (by application_name) that zerodown does not wait for.",
							   "A standby delayed on purpose (recovery_min_apply_delay) is always behind; "
							   "name it here so that the brake watches the others.",
							   &zerodown_replica_lag_ignore,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_replica_lag_ignore, NULL, NULL);
}

/* a time limit below what the standbys' replies can show would never be met */
static bool
check_max_replica_lag(int *newval, void **extra, GucSource source)
{
	if (*newval == 0 || *newval >= ZD_MIN_REPLICA_LAG_MS)
		return true;
	GUC_check_errdetail("zerodown.max_replica_lag must be 0 (off) or at least 1s.");
	GUC_check_errhint("Standbys report their replay a few times a second at best, so a smaller limit could never be met; use zerodown.max_replica_lag_bytes for a tight limit.");
	return false;
}

static bool
check_replica_lag_ignore(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitIdentifierString(copy, ',', &names);

	list_free(names);
	pfree(copy);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid: give application_names separated by commas.");
	return ok;
}

/* is this application_name in zerodown.replica_lag_ignore? */
static bool
is_ignored(const char *name)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (zerodown_replica_lag_ignore == NULL || zerodown_replica_lag_ignore[0] == '\0')
		return false;
	copy = pstrdup(zerodown_replica_lag_ignore);
	if (!SplitIdentifierString(copy, ',', &names))
		return false;
	foreach(lc, names)
	{
		if (pg_strcasecmp(lfirst(lc), name) == 0)
			found = true;
	}
	list_free(names);
	pfree(copy);
	return found;
}

static bool
brake_on(void)
{
	return zerodown_max_replica_lag > 0 || zerodown_max_replica_lag_bytes > 0;
}

double
ZdWaitForReplicas(const char *activity, ZdReplicaWaitReport report, void *arg)
{
	WaitResult	result;

	wait_for_standbys(activity, report, arg, &result);
	if (result.timed_out)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s", result.message),
				 errdetail("%s", result.detail),
				 errhint("%s", result.hint)));
	return result.waited_ms;
}

bool
ZdReplicaLagPause(const char *activity, char **error)
{
	MemoryContext caller = CurrentMemoryContext;
	WaitResult	result;
	volatile bool ok = true;

	PG_TRY();
	{
		wait_for_standbys(activity, NULL, NULL, &result);
		if (result.timed_out)
		{
			*error = psprintf("%s\nDETAIL: %s\nHINT: %s",
							  result.message, result.detail, result.hint);
			ok = false;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		*error = psprintf("%s%s%s", edata->message,
						  edata->detail ? "\nDETAIL: " : "",
						  edata->detail ? edata->detail : "");
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	if (!ok)
		ereport(LOG,
				(errmsg("zerodown: %s stopped while waiting for the standbys: %s",
						activity, *error)));
	return ok;
}

/*
 * Every physical standby streaming from this server, with its lag.  The
 * standbys array has room for max_wal_senders.
 */
static int
read_standbys(Standby *standbys)
{
	XLogRecPtr	wal = GetXLogWriteRecPtr();
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;
	int			i;

	if (seen == NULL)
		seen = MemoryContextAllocZero(TopMemoryContext,
									  sizeof(Seen) * Max(max_wal_senders, 1));

	for (i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *walsnd = &WalSndCtl->walsnds[i];
		Standby    *s = &standbys[n];
		Seen	   *last = &seen[i];
		PGPROC	   *proc;

		SpinLockAcquire(&walsnd->mutex);
		s->pid = walsnd->pid;
		s->state = walsnd->state;
		s->replay = walsnd->apply;
		s->replay_lag = walsnd->applyLag;
		SpinLockRelease(&walsnd->mutex);

		/* not a standby that streams and has said where it stands */
		if (s->pid == 0 || s->state == WALSNDSTATE_BACKUP ||
			s->state == WALSNDSTATE_STOPPING || XLogRecPtrIsInvalid(s->replay))
			continue;
		/* a logical walsender is connected to a database; physical ones not */
		proc = BackendPidGetProc(s->pid);
		if (proc == NULL || OidIsValid(proc->databaseId))
			continue;

		s->bytes = s->replay < wal ? (int64) (wal - s->replay) : 0;
		if (last->pid != s->pid || last->replay != s->replay || s->bytes == 0)
		{
			last->pid = s->pid;
			last->replay = s->replay;
			last->since = s->bytes > 0 ? now : 0;
		}
		if (s->bytes == 0)
			s->lag_us = 0;
		else
			s->lag_us = Max(Max(s->replay_lag, 0), (int64) (now - last->since));
		s->ignored = zerodown_replica_lag_ignore != NULL &&
			zerodown_replica_lag_ignore[0] != '\0' && is_ignored(standby_name(s->pid));
		s->over = !s->ignored && ((zerodown_max_replica_lag > 0 &&
				   s->lag_us > (int64) zerodown_max_replica_lag * 1000) ||
			(zerodown_max_replica_lag_bytes > 0 &&
			 s->bytes > (int64) zerodown_max_replica_lag_bytes * 1024));
		n++;
	}
	return n;
}

/* the standby furthest over a limit, or NULL when none is */
static Standby *
behind_most(Standby *standbys, int n, int *nover)
{
	Standby    *worst = NULL;
	int			i;

	*nover = 0;
	for (i = 0; i < n; i++)
	{
		Standby    *s = &standbys[i];

		if (!s->over)
			continue;
		(*nover)++;
		if (worst == NULL || s->lag_us > worst->lag_us ||
			(s->lag_us == worst->lag_us && s->bytes > worst->bytes))
			worst = s;
	}
	return worst;
}

/*
 * Wait on the latch until no standby is over a limit, or the timeout.
 */
static void
wait_for_standbys(const char *activity, ZdReplicaWaitReport report, void *arg,
				  WaitResult *result)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext pass;
	Standby    *standbys;
	TimestampTz started = 0;
	TimestampTz last_nudge = 0;
	TimestampTz last_activity = 0;
	TimestampTz last_notice = 0;
	char	   *saved_activity = NULL;
	int			level = IsBackgroundWorker ? LOG : NOTICE;

	memset(result, 0, sizeof(WaitResult));
	if (!brake_on() || RecoveryInProgress())
		return;

	standbys = palloc(sizeof(Standby) * Max(max_wal_senders, 1));
	pass = AllocSetContextCreate(caller, "zerodown replica wait", ALLOCSET_SMALL_SIZES);
	for (;;)
	{
		Standby    *worst;
		TimestampTz now;
		char	   *waiting_for;
		int			n;
		int			nover;

		CHECK_FOR_INTERRUPTS();

		/*
		 * The worker waits outside any transaction: a new limit or
		 * zerodown.replica_lag_ignore reaches it at once.  A backend reads
		 * the configuration between statements only, as always.
		 */
		if (IsBackgroundWorker && ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (!brake_on())
				break;
		}
		MemoryContextReset(pass);
		MemoryContextSwitchTo(pass);
		n = read_standbys(standbys);
		worst = behind_most(standbys, n, &nover);
		now = GetCurrentTimestamp();
		if (worst == NULL)
			break;

		waiting_for = describe(worst, nover);
		if (started == 0)
		{
			started = now;
			last_notice = now;
			if (MyBEEntry != NULL && MyBEEntry->st_activity_raw != NULL)
				saved_activity = MemoryContextStrdup(caller, MyBEEntry->st_activity_raw);
			ereport(level,
					(errmsg("%s waits for the standbys: %s", activity, waiting_for)));
			if (report)
				report(arg, waiting_for);
		}
		else if (TimestampDifferenceExceeds(last_notice, now, ZD_REPLICA_NOTICE_MS))
		{
			last_notice = now;
			ereport(level,
					(errmsg("%s has waited %.0f s for the standbys: %s", activity,
							(double) (now - started) / 1000000.0, waiting_for)));
			if (report)
				report(arg, waiting_for);
		}

		if (zerodown_replica_lag_timeout > 0 &&
			TimestampDifferenceExceeds(started, now, zerodown_replica_lag_timeout))
		{
			MemoryContextSwitchTo(caller);
			result->timed_out = true;
			result->message = psprintf("standbys did not catch up within zerodown.replica_lag_timeout (%s)",
									   GetConfigOptionByName("zerodown.replica_lag_timeout", NULL, false));
			result->detail = psprintf("Still behind: %s. Nothing after the wait ran (%s).",
									  waiting_for, activity);
			result->hint = pstrdup("What ran before the wait is done: run it again to go on from there. "
								   "Look in pg_stat_replication and the standby's log for why it replays slowly, "
								   "or raise zerodown.replica_lag_timeout to wait longer.");
			break;
		}

		if (TimestampDifferenceExceeds(last_activity, now, ZD_REPLICA_ACTIVITY_MS))
		{
			last_activity = now;
			pgstat_report_activity(STATE_RUNNING,
								   psprintf("zerodown: %s: waiting for the standbys: %s",
											activity, waiting_for));
		}
		if (TimestampDifferenceExceeds(last_nudge, now, ZD_REPLICA_NUDGE_MS))
		{
			last_nudge = now;
			nudge_standbys();
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ZD_REPLICA_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(pass);

	if (started == 0)
		return;
	result->waited_ms = (double) (GetCurrentTimestamp() - started) / 1000.0;
	if (!result->timed_out)
		ereport(level,
				(errmsg("%s goes on after waiting %.1f s for the standbys",
						activity, result->waited_ms / 1000.0)));
	if (report)
		report(arg, NULL);
	if (saved_activity != NULL)
		pgstat_report_activity(STATE_RUNNING, saved_activity);
}

/*
 * A no-op WAL record, flushed by the WAL writer shortly: each standby that
 * receives it answers with where its replay stands.
 */
static void
nudge_standbys(void)
{
	XLogRecPtr	lsn;

	XLogBeginInsert();
	lsn = XLogInsert(RM_XLOG_ID, XLOG_NOOP);
	XLogSetAsyncXactLSN(lsn);
}

/*
 * standby "s1" (pid 1234) is 8.2 s and 12.0 MB behind
 * (zerodown.max_replica_lag is 5s), and 1 more standby is behind
 */
static char *
describe(Standby *standby, int nover)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "standby \"%s\" (pid %d) is %.1f s and %s behind (",
					 standby_name(standby->pid), standby->pid,
					 (double) standby->lag_us / 1000000.0, format_bytes(standby->bytes));
	if (zerodown_max_replica_lag > 0)
		appendStringInfo(&buf, "zerodown.max_replica_lag is %s",
						 GetConfigOptionByName("zerodown.max_replica_lag", NULL, false));
	if (zerodown_max_replica_lag > 0 && zerodown_max_replica_lag_bytes > 0)
		appendStringInfoString(&buf, ", ");
	if (zerodown_max_replica_lag_bytes > 0)
		appendStringInfo(&buf, "zerodown.max_replica_lag_bytes is %s",
						 GetConfigOptionByName("zerodown.max_replica_lag_bytes", NULL, false));
	appendStringInfoChar(&buf, ')');
	if (nover > 1)
		appendStringInfo(&buf, ", and %d more standby%s behind", nover - 1,
						 nover > 2 ? "s are" : " is");
	return buf.data;
}

/* the standby's application_name, as pg_stat_replication shows it */
static char *
standby_name(int pid)
{
	int			pass;

	for (pass = 0; pass < 2; pass++)
	{
		int			n = pgstat_fetch_stat_numbackends();
		int			i;

		for (i = 1; i <= n; i++)
		{
			LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);

			if (local != NULL && local->backendStatus.st_procpid == pid)
				return pstrdup(local->backendStatus.st_appname);
		}
		/* a walsender newer than this transaction's snapshot of the list */
		pgstat_clear_backend_activity_snapshot();
	}
	return pstrdup("");
}

static char *
format_bytes(int64 bytes)
{
	if (bytes < 10 * 1024)
		return psprintf(INT64_FORMAT " bytes", bytes);
	if (bytes < 10 * 1024 * 1024)
		return psprintf("%.0f kB", (double) bytes / 1024.0);
	if (bytes < INT64CONST(10) * 1024 * 1024 * 1024)
		return psprintf("%.1f MB", (double) bytes / (1024.0 * 1024.0));
	return psprintf("%.1f GB", (double) bytes / (1024.0 * 1024.0 * 1024.0));
}

static const char *
state_name(WalSndState state)
{
	switch (state)
	{
		case WALSNDSTATE_STARTUP:
			return "startup";
		case WALSNDSTATE_BACKUP:
			return "backup";
		case WALSNDSTATE_CATCHUP:
			return "catchup";
		case WALSNDSTATE_STREAMING:
			return "streaming";
		case WALSNDSTATE_STOPPING:
			return "stopping";
	}
	return "unknown";
}

static Datum
interval_datum(int64 us)
{
	Interval   *interval = palloc0(sizeof(Interval));

	interval->time = us;
	return IntervalPGetDatum(interval);
}

/*
 * zd_wait_for_replicas() returns interval: waits while a standby is behind
 * the limits; returns how long it waited.
 */
Datum
zd_wait_for_replicas(PG_FUNCTION_ARGS)
{
	double		waited;

	CheckPrimary("wait for standbys");
	waited = ZdWaitForReplicas("zd_wait_for_replicas", NULL, NULL);
	return interval_datum((int64) (waited * 1000.0));
}

/*
 * zd_replica_lag() returns table (pid, application_name, state, replay_lsn,
 * lag_bytes, replay_lag, lag, over_limit): the standbys as the brake sees
 * them.
 */
Datum
zd_replica_lag(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Standby    *standbys;
	int			n;
	int			i;

	CheckPrimary("measure replica lag");
	InitMaterializedSRF(fcinfo, 0);

	standbys = palloc(sizeof(Standby) * Max(max_wal_senders, 1));
	n = read_standbys(standbys);
	for (i = 0; i < n; i++)
	{
		Standby    *s = &standbys[i];
		Datum		values[9];
		bool		nulls[9] = {0};

		values[0] = Int32GetDatum(s->pid);
		values[1] = CStringGetTextDatum(standby_name(s->pid));
		values[2] = CStringGetTextDatum(state_name(s->state));
		values[3] = LSNGetDatum(s->replay);
		values[4] = Int64GetDatum(s->bytes);
		if (s->replay_lag >= 0)
			values[5] = interval_datum(s->replay_lag);
		else
			nulls[5] = true;
		values[6] = interval_datum(s->lag_us);
		values[7] = BoolGetDatum(s->over);
		values[8] = BoolGetDatum(s->ignored);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

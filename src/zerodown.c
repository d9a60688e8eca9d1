/*-------------------------------------------------------------------------
 *
 * zerodown.c
 *	  Module entry point: the settings, and one Init call per subsystem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "deploy.h"
#include "gate.h"
#include "replica_lag.h"
#include "shmem.h"
#include "worker.h"
#include "zerodown.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* settings */
int			zerodown_lock_timeout = 1000;
int			zerodown_lock_retries = 5;
int			zerodown_lock_retry_delay = 500;
bool		zerodown_managed = false;
int			zerodown_gate_timeout = 0;
int			zerodown_drain_timeout = 600000;
char	   *zerodown_database = NULL;

/* was the library loaded by shared_preload_libraries? */
static bool preloaded = false;

static void DefineSettings(void);
static bool check_managed(bool *newval, void **extra, GucSource source);
static void DefineWorkerSettings(void);

/*
 * Module load.  The user settings, the gate's hooks and the deployment
 * callbacks work whether or not the library is in shared_preload_libraries;
 * the worker, its settings and shared memory need it.
 */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	preloaded = process_shared_preload_libraries_in_progress;
	DefineSettings();
	ZdReplicaLagInit();
	if (preloaded)
	{
		DefineWorkerSettings();

		/*
		 * Only now, with every setting defined: reserving the prefix removes
		 * the placeholders of the ones not defined yet, and postgresql.conf's
		 * zerodown.database would be thrown away.  Without preloading, the
		 * worker's settings cannot be defined (a PGC_POSTMASTER setting
		 * cannot be after startup), so the prefix is not reserved, as
		 * pg_prewarm does: else every session that loads the library would
		 * warn that postgresql.conf's zerodown.database is invalid.
		 */
		MarkGUCPrefixReserved("zerodown");
	}

	ZdGateInit();
	ZdDeployInit();
	if (process_shared_preload_libraries_in_progress)
	{
		ZdShmemInit();
		ZdWorkerRegister();
	}
}

static void
DefineSettings(void)
{
	DefineCustomIntVariable("zerodown.lock_timeout",
							"Sets lock_timeout while a patch runs.",
							"A patch that waits longer than this for a lock is rolled back "
							"and retried, instead of queueing the application's queries "
							"behind its lock request. 0 waits as long as it takes.",
							&zerodown_lock_timeout,
							1000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zerodown.lock_retries",
							"Sets how many times a patch that hit the lock timeout is retried.",
							NULL,
							&zerodown_lock_retries,
							5, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("zerodown.lock_retry_delay",
							"Sets the first pause before a patch is retried after a lock timeout.",
							"The pause doubles with each retry, with random jitter, up to one minute.",
							&zerodown_lock_retry_delay,
							500, 0, 60000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("zerodown.managed",
							 "Makes every transaction of the session a managed job.",
							 "Each top-level transaction holds the deployment gate shared from "
							 "its first statement to its end, so it waits while a deployment "
							 "runs. Set it per role or database with ALTER ROLE/DATABASE ... SET.",
							 &zerodown_managed,
							 false,
							 PGC_USERSET,
							 0,
							 check_managed, NULL, NULL);

	DefineCustomIntVariable("zerodown.gate_timeout",
							"Sets how long a managed job waits at a closed deployment gate.",
							"0 waits as long as it takes.",
							&zerodown_gate_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* the worker's settings, defined only while shared_preload_libraries loads */
static void
DefineWorkerSettings(void)
{
	DefineCustomIntVariable("zerodown.drain_timeout",
							"Sets how long a deployment waits for running managed jobs.",
							"After it, the deployment fails and the gate opens again; "
							"nothing is changed. 0 waits as long as it takes.",
							&zerodown_drain_timeout,
							600000, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("zerodown.database",
							   "Sets the database the deployment worker serves.",
							   NULL,
							   &zerodown_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);
}

/*
 * zerodown.managed does its work in a hook that only a preloaded library
 * installs in every session, and the gate needs the preloaded library's
 * shared memory: without it the setting would read on and do nothing.  SET
 * and ALTER ROLE/DATABASE ... SET are refused then; a value that arrives
 * from a role's or database's settings when the library loads is kept (it
 * cannot be refused there) with a warning.  A session that never loads the
 * library cannot be told: PostgreSQL keeps the value as a placeholder.
 */
static bool
check_managed(bool *newval, void **extra, GucSource source)
{
	if (!*newval)
		return true;
	/* who may hold the gate (gate.c) */
	if (preloaded)
		return ZdCheckManaged(newval, extra, source);
	if (source == PGC_S_TEST || source >= PGC_S_INTERACTIVE)
	{
		GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
		GUC_check_errmsg("zerodown.managed needs zerodown in shared_preload_libraries");
		GUC_check_errdetail("Without it, a managed session would not be held by the deployment gate, though the setting would read on.");
		GUC_check_errhint("Add zerodown to shared_preload_libraries in postgresql.conf and restart the server.");
		return false;
	}
	ereport(WARNING,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("zerodown.managed is on, but zerodown is not in shared_preload_libraries"),
			 errdetail("This session is not held by the deployment gate."),
			 errhint("Add zerodown to shared_preload_libraries in postgresql.conf and restart the server.")));
	return true;
}

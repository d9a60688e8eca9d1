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

static void DefineSettings(void);
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

	DefineSettings();
	ZdReplicaLagInit();
	if (process_shared_preload_libraries_in_progress)
		DefineWorkerSettings();

	/*
	 * Only now, with every setting defined: reserving the prefix removes the
	 * placeholders of the ones not defined yet, and postgresql.conf's
	 * zerodown.database would be thrown away.
	 */
	MarkGUCPrefixReserved("zerodown");

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
							 ZdCheckManaged, NULL, NULL);

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

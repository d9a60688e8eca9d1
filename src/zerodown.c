/*-------------------------------------------------------------------------
 *
 * zerodown.c
 *	  Module entry point: settings only.  Each subsystem lives in its own
 *	  file; this one defines the GUCs the others read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "zerodown.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* settings */
int			zerodown_lock_timeout = 1000;
int			zerodown_lock_retries = 5;
int			zerodown_lock_retry_delay = 500;

static void DefineSettings(void);

/*
 * Module load.  The settings read by zd_align are user-settable, so they are
 * defined whether or not the library is in shared_preload_libraries.
 */
void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;

	DefineSettings();
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

	MarkGUCPrefixReserved("zerodown");
}

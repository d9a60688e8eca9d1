/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  zerodown's shared memory: the worker's latch, the deployment it runs
 *	  and the named jobs, when the library is preloaded.
 *
 * The gate itself needs no shared memory of ours: it is an advisory lock,
 * so the lock manager queues, wakes and cleans up after crashed holders.
 * What lives here is what the lock manager cannot say: job names, and how
 * backends reach the worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "shmem.h"

#define ZD_TRANCHE_NAME		"zerodown"

ZdShared   *ZdSharedState = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size shared_size(void);
static void shmem_request(void);
static void shmem_startup(void);

/* called from _PG_init while shared_preload_libraries loads */
void
ZdShmemInit(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

static Size
shared_size(void)
{
	return add_size(offsetof(ZdShared, jobs),
					mul_size(MaxBackends, sizeof(ZdJobSlot)));
}

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche(ZD_TRANCHE_NAME, 1);
}

static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ZdSharedState = ShmemInitStruct("zerodown", shared_size(), &found);
	if (!found)
	{
		int			i;

		memset(ZdSharedState, 0, shared_size());
		ZdSharedState->lock = &(GetNamedLWLockTranche(ZD_TRANCHE_NAME))->lock;
		ConditionVariableInit(&ZdSharedState->deployment_cv);
		pg_atomic_init_u32(&ZdSharedState->closing, 0);
		ZdSharedState->nslots = MaxBackends;
		for (i = 0; i < MaxBackends; i++)
		{
			pg_atomic_init_u32(&ZdSharedState->jobs[i].managed_state, ZD_MANAGED_NONE);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* this backend's job slot, or NULL when not preloaded */
ZdJobSlot *
ZdMyJobSlot(void)
{
	if (ZdSharedState == NULL || MyBackendId <= 0 ||
		MyBackendId > ZdSharedState->nslots)
		return NULL;
	return &ZdSharedState->jobs[MyBackendId - 1];
}

/* set the worker's latch: a deployment was queued */
void
ZdWakeWorker(void)
{
	if (ZdSharedState == NULL)
		return;
	LWLockAcquire(ZdSharedState->lock, LW_SHARED);
	if (ZdSharedState->worker_latch != NULL)
		SetLatch(ZdSharedState->worker_latch);
	LWLockRelease(ZdSharedState->lock);
}

/* what needs the worker or shared memory needs shared_preload_libraries */
void
ZdCheckPreloaded(const char *what)
{
	if (ZdSharedState == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs zerodown in shared_preload_libraries", what),
				 errdetail("The zerodown library was loaded on first use, so its background worker is not running."),
				 errhint("Add zerodown to shared_preload_libraries in postgresql.conf and restart the server.")));
}

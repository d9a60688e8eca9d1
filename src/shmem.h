/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  zerodown's shared memory: the worker's latch, the gate's deployer and
 *	  the named jobs, when the library is preloaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_SHMEM_H
#define ZERODOWN_SHMEM_H

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* a backend's fast-path managed transaction: none, announcing, or running */
#define ZD_MANAGED_NONE			0
#define ZD_MANAGED_ANNOUNCING	1
#define ZD_MANAGED_HELD			2

/*
 * A backend's view of the gate: the named job it runs (zd_job_begin), and
 * the managed transaction it runs on the fast path (see gate.c).
 */
typedef struct ZdJobSlot
{
	pid_t		pid;			/* 0: no named job */
	Oid			dboid;
	TimestampTz since;
	char		name[NAMEDATALEN];
	pg_atomic_uint32 managed_state; /* ZD_MANAGED_* */
	Oid			managed_db;		/* the fast-path managed transaction's */
	LocalTransactionId managed_lxid;
	pid_t		managed_pid;
	TimestampTz managed_since;
} ZdJobSlot;

typedef struct ZdShared
{
	LWLock	   *lock;			/* protects everything below but the CV */
	pid_t		worker_pid;		/* the deployment worker, 0 when not running */
	Latch	   *worker_latch;
	ConditionVariable deployment_cv;	/* a deployment changed state */
	pg_atomic_uint32 closing;	/* deployers closing or holding a gate */
	int64		deployment;		/* the one the worker runs, 0: none */
	int			nslots;
	ZdJobSlot	jobs[FLEXIBLE_ARRAY_MEMBER];	/* by backend id */
} ZdShared;

/* NULL when the library was not preloaded */
extern ZdShared *ZdSharedState;

extern void ZdShmemInit(void);
extern ZdJobSlot *ZdMyJobSlot(void);
extern void ZdWakeWorker(void);
extern void ZdCheckPreloaded(const char *what);

#endif							/* ZERODOWN_SHMEM_H */

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
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* a session that runs a named job (zd_job_begin) */
typedef struct ZdJobSlot
{
	pid_t		pid;			/* 0: free */
	Oid			dboid;
	TimestampTz since;
	char		name[NAMEDATALEN];
} ZdJobSlot;

typedef struct ZdShared
{
	LWLock	   *lock;			/* protects everything below but the CV */
	pid_t		worker_pid;		/* the deployment worker, 0 when not running */
	Latch	   *worker_latch;
	ConditionVariable deployment_cv;	/* a deployment changed state */
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

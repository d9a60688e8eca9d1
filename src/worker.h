/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The background worker that runs queued deployments.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_WORKER_H
#define ZERODOWN_WORKER_H

#include "fmgr.h"

extern void ZdWorkerRegister(void);
extern PGDLLEXPORT void ZdWorkerMain(Datum main_arg);

#endif							/* ZERODOWN_WORKER_H */

/*-------------------------------------------------------------------------
 *
 * align.h
 *	  Running a plan's steps: each in a subtransaction, under a lock
 *	  timeout, retried when the lock does not come.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ALIGN_H
#define ZERODOWN_ALIGN_H

#include "plan.h"

extern ErrorData *ZdTryUnderLockTimeout(void (*work) (void *arg), void *arg,
										bool keep);
extern int	ZdRetryDelay(int attempt);
extern void ZdSleep(int ms);
extern void ZdRunStep(ZdStep *step, int from, int to, TimestampTz started,
					  int prior_attempts);
extern void ZdCheckNotInPatch(const char *function);

/* set while the worker runs a no-transaction patch's statement (worker.c) */
extern bool ZdRunningOutsideStep;

#endif							/* ZERODOWN_ALIGN_H */

/*-------------------------------------------------------------------------
 *
 * advice.h
 *	  What plan shows besides its steps: the lint findings of the steps,
 *	  and the locks and durations a dry run measured.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_ADVICE_H
#define ZERODOWN_ZD_ADVICE_H

#include "conn.h"
#include "step.h"

extern bool ZdPrintFindings(ZdSession *session, const char *target,
							const ZdPlanStep *steps, int nsteps,
							int *nfindings);
extern bool ZdPrintLockPlan(ZdSession *session, const char *target,
							int nsteps);

#endif							/* ZERODOWN_ZD_ADVICE_H */

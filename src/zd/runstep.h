/*-------------------------------------------------------------------------
 *
 * runstep.h
 *	  Running one step of a plan: a patch built or rolled back in its own
 *	  transaction, or statement by statement outside any.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_RUNSTEP_H
#define ZERODOWN_ZD_RUNSTEP_H

#include "session.h"

extern bool CliRunStep(CliSession *session, const CliPlanStep *step,
					   int *attempts);
extern char *CliShowStatement(CliSession *session, const char *sql,
							  const char *indent);

#endif							/* ZERODOWN_ZD_RUNSTEP_H */

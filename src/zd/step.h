/*-------------------------------------------------------------------------
 *
 * step.h
 *	  Running one step of a plan: a patch built or rolled back, in its own
 *	  transaction, or statement by statement outside any.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_STEP_H
#define ZERODOWN_ZD_STEP_H

#include "conn.h"

/* one row of zd_plan() */
typedef struct ZdPlanStep
{
	int			step;
	int			number;
	char	   *name;
	bool		rollback;
	bool		transactional;
	int			statements;
	char	   *file;
} ZdPlanStep;

/* the patch number the database stands at once the step is done */
#define ZD_STEP_REACHES(s)	((s)->rollback ? (s)->number - 1 : (s)->number)

extern bool ZdRunStep(ZdSession *session, const ZdPlanStep *step,
					  int *attempts);

#endif							/* ZERODOWN_ZD_STEP_H */

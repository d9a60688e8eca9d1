/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  The steps that take the database from its version to a target, every
 *	  one checked before the first runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_PLAN_H
#define ZERODOWN_PLAN_H

#include "catalog.h"

/* one step: a patch built or rolled back */
typedef struct ZdStep
{
	ZdPatch    *patch;
	bool		rollback;
	bool		transactional;
	char	   *file;			/* how messages name the file */
	List	   *statements;		/* ZdStatement *, placeholders filled */
	char	   *verify_file;
	List	   *verify;			/* ZdStatement *, build steps only */
	List	   *vars_used;		/* ZdVar *: the placeholders its texts use */
} ZdStep;

/* a plan: where the database stands, where it goes, and how */
typedef struct ZdPlan
{
	int			current;
	int			target;
	List	   *steps;			/* ZdStep * */
} ZdPlan;

extern bool ZdWarnRollbackText;

extern ZdPlan *ZdMakePlan(int target, bool target_is_null);
extern ZdStep *ZdNextStep(int number, bool rollback, int *current);
extern ZdPatch *ZdFindPatch(List *patches, int number);
extern ZdStep *ZdMakeStep(ZdPatch *patch, bool rollback, List *vars);
extern void ZdCheckTransactional(ZdPlan *plan);
extern ErrorData *ZdCheckRollbackText(ZdPatch *patch, List *vars);

#endif							/* ZERODOWN_PLAN_H */

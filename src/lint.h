/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  Statements known to hurt a live database, found in a plan's steps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_LINT_H
#define ZERODOWN_LINT_H

#include "plan.h"

/* one statement that would hurt, and the safe way to do it */
typedef struct ZdFinding
{
	int			line;
	const char *rule;
	char	   *statement;
	char	   *message;
	char	   *hint;
} ZdFinding;

extern List *ZdLintStep(ZdStep *step);

#endif							/* ZERODOWN_LINT_H */

/*-------------------------------------------------------------------------
 *
 * blockers.h
 *	  Who holds the locks a patch statement waited for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_BLOCKERS_H
#define ZERODOWN_BLOCKERS_H

#include "nodes/pg_list.h"

extern char *ZdDescribeBlockers(Node *parsetree);
extern List *ZdStatementRelations(Node *parsetree);

#endif							/* ZERODOWN_BLOCKERS_H */

/*-------------------------------------------------------------------------
 *
 * blockers.h
 *	  Who holds the locks a patch statement waited for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_BLOCKERS_H
#define ZERODOWN_BLOCKERS_H

#include "nodes/nodes.h"

extern char *ZdDescribeBlockers(Node *parsetree);

#endif							/* ZERODOWN_BLOCKERS_H */

/*-------------------------------------------------------------------------
 *
 * check.h
 *	  Safe-deploy checks that run patches and undo them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_CHECK_H
#define ZERODOWN_CHECK_H

#include "plan.h"

extern void ZdDryRunNotices(ZdPlan *plan);

#endif							/* ZERODOWN_CHECK_H */

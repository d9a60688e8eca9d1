/*-------------------------------------------------------------------------
 *
 * creation.h
 *	  Where a plan creates objects, and whether the deployer may.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_CREATION_H
#define ZERODOWN_CREATION_H

#include "plan.h"

extern void ZdCheckCreatePrivileges(ZdPlan *plan);

#endif							/* ZERODOWN_CREATION_H */

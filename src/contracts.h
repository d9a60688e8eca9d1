/*-------------------------------------------------------------------------
 *
 * contracts.h
 *	  A contract is irreversible: which patch expanded and which contracted
 *	  each expansion, and the refusal to roll back across a contract.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_CONTRACTS_H
#define ZERODOWN_CONTRACTS_H

#include "postgres.h"

/* the patch whose build step is running (ZdRunStep), or 0 */
extern int	ZdCurrentPatch;

extern void ZdRecordExpansionPatch(int64 id, bool contracted);
extern char *ZdContractBelow(int from, int to, int *number);
extern void ZdCheckNoContractBelow(int current, int target);

#endif							/* ZERODOWN_CONTRACTS_H */

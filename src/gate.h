/*-------------------------------------------------------------------------
 *
 * gate.h
 *	  The deployment gate: an advisory lock held exclusively by a deployer
 *	  and shared by managed jobs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_GATE_H
#define ZERODOWN_GATE_H

#include "datatype/timestamp.h"
#include "utils/guc.h"

extern void ZdGateInit(void);
extern bool ZdGateClose(int timeout_ms);
extern void ZdGateOpen(void);
extern char *ZdGateJobsText(TimestampTz before);
extern bool ZdGateHeldShared(void);
extern bool ZdCheckManaged(bool *newval, void **extra, GucSource source);

#endif							/* ZERODOWN_GATE_H */

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

extern void ZdGateInit(void);
extern bool ZdGateClose(int timeout_ms);
extern void ZdGateOpen(void);
extern char *ZdGateJobsText(void);
extern bool ZdGateHeldShared(void);

#endif							/* ZERODOWN_GATE_H */

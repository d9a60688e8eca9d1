/*-------------------------------------------------------------------------
 *
 * gate.h
 *	  zd gate status: the deployment gate and the managed jobs at it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_GATE_H
#define ZERODOWN_ZD_GATE_H

#include "zd.h"

/* returns the exit code */
extern int	ZdGateStatus(const ZdOptions *options);

#endif							/* ZERODOWN_ZD_GATE_H */

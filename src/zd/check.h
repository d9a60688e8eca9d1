/*-------------------------------------------------------------------------
 *
 * check.h
 *	  zd check: does each patch's rollback undo its build?
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_CHECK_H
#define ZERODOWN_ZD_CHECK_H

#include "zd.h"

/* returns the exit code; from NULL is 0, to NULL the highest patch */
extern int	ZdCheck(const ZdOptions *options, const char *from,
					const char *to);

#endif							/* ZERODOWN_ZD_CHECK_H */

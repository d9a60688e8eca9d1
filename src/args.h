/*-------------------------------------------------------------------------
 *
 * args.h
 *	  Checks of SQL-callable functions' arguments, shared by every module,
 *	  run before anything changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ARGS_H
#define ZERODOWN_ARGS_H

#include "fmgr.h"

/* the argument must not be NULL; hint says what to pass (NULL: generic) */
static inline void
ZdCheckArgNotNull(FunctionCallInfo fcinfo, int arg, const char *name,
				  const char *hint)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 hint ? errhint("%s", hint) :
				 errhint("Pass a value for the argument \"%s\".", name)));
}

static inline void
ZdCheckNotNull(FunctionCallInfo fcinfo, int arg, const char *name)
{
	ZdCheckArgNotNull(fcinfo, arg, name, NULL);
}

/* a timeout in milliseconds: NULL or 0 waits as long as it takes */
static inline int
ZdTimeoutArg(FunctionCallInfo fcinfo, int arg)
{
	int			timeout_ms;

	if (PG_ARGISNULL(arg))
		return 0;
	timeout_ms = PG_GETARG_INT32(arg);
	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must not be negative"),
				 errdetail("The timeout is in milliseconds; 0 waits as long as it takes.")));
	return timeout_ms;
}

#endif							/* ZERODOWN_ARGS_H */

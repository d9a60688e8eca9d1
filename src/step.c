/*-------------------------------------------------------------------------
 *
 * step.c
 *	  zd_step_statements and zd_step_done: a step run outside a transaction.
 *
 * A patch marked "-- zerodown:no-transaction" (CREATE INDEX CONCURRENTLY,
 * ...) cannot run inside a function.  The zd client takes its statements
 * from zd_step_statements, with placeholders filled, runs them one by one
 * in autocommit mode, then calls zd_step_done, which runs the verify and
 * records the step.  Both check that the step is the next one, so a client
 * cannot skip or repeat a patch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "patch.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(zd_step_statements);
PG_FUNCTION_INFO_V1(zd_step_done);

static inline bool CheckDirection(FunctionCallInfo fcinfo, int arg);

/*
 * zd_step_statements(number integer, direction text) returns table
 * (ordinal integer, line integer, statement text, file text)
 */
Datum
zd_step_statements(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ZdStep	   *step;
	ListCell   *lc;
	int			current;
	int			n = 0;

	ZdCheckNotNull(fcinfo, 0, "number");
	ZdCheckDeployer("run patches");
	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	step = ZdNextStep(PG_GETARG_INT32(0), CheckDirection(fcinfo, 1), &current);
	foreach(lc, step->statements)
	{
		ZdStatement *statement = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(++n);
		values[1] = Int32GetDatum(statement->line);
		values[2] = CStringGetTextDatum(statement->sql);
		values[3] = CStringGetTextDatum(step->file);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * zd_step_done(number integer, direction text, started_at timestamptz,
 * attempts integer) returns integer: the patch number the database stands
 * at afterwards
 */
Datum
zd_step_done(PG_FUNCTION_ARGS)
{
	ZdStep	   *step;
	int			current;
	int			reached;

	ZdCheckNotNull(fcinfo, 0, "number");
	ZdCheckNotNull(fcinfo, 2, "started_at");
	ZdCheckNotNull(fcinfo, 3, "attempts");
	ZdCheckNotInPatch("zd_step_done");
	ZdCheckDeployer("run patches");
	if (PG_GETARG_INT32(3) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attempts must be at least 1"),
				 errhint("Pass how many times the step's statements were tried, counting the run that succeeded.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("run patches");
	step = ZdNextStep(PG_GETARG_INT32(0), CheckDirection(fcinfo, 1), &current);
	step->statements = NIL;		/* they ran outside, in the client */
	ZdRunStep(step, current, step->patch->number - (step->rollback ? 1 : 0),
			  PG_GETARG_TIMESTAMPTZ(2), PG_GETARG_INT32(3) - 1);
	reached = step->patch->number - (step->rollback ? 1 : 0);
	SPI_finish();
	PG_RETURN_INT32(reached);
}

/* 'build' or 'rollback'; true for rollback */
static inline bool
CheckDirection(FunctionCallInfo fcinfo, int arg)
{
	char	   *direction;

	ZdCheckNotNull(fcinfo, arg, "direction");
	direction = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (strcmp(direction, "build") == 0)
		return false;
	if (strcmp(direction, "rollback") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid direction \"%s\"", direction),
			 errhint("Use 'build' or 'rollback'.")));
	return false;				/* keep compiler quiet */
}

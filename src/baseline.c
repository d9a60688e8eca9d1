/*-------------------------------------------------------------------------
 *
 * baseline.c
 *	  zd_baseline: adopting a database that another tool built.
 *
 * A team that starts using zerodown on a database whose first N patches
 * were applied long ago (by another tool, or by hand) registers its whole
 * history and marks 1..N applied without running them, as Flyway's
 * baseline and Sqitch's --log-only do.  The history says they were adopted,
 * not built: each gets a row with outcome 'adopted'.  zerodown cannot tell
 * whether the schema really is what patches 1..N build, so a baseline is
 * only for a database zerodown has never aligned: anything applied already
 * is refused, as are a target that is not registered and a gap below it.
 * Going below the baseline later runs the adopted patches' rollback files.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "plan.h"
#include "zerodown.h"

PG_FUNCTION_INFO_V1(zd_baseline);

static int	count_applied(void);
static inline void CheckBaselineTarget(int target);
static inline void CheckNothingApplied(int version, int applied, int target);
static inline void CheckNoDeploymentActive(void);

/*
 * zd_baseline(target integer) returns integer: the patch number the database
 * stands at afterwards
 */
Datum
zd_baseline(PG_FUNCTION_ARGS)
{
	Oid			types[2] = {INT4OID, NAMEOID};
	Datum		values[2];
	List	   *patches;
	int			target;
	int			version;
	int			applied;
	int			n;
	int			ret;

	ZdCheckArgNotNull(fcinfo, 0, "target",
					  "Name the highest patch the database already has, for example zd_baseline(300).");
	ZdCheckNotInPatch("zd_baseline");
	ZdCheckDeployer("adopt a database");
	target = PG_GETARG_INT32(0);
	CheckBaselineTarget(target);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("adopt a database");

	version = ZdReadVersion();
	applied = count_applied();
	if (version == target && applied == target)
	{
		ereport(NOTICE,
				(errmsg("the database stands at patch %d already; nothing to adopt", target)));
		SPI_finish();
		PG_RETURN_INT32(target);
	}
	CheckNothingApplied(version, applied, target);
	CheckNoDeploymentActive();

	patches = ZdReadPatches(1, target);
	for (n = 1; n <= target; n++)
		if (ZdFindPatch(patches, n) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("patch %d is not registered", n),
					 errdetail("A baseline at patch %d adopts patches 1 to %d, and patch %d is missing. Nothing was adopted.",
							   target, target, n),
					 errhint("Register every patch up to %d first (zd_register, zd_load, or the zd client), then adopt.",
							 target)));

	values[0] = Int32GetDatum(target);
	values[1] = ZdCallerName();
	ret = ZdCatalogExecute("INSERT INTO " ZD_APPLIED_TABLE
						   " (number, name, checksum, applied_at, applied_by)"
						   " SELECT number, name, checksum, pg_catalog.now(), $2"
						   " FROM " ZD_PATCHES_TABLE " WHERE number BETWEEN 1 AND $1",
						   2, types, values, NULL, 0);
	if (ret != SPI_OK_INSERT || SPI_processed != (uint64) target)
		elog(ERROR, "could not record the adopted patches: %s", SPI_result_code_string(ret));
	ret = ZdCatalogExecute("INSERT INTO " ZD_HISTORY_TABLE
						   " (number, name, direction, checksum, started_at, duration, attempts, outcome, role)"
						   " SELECT number, name, 'build', checksum, pg_catalog.now(), '0'::interval, 0, 'adopted', $2"
						   " FROM " ZD_PATCHES_TABLE " WHERE number BETWEEN 1 AND $1"
						   " ORDER BY number",
						   2, types, values, NULL, 0);
	if (ret != SPI_OK_INSERT || SPI_processed != (uint64) target)
		elog(ERROR, "could not record the history of the adopted patches: %s",
			 SPI_result_code_string(ret));

	SPI_finish();
	PG_RETURN_INT32(target);
}

/* how many patches are recorded as applied */
static int
count_applied(void)
{
	bool		isnull;
	int			ret;

	ret = ZdCatalogExecute("SELECT count(*)::integer FROM " ZD_APPLIED_TABLE,
						   0, NULL, NULL, NULL, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the applied patches: %s", SPI_result_code_string(ret));
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static inline void
CheckBaselineTarget(int target)
{
	if (target < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("baseline target %d is out of range", target),
				 errdetail("A baseline adopts patches 1 to target, so the target is at least 1."),
				 errhint("Name the highest patch the database already has.")));
}

static inline void
CheckNothingApplied(int version, int applied, int target)
{
	if (applied > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot adopt a database that stands at patch %d", version),
				 errdetail("%d patch%s recorded as applied. A baseline adopts a database zerodown has never aligned; nothing was adopted.",
						   applied, applied == 1 ? " is" : "es are"),
				 version < target ?
				 errhint("Align to patch %d with zd_align, which runs the patches in between.", target) :
				 errhint("Align with zd_align; a baseline cannot move an aligned database.")));
}

/* a queued deployment would start from patch 0 */
static inline void
CheckNoDeploymentActive(void)
{
	int			ret;

	ret = ZdCatalogExecute("SELECT id, state FROM " ZD_DEPLOYMENTS_TABLE
						   " WHERE state IN ('queued', 'draining', 'applying') ORDER BY id LIMIT 1",
						   0, NULL, NULL, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read deployments: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot adopt a database while deployment %s is %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
				 errdetail("The deployment was planned from patch 0. Nothing was adopted."),
				 errhint("Cancel it with zd_deploy_cancel(id), or wait for it to end.")));
}

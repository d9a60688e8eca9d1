/*-------------------------------------------------------------------------
 *
 * repair.c
 *	  Replacing the rollback of an applied patch when the registered one
 *	  cannot run.
 *
 * An applied patch is immutable: the database was built with its text, and
 * changing it would make the history lie.  A build does not need its
 * patch's rollback, so a patch whose rollback does not parse (a missing
 * ";", as real histories have) or names an unknown placeholder is applied,
 * with a warning (plan.c).  Without an exception, that rollback could never
 * be fixed, and the database could never go below the patch.  So the
 * rollback alone of an applied patch may be replaced, when the registered
 * one cannot run -- it never ran, so no history is rewritten -- and the new
 * one can: the name, build and verify stay as they were applied.  The
 * applied checksum follows, so the patch shows no drift, and the history
 * gets a row with outcome 'repaired'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "plan.h"
#include "repair.h"
#include "zerodown.h"

static bool same_text(const char *a, const char *b);

/*
 * May the applied patch number take this text?  Only when everything but
 * the rollback is as registered, the registered text is the one it was
 * applied with, the registered rollback cannot run and the new one can.
 * The caller is connected to SPI (SPI_tuptable is replaced).
 */
bool
ZdRollbackRepairable(int number, const char *name, const char *build_sql,
					 const char *rollback_sql, const char *verify_sql)
{
	List	   *patches = ZdReadPatches(number, number);
	List	   *vars;
	ZdPatch    *old;
	ZdPatch		new;
	ErrorData  *old_error;

	if (patches == NIL)
		return false;
	old = linitial(patches);
	if (!old->applied || strcmp(old->checksum, old->applied_checksum) != 0 ||
		strcmp(old->name, name) != 0 || strcmp(old->build_sql, build_sql) != 0 ||
		!same_text(old->verify_sql, verify_sql) ||
		old->rollback_sql == NULL || rollback_sql == NULL ||
		same_text(old->rollback_sql, rollback_sql))
		return false;

	vars = ZdReadVars();
	old_error = ZdCheckRollbackText(old, vars);
	if (old_error == NULL)
		return false;
	new = *old;
	new.rollback_sql = (char *) rollback_sql;
	if (ZdCheckRollbackText(&new, vars) != NULL)
		return false;
	ereport(NOTICE,
			(errmsg("the rollback of applied patch %d \"%s\" is replaced", number, name),
			 errdetail("The registered rollback could not run (%s), so it never ran; the build it was applied with is unchanged.",
					   old_error->message)));
	return true;
}

/*
 * Record the repair: the applied checksum follows the new text, and the
 * history says so.  The caller is connected to SPI.
 */
void
ZdRecordRollbackRepair(int number, const char *name, const char *checksum)
{
	Oid			types[4] = {INT4OID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[4];
	int			ret;

	values[0] = Int32GetDatum(number);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(checksum);
	values[3] = ZdCallerName();
	ret = ZdCatalogExecute("UPDATE " ZD_APPLIED_TABLE " SET checksum = $3 WHERE number = $1",
						   3, types, values, NULL, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not record the repaired rollback of patch %d: %s", number,
			 SPI_result_code_string(ret));
	ret = ZdCatalogExecute("INSERT INTO " ZD_HISTORY_TABLE
						   " (number, name, direction, checksum, started_at, duration, attempts, outcome, error, role)"
						   " VALUES ($1, $2, 'rollback', $3, pg_catalog.now(), '0'::interval, 0, 'repaired',"
						   "  'the registered rollback could not run and was replaced', $4)",
						   4, types, values, NULL, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record the history of patch %d: %s", number,
			 SPI_result_code_string(ret));
}

static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

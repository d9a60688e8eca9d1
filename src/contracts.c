/*-------------------------------------------------------------------------
 *
 * contracts.c
 *	  A contract is irreversible.
 *
 * zd_contract drops the old shape of a table -- the old columns, with their
 * data -- and the triggers that kept it in step.  No rollback file can bring
 * that data back, and the patches below it cannot run on what is left: the
 * expand patch's rollback (zd_abort) refuses a contracted expansion, and
 * building the backfill patch again refuses it too, so a database rolled
 * back across a contract was stuck in both directions.  zerodown therefore
 * treats the patch that contracted an expansion as irreversible, as it
 * treats a patch registered without rollback: a plan that would roll it
 * back is refused before anything runs, and zd_check reports it as
 * irreversible.  To bring the old shape back, a new patch adds it and fills
 * it.
 *
 * zerodown.expansions records which patch expanded and which contracted
 * each expansion (ZdCurrentPatch, set while a build step runs).  An
 * expansion contracted outside any patch makes the patch that expanded it
 * irreversible instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "contracts.h"
#include "expand.h"
#include "zerodown.h"

int			ZdCurrentPatch = 0;

/*
 * Record the patch running now (if any) as the one that expanded or
 * contracted expansion id.  The caller is connected to SPI.
 */
void
ZdRecordExpansionPatch(int64 id, bool contracted)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2];
	int			ret;

	if (ZdCurrentPatch == 0)
		return;
	values[0] = Int64GetDatum(id);
	values[1] = Int32GetDatum(ZdCurrentPatch);
	ret = ZdCatalogExecute(contracted ?
						   "UPDATE " ZD_EXPANSIONS_TABLE " SET contracted_by_patch = $2 WHERE id = $1" :
						   "UPDATE " ZD_EXPANSIONS_TABLE " SET expanded_by_patch = $2 WHERE id = $1",
						   2, types, values, NULL, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not record the patch of expansion " INT64_FORMAT ": %s",
			 id, SPI_result_code_string(ret));
}

/*
 * The highest patch numbered from..to that a contract makes irreversible:
 * its number in *number, and why, as "patch N "name" ..." for a message;
 * NULL when there is none.  The caller is connected to SPI.
 */
char *
ZdContractBelow(int from, int to, int *number)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(from), Int32GetDatum(to)};
	bool		isnull;
	int			ret;

	ret = ZdCatalogExecute("SELECT p.number,"
								"  CASE WHEN e.contracted_by_patch IS NOT NULL"
								"   THEN pg_catalog.format('Patch %s \"%s\" contracted expansion %s of %s (%s)',"
								"    p.number, p.name, e.id, e.table_name, pg_catalog.array_to_string(e.old_columns, ', '))"
								"   ELSE pg_catalog.format('Patch %s \"%s\" expanded expansion %s of %s (%s), which was contracted outside any patch',"
								"    p.number, p.name, e.id, e.table_name, pg_catalog.array_to_string(e.old_columns, ', '))"
								"  END"
								" FROM " ZD_EXPANSIONS_TABLE " e"
								" JOIN " ZD_PATCHES_TABLE " p"
								"  ON p.number = coalesce(e.contracted_by_patch, e.expanded_by_patch)"
								" WHERE e.state = 'contracted'"
								"  AND (e.contracted_by_patch BETWEEN $1 AND $2"
								"       OR e.contracted_by_patch IS NULL AND e.expanded_by_patch BETWEEN $1 AND $2)"
								" ORDER BY 1 DESC, e.id DESC LIMIT 1",
								2, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read zerodown expansions: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;
	*number = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
}

/*
 * Refuse, before anything runs, to go from current down to target across a
 * contract.
 */
void
ZdCheckNoContractBelow(int current, int target)
{
	char	   *why;
	int			number;

	if (target >= current)
		return;
	why = ZdContractBelow(target + 1, current, &number);
	if (why == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot roll back patch %d: a contract is irreversible", number),
			 errdetail("%s. A contract dropped the old shape and its data, and the patches below it cannot run on what is left, so going below patch %d to patch %d is refused. Nothing was run.",
					   why, number, target),
			 errhint("Choose a target of %d or above. To bring the old shape back, write a new patch that adds it and fills it.",
					 number)));
}

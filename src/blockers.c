/*-------------------------------------------------------------------------
 *
 * blockers.c
 *	  Who holds the locks a patch statement waited for.
 *
 * When a statement gives up at lock_timeout its lock request is gone, so
 * pg_blocking_pids() has nothing left to inspect.  Instead we name the
 * sessions holding locks on the relations the statement names (from its raw
 * parse tree), with their application, how long their transaction has been
 * open and their query.  When the statement names no relation we know, the
 * oldest open transactions of the database are the usual suspects.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "blockers.h"
#include "catalog.h"

static List *append_relation(List *oids, RangeVar *rv);
static char *describe(const char *query, int nargs, Oid *types, Datum *values);

char *
ZdDescribeBlockers(Node *parsetree)
{
	List	   *oids = ZdStatementRelations(parsetree);
	char	   *result;

	if (oids != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(oids));
		Oid			types[1] = {OIDARRAYOID};
		Datum		values[1];
		ListCell   *lc;
		int			i = 0;

		foreach(lc, oids)
			elems[i++] = ObjectIdGetDatum(lfirst_oid(lc));
		values[0] = PointerGetDatum(construct_array(elems, i, OIDOID,
													sizeof(Oid), true,
													TYPALIGN_INT));
		result = describe("SELECT format('pid %s (application \"%s\", %s, transaction open %s) holds %s on %s: %s',"
						  "  l.pid, a.application_name, a.state,"
						  "  date_trunc('second', clock_timestamp() - a.xact_start),"
						  "  string_agg(DISTINCT l.mode, ', '), l.relation::regclass,"
						  "  left(a.query, 200))"
						  " FROM pg_catalog.pg_locks l"
						  " JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
						  " WHERE l.granted AND l.locktype = 'relation'"
						  "  AND l.pid <> pg_catalog.pg_backend_pid()"
						  "  AND l.relation = ANY ($1)"
						  " GROUP BY l.pid, a.application_name, a.state, a.xact_start,"
						  "  l.relation, a.query"
						  " ORDER BY a.xact_start NULLS LAST",
						  1, types, values);
		if (result != NULL)
			return result;
	}

	result = describe("SELECT format('pid %s (application \"%s\", %s, transaction open %s): %s',"
					  "  pid, application_name, state,"
					  "  date_trunc('second', clock_timestamp() - xact_start),"
					  "  left(query, 200))"
					  " FROM pg_catalog.pg_stat_activity"
					  " WHERE datname = pg_catalog.current_database()"
					  "  AND pid <> pg_catalog.pg_backend_pid()"
					  "  AND xact_start IS NOT NULL"
					  " ORDER BY xact_start LIMIT 3",
					  0, NULL, NULL);
	if (result != NULL)
		return psprintf("The oldest open transactions: %s", result);
	return pstrdup("No other session holds a lock on the relations it names any more.");
}

/* one line per row of a query that returns text, joined by "; " */
static char *
describe(const char *query, int nargs, Oid *types, Datum *values)
{
	StringInfoData buf;
	uint64		i;
	int			ret;

	ret = ZdExecutePinned(query, nargs, types, values, NULL, 10);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read lock holders: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;

	initStringInfo(&buf);
	for (i = 0; i < SPI_processed; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? "; " : "",
						 SPI_getvalue(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1));
	return buf.data;
}

/* the relations a statement names, for the statements patches use most */
List *
ZdStatementRelations(Node *parsetree)
{
	List	   *oids = NIL;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				oids = append_relation(oids, stmt->relation);
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->def && IsA(cmd->def, Constraint) &&
						((Constraint *) cmd->def)->contype == CONSTR_FOREIGN)
						oids = append_relation(oids, ((Constraint *) cmd->def)->pktable);
				}
				break;
			}
		case T_IndexStmt:
			oids = append_relation(oids, ((IndexStmt *) parsetree)->relation);
			break;
		case T_RenameStmt:
			oids = append_relation(oids, ((RenameStmt *) parsetree)->relation);
			break;
		case T_CreateTrigStmt:
			oids = append_relation(oids, ((CreateTrigStmt *) parsetree)->relation);
			break;
		case T_RuleStmt:
			oids = append_relation(oids, ((RuleStmt *) parsetree)->relation);
			break;
		case T_InsertStmt:
			oids = append_relation(oids, ((InsertStmt *) parsetree)->relation);
			break;
		case T_UpdateStmt:
			oids = append_relation(oids, ((UpdateStmt *) parsetree)->relation);
			break;
		case T_DeleteStmt:
			oids = append_relation(oids, ((DeleteStmt *) parsetree)->relation);
			break;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) parsetree)->relations)
				oids = append_relation(oids, lfirst_node(RangeVar, lc));
			break;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) parsetree)->relations)
				oids = append_relation(oids, lfirst_node(RangeVar, lc));
			break;
		case T_CreateStmt:
			foreach(lc, ((CreateStmt *) parsetree)->inhRelations)
				oids = append_relation(oids, lfirst_node(RangeVar, lc));
			foreach(lc, ((CreateStmt *) parsetree)->tableElts)
			{
				ListCell   *lc2;

				if (!IsA(lfirst(lc), ColumnDef))
					continue;
				foreach(lc2, ((ColumnDef *) lfirst(lc))->constraints)
				{
					Constraint *con = lfirst(lc2);

					if (con->contype == CONSTR_FOREIGN)
						oids = append_relation(oids, con->pktable);
				}
			}
			break;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType != OBJECT_TABLE &&
					stmt->removeType != OBJECT_INDEX &&
					stmt->removeType != OBJECT_VIEW &&
					stmt->removeType != OBJECT_MATVIEW &&
					stmt->removeType != OBJECT_SEQUENCE)
					break;
				foreach(lc, stmt->objects)
					oids = append_relation(oids, makeRangeVarFromNameList(lfirst(lc)));
				break;
			}
		default:
			break;
	}
	return oids;
}

static List *
append_relation(List *oids, RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return oids;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		oids = list_append_unique_oid(oids, relid);
	return oids;
}

/*-------------------------------------------------------------------------
 *
 * check.c
 *	  Safe-deploy checks that run patches and undo them: the dry run
 *	  (zd_dry_run, zd_align(..., dry_run => true)) and the rollback round
 *	  trip (zd_check).
 *
 * Both run the real patches on the real database inside a subtransaction
 * that is rolled back at the end, so the database, its history and its
 * version are unchanged afterwards.  Patches marked no-transaction cannot
 * run inside a transaction, so they are reported and not run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "align.h"
#include "blockers.h"
#include "catalog.h"
#include "check.h"
#include "contracts.h"
#include "patch.h"
#include "plan.h"

/*
 * The schema objects a rollback must restore, one line each: schemas,
 * relations and their owners, columns, indexes, constraints, functions,
 * views, sequences, triggers, types, row level security and policies,
 * extensions, default privileges and grants (on schemas, relations,
 * columns and functions), outside the system schemas and the objects of
 * extensions.
 */
#define ZD_FINGERPRINT_QUERY \
"WITH ns AS (" \
"  SELECT oid, nspname, nspacl FROM pg_catalog.pg_namespace" \
"   WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'zerodown')" \
"     AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'" \
"     AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = pg_namespace.oid AND d.deptype = 'e')" \
"), rel AS (" \
"  SELECT c.* FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace" \
"   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')" \
") " \
"SELECT 'schema ' || quote_ident(nspname) FROM ns " \
"UNION ALL SELECT 'grant on schema ' || quote_ident(nspname) || ': ' || nspacl::text FROM ns WHERE nspacl IS NOT NULL " \
"UNION ALL SELECT CASE relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'f' THEN 'foreign table ' ELSE 'relation ' END || oid::regclass FROM rel WHERE relkind IN ('r', 'p', 'v', 'm', 'f') " \
"UNION ALL SELECT 'column ' || a.attrelid::regclass || '.' || quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')" \
"  FROM pg_catalog.pg_attribute a JOIN rel ON rel.oid = a.attrelid LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum" \
"  WHERE a.attnum > 0 AND NOT a.attisdropped AND rel.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') " \
"UNION ALL SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i JOIN rel ON rel.oid = i.indexrelid " \
"UNION ALL SELECT 'constraint ' || quote_ident(co.conname) || ' on ' || co.conrelid::regclass || ': ' || pg_catalog.pg_get_constraintdef(co.oid) FROM pg_catalog.pg_constraint co JOIN rel ON rel.oid = co.conrelid " \
"UNION ALL SELECT 'view ' || oid::regclass || ' as ' || pg_catalog.md5(pg_catalog.pg_get_viewdef(oid)) FROM rel WHERE relkind IN ('v', 'm') " \
"UNION ALL SELECT 'sequence ' || s.seqrelid::regclass || ' ' || s.seqtypid::regtype || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' owned by ' || rel.relowner::regrole FROM pg_catalog.pg_sequence s JOIN rel ON rel.oid = s.seqrelid " \
"UNION ALL SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) FROM pg_catalog.pg_trigger t JOIN rel ON rel.oid = t.tgrelid WHERE NOT t.tgisinternal " \
"UNION ALL SELECT 'grant on ' || oid::regclass || ': ' || relacl::text FROM rel WHERE relacl IS NOT NULL " \
"UNION ALL SELECT 'grant on column ' || a.attrelid::regclass || '.' || quote_ident(a.attname) || ': ' || a.attacl::text FROM pg_catalog.pg_attribute a JOIN rel ON rel.oid = a.attrelid WHERE a.attacl IS NOT NULL AND NOT a.attisdropped " \
"UNION ALL SELECT 'row level security on ' || oid::regclass || CASE WHEN relforcerowsecurity THEN ' (forced)' ELSE '' END FROM rel WHERE relrowsecurity " \
"UNION ALL SELECT 'policy ' || quote_ident(p.polname) || ' on ' || p.polrelid::regclass || ': ' || p.polcmd::text || ' ' || p.polpermissive::text || ' ' || p.polroles::text || ' ' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') FROM pg_catalog.pg_policy p JOIN rel ON rel.oid = p.polrelid " \
"UNION ALL SELECT 'default privileges of ' || d.defaclrole::regrole || coalesce(' in schema ' || d.defaclnamespace::regnamespace, '') || ' for ' || d.defaclobjtype::text || ': ' || d.defaclacl::text FROM pg_catalog.pg_default_acl d " \
"UNION ALL SELECT 'extension ' || quote_ident(extname) FROM pg_catalog.pg_extension WHERE extname NOT IN ('plpgsql', 'zerodown') " \
"UNION ALL SELECT 'function ' || p.oid::regprocedure || ' owned by ' || p.proowner::regrole || ' returns ' || p.prorettype::regtype || ' as ' || pg_catalog.md5(coalesce(p.prosrc, '') || coalesce(p.probin, '') || coalesce(array_to_string(p.proconfig, ','), '')) || ' ' || p.provolatile::text || CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END" \
"  FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace" \
"  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') " \
"UNION ALL SELECT 'grant on function ' || p.oid::regprocedure || ': ' || p.proacl::text FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace WHERE p.proacl IS NOT NULL" \
"  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') " \
"UNION ALL SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || coalesce(' (' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || ')', '')" \
"  FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace" \
"  WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))" \
"ORDER BY 1"

/* one result row of a dry run or a check, built while the work runs */
typedef struct CheckRow
{
	ZdStep	   *step;
	double		ms;
	List	   *items;			/* text lines: locks taken, or differences */
	const char *result;
	ErrorData  *error;			/* the error that ended the work here */
} CheckRow;

/* the tables that exist before a dry run, with their names then */
typedef struct TableSet
{
	Datum		oids;			/* oid[] */
	List	   *relids;
	List	   *names;
} TableSet;

/* a relation lock this backend holds; rank orders the lock modes */
typedef struct HeldLock
{
	Oid			relid;
	int			rank;
} HeldLock;

static const char *const lock_mode_names[] = {
	"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
	"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"
};

PG_FUNCTION_INFO_V1(zd_dry_run);
PG_FUNCTION_INFO_V1(zd_check);

static List *dry_run(ZdPlan *plan);
static List *round_trip(int from, int to);
static TableSet *existing_tables(void);
static List *own_locks(TableSet *tables);
static List *locks_taken(List *named, List *before, List *after, TableSet *tables);
static List *step_relations(ZdStep *step);
static List *rollback_differences(ZdStep *rollback, List *before);
static List *fingerprint(void);
static List *list_difference_text(List *a, List *b, const char *prefix);
static Datum text_array(List *items);
static void run_in_rolled_back_subtransaction(List *(*work) (void *), void *arg,
											  List **rows);
static List *dry_run_work(void *arg);
static List *round_trip_work(void *arg);
static inline void CheckRange(int from, int to);

/* the rows gathered so far, kept when the work fails part way */
static List *partial_rows = NIL;

/*
 * zd_dry_run(target integer) returns table (step, number, name, direction,
 * milliseconds, locks, result)
 */
Datum
zd_dry_run(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ZdPlan	   *plan;
	List	   *rows;
	ListCell   *lc;
	int			n = 0;

	ZdCheckNotInPatch("zd_dry_run");
	ZdCheckDeployer("run patches");
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("run patches");
	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	rows = dry_run(plan);

	foreach(lc, rows)
	{
		CheckRow   *row = lfirst(lc);
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = Int32GetDatum(++n);
		values[1] = Int32GetDatum(row->step->patch->number);
		values[2] = CStringGetTextDatum(row->step->patch->name);
		values[3] = CStringGetTextDatum(row->step->rollback ? "rollback" : "build");
		values[4] = Float8GetDatum(row->ms);
		values[5] = text_array(row->items);
		values[6] = CStringGetTextDatum(row->result);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * Used by zd_align(target, dry_run => true): the dry run's rows as NOTICEs,
 * and the error of a step that failed.
 */
void
ZdDryRunNotices(ZdPlan *plan)
{
	List	   *rows = dry_run(plan);
	ListCell   *lc;

	foreach(lc, rows)
	{
		CheckRow   *row = lfirst(lc);
		StringInfoData locks;
		ListCell   *lc2;

		initStringInfo(&locks);
		foreach(lc2, row->items)
			appendStringInfo(&locks, "%s%s", locks.len > 0 ? ", " : "",
							 (char *) lfirst(lc2));
		ereport(NOTICE,
				(errmsg("dry run: %s patch %d \"%s\": %s in %.1f ms",
						row->step->rollback ? "rollback of" : "build of",
						row->step->patch->number, row->step->patch->name,
						row->result, row->ms),
				 errdetail("Locks taken: %s.", locks.len > 0 ? locks.data : "none")));
	}
	/* a step that fails in a dry run fails zd_align as it would for real */
	if (rows != NIL && ((CheckRow *) llast(rows))->error != NULL)
		ReThrowError(((CheckRow *) llast(rows))->error);
}

static List *
dry_run(ZdPlan *plan)
{
	List	   *rows = NIL;

	run_in_rolled_back_subtransaction(dry_run_work, plan, &rows);
	return rows;
}

/* run each step and note how long it took and which locks it took */
static List *
dry_run_work(void *arg)
{
	ZdPlan	   *plan = arg;
	TableSet   *tables = existing_tables();
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);
		CheckRow   *row = palloc0(sizeof(CheckRow));
		List	   *named;
		List	   *before;
		TimestampTz start;

		row->step = step;
		row->result = "failed";
		partial_rows = lappend(partial_rows, row);
		if (!step->transactional)
		{
			row->result = "not run: no-transaction patch";
			break;
		}
		named = step_relations(step);
		before = own_locks(tables);
		start = GetCurrentTimestamp();
		ZdRunStep(step, plan->current, plan->target, start, 0);
		row->ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
		row->items = locks_taken(named, before, own_locks(tables), tables);
		row->result = "ok";
	}
	return partial_rows;
}

/*
 * zd_check(from integer, to integer) returns table (number, name, result,
 * differences)
 */
Datum
zd_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *rows;
	ListCell   *lc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("from and to must not be NULL"),
				 errhint("Check patches from+1 to to, for example zd_check(0, zd_version()).")));
	ZdCheckNotInPatch("zd_check");
	ZdCheckDeployer("run patches");
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("run patches");
	rows = round_trip(PG_GETARG_INT32(0), PG_GETARG_INT32(1));

	foreach(lc, rows)
	{
		CheckRow   *row = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(row->step->patch->number);
		values[1] = CStringGetTextDatum(row->step->patch->name);
		values[2] = CStringGetTextDatum(row->result);
		values[3] = text_array(row->items);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

typedef struct RoundTrip
{
	int			from;
	int			to;
} RoundTrip;

static List *
round_trip(int from, int to)
{
	RoundTrip	range = {from, to};
	List	   *rows = NIL;

	/* a rollback that cannot run is a row of the result, not a warning */
	ZdWarnRollbackText = false;
	PG_TRY();
	{
		run_in_rolled_back_subtransaction(round_trip_work, &range, &rows);
	}
	PG_FINALLY();
	{
		ZdWarnRollbackText = true;
	}
	PG_END_TRY();
	return rows;
}

/*
 * Align to "from"; then for each patch: fingerprint, build, roll back,
 * fingerprint again and compare, build again for the next one.
 */
static List *
round_trip_work(void *arg)
{
	RoundTrip  *range = arg;
	ZdPlan	   *plan;
	ListCell   *lc;
	int			n;
	int			current;

	CheckRange(range->from, range->to);
	(void) ZdMakePlan(range->to, false);	/* "to" must exist */
	plan = ZdMakePlan(range->from, false);
	ZdCheckTransactional(plan);
	foreach(lc, plan->steps)
		ZdRunStep(lfirst(lc), plan->current, plan->target, GetCurrentTimestamp(), 0);

	for (n = range->from + 1; n <= range->to; n++)
	{
		ZdStep	   *build = ZdNextStep(n, false, &current);
		ZdStep	   *rollback;
		CheckRow   *row = palloc0(sizeof(CheckRow));
		List	   *before;
		ErrorData  *rollback_error;
		char	   *contracted;
		int			contract_patch;

		row->step = build;
		row->result = "check failed";
		partial_rows = lappend(partial_rows, row);
		if (!build->transactional)
		{
			row->result = "not run: no-transaction patch";
			break;
		}
		if (build->patch->rollback_sql == NULL)
		{
			row->result = "irreversible";
			ZdRunStep(build, current, n, GetCurrentTimestamp(), 0);
			continue;
		}
		rollback_error = ZdCheckRollbackText(build->patch, ZdReadVars());
		if (rollback_error != NULL)
		{
			/* a finding, and the check goes on with the next patch */
			row->result = "rollback failed";
			row->items = list_make1(rollback_error->message);
			ZdRunStep(build, current, n, GetCurrentTimestamp(), 0);
			continue;
		}

		before = fingerprint();
		row->result = "build failed";
		ZdRunStep(build, current, n, GetCurrentTimestamp(), 0);

		/* a contract is irreversible, whatever its rollback file says */
		contracted = ZdContractBelow(n, n, &contract_patch);
		if (contracted != NULL)
		{
			row->result = "irreversible";
			row->items = list_make1(contracted);
			continue;
		}

		rollback = ZdNextStep(n, true, &current);
		if (!rollback->transactional)
		{
			row->result = "not run: no-transaction rollback";
			break;
		}
		row->result = "rollback failed";
		row->items = rollback_differences(rollback, before);
		if (row->items != NIL)
		{
			/* the rollback was undone; the database is at n again */
			row->result = "rollback does not undo the build";
			continue;
		}
		row->result = "build after rollback failed";
		ZdRunStep(ZdNextStep(n, false, &current), n - 1, n, GetCurrentTimestamp(), 0);
		row->result = "ok";
	}
	return partial_rows;
}

/*
 * Run a rollback in a subtransaction and compare the schema with the one
 * before the build.  When they differ, the subtransaction is rolled back, so
 * the database stands at the patch again without a rebuild that the
 * leftovers would break; when they match, the rollback stays.
 */
static List *
rollback_differences(ZdStep *rollback, List *before)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List	   *after;
	List	   *differences;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	ZdRunStep(rollback, rollback->patch->number, rollback->patch->number - 1,
			  GetCurrentTimestamp(), 0);
	after = fingerprint();
	differences = list_concat(list_difference_text(after, before, "left behind: "),
							  list_difference_text(before, after, "missing: "));
	if (differences != NIL)
		RollbackAndReleaseCurrentSubTransaction();
	else
		ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
	return differences;
}

/*
 * Run work in a subtransaction and always roll it back.  An error ends the
 * work: the rows gathered so far are kept, and the last one says where and
 * why it failed.
 */
static void
run_in_rolled_back_subtransaction(List *(*work) (void *), void *arg, List **rows)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			level;

	partial_rows = NIL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	level = GetCurrentTransactionNestLevel();
	PG_TRY();
	{
		*rows = work(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		CheckRow   *last;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		while (GetCurrentTransactionNestLevel() >= level)
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		*rows = partial_rows;
		partial_rows = NIL;
		/* a cancel stops the whole run; it is no step's result */
		if (*rows == NIL || edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		last = llast(*rows);
		last->error = edata;
		last->items = lappend(last->items,
							  edata->detail ?
							  psprintf("%s (%s)", edata->message, edata->detail) :
							  edata->message);
		return;
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
	partial_rows = NIL;
}

/*
 * The tables, views and materialized views that exist before a dry run: the
 * ones the application uses.  Relations a patch creates, and the transient
 * ones a table rewrite makes, have no traffic to block.  Their names are
 * taken now, so that a table a step drops is still named.
 */
static TableSet *
existing_tables(void)
{
	TableSet   *set = palloc0(sizeof(TableSet));
	Datum	   *elems;
	uint64		i;
	int			ret;

	ret = ZdExecutePinned("SELECT c.oid, c.oid::regclass::text FROM pg_catalog.pg_class c"
					  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
					  " WHERE c.relkind IN ('r', 'p', 'm', 'v', 'f')"
					  "  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'zerodown')"
					  "  AND n.nspname NOT LIKE 'pg\\_toast%'"
					  " ORDER BY 2",
					  0, NULL, NULL, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list tables: %s", SPI_result_code_string(ret));
	elems = palloc(sizeof(Datum) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		elems[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		set->relids = lappend_oid(set->relids, DatumGetObjectId(elems[i]));
		set->names = lappend(set->names,
							 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	set->oids = PointerGetDatum(construct_array(elems, (int) SPI_processed, OIDOID,
												sizeof(Oid), true, TYPALIGN_INT));
	return set;
}

/* the relation locks this backend holds on the given tables */
static List *
own_locks(TableSet *tables)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1] = {tables->oids};
	List	   *locks = NIL;
	uint64		i;
	int			ret;

	ret = ZdExecutePinned("SELECT l.relation, array_position(ARRAY["
								"  'AccessShareLock', 'RowShareLock', 'RowExclusiveLock',"
								"  'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',"
								"  'ExclusiveLock', 'AccessExclusiveLock'], l.mode)"
								" FROM pg_catalog.pg_locks l"
								" WHERE l.pid = pg_catalog.pg_backend_pid() AND l.granted"
								"  AND l.locktype = 'relation' AND l.relation = ANY ($1)",
								1, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read own locks: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		HeldLock   *lock = palloc(sizeof(HeldLock));
		bool		isnull;

		lock->relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1, &isnull));
		lock->rank = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 2, &isnull));
		locks = lappend(locks, lock);
	}
	return locks;
}

/* the existing relations a step's statements name */
static List *
step_relations(ZdStep *step)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, step->statements)
		relids = list_concat_unique_oid(relids,
										ZdStatementRelations(((ZdStatement *) lfirst(lc))->parsetree));
	return relids;
}

/*
 * "ACCESS EXCLUSIVE on public.users" for each table the step locked: the
 * strongest mode it newly took on the table, or, on a table its statements
 * name, the strongest mode held (an earlier step of the same dry run may
 * have taken it first; deployed, each step takes its locks anew).
 */
static List *
locks_taken(List *named, List *before, List *after, TableSet *tables)
{
	List	   *taken = NIL;
	ListCell   *lr;
	ListCell   *ln;

	forboth(lr, tables->relids, ln, tables->names)
	{
		Oid			relid = lfirst_oid(lr);
		int			new_rank = 0;
		int			held_rank = 0;
		ListCell   *la;

		foreach(la, after)
		{
			HeldLock   *lock = lfirst(la);
			bool		held_before = false;
			ListCell   *lb;

			if (lock->relid != relid)
				continue;
			held_rank = Max(held_rank, lock->rank);
			foreach(lb, before)
			{
				HeldLock   *old = lfirst(lb);

				if (old->relid == relid && old->rank == lock->rank)
					held_before = true;
			}
			if (!held_before)
				new_rank = Max(new_rank, lock->rank);
		}
		if (new_rank == 0 && list_member_oid(named, relid))
			new_rank = held_rank;
		if (new_rank > 0)
			taken = lappend(taken, psprintf("%s on %s", lock_mode_names[new_rank],
											(char *) lfirst(ln)));
	}
	return taken;
}

static List *
fingerprint(void)
{
	List	   *lines = NIL;
	uint64		i;
	int			ret;

	ret = ZdExecutePinned(ZD_FINGERPRINT_QUERY, 0, NULL, NULL, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the schema fingerprint: %s",
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
		lines = lappend(lines, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return lines;
}

/* the lines of a that are not in b, each with a prefix */
static List *
list_difference_text(List *a, List *b, const char *prefix)
{
	List	   *result = NIL;
	ListCell   *la;

	foreach(la, a)
	{
		ListCell   *lb;
		bool		found = false;

		foreach(lb, b)
			if (strcmp(lfirst(la), lfirst(lb)) == 0)
			{
				found = true;
				break;
			}
		if (!found)
			result = lappend(result, psprintf("%s%s", prefix, (char *) lfirst(la)));
	}
	return result;
}

static Datum
text_array(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(items) + 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, items)
		elems[i++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

static inline void
CheckRange(int from, int to)
{
	if (from < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from (%d) must not be negative", from),
				 errhint("zd_check(from, to) checks patches from+1 to to; 0 starts from an empty database.")));
	if (from >= to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from (%d) must be below to (%d)", from, to),
				 errhint("zd_check(from, to) checks patches from+1 to to.")));
}

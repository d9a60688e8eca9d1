/*-------------------------------------------------------------------------
 *
 * sync.c
 *	  zd_sync: declarative reference data (seed 002's "Reference Data").
 *
 * A patch states the rows a reference table must hold, as a JSON array of
 * objects, and zd_sync makes it so: rows whose key is missing are
 * inserted, rows whose other columns differ are updated, and with
 * delete_absent the rows not listed are deleted.  Running it again changes
 * nothing, so the patch is idempotent, and the desired rows are plain text
 * that reviews well.
 *
 * Everything about the input is checked before anything changes: the
 * table, the keys (by default the primary key), every JSON key being a
 * column that can be written, every row having the same columns and a value
 * for each key column, and no key twice.  Then one statement does the work:
 * an UPDATE, an INSERT and a DELETE as data-modifying CTEs over the rows
 * from jsonb_populate_recordset, all from one snapshot, with the table
 * locked against concurrent writers (SHARE ROW EXCLUSIVE; readers go on).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "args.h"
#include "catalog.h"
#include "trigger.h"

/* a column of the table */
typedef struct SyncColumn
{
	char	   *name;
	Oid			type;
	bool		generated;
	bool		identity_always;
	bool		key;
	bool		given;			/* in the JSON rows */
} SyncColumn;

/* the table, its columns and the rows' shape */
typedef struct Sync
{
	Oid			relid;
	char	   *table;			/* quoted and qualified */
	char	   *relname;
	List	   *columns;		/* of SyncColumn, in attnum order */
	List	   *keys;			/* of SyncColumn */
	Datum		rows;			/* jsonb */
	bool		delete_absent;
} Sync;

PG_FUNCTION_INFO_V1(zd_sync);

static void read_columns(Sync *sync);
static void read_keys(Sync *sync, ArrayType *keys);
static void check_rows(Sync *sync);
static void check_duplicates(Sync *sync);
static char *build_statement(Sync *sync);
static SyncColumn *find_column(Sync *sync, const char *name);
static uint64 select_rows(const char *sql, int nargs, Oid *types, Datum *values);
static inline void CheckTable(Oid relid);

/*
 * zd_sync(table regclass, rows jsonb, keys text[], delete_absent boolean)
 * returns table (inserted bigint, updated bigint, deleted bigint)
 */
Datum
zd_sync(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Sync	   *sync = palloc0(sizeof(Sync));
	Oid			types[2] = {JSONBOID, BOOLOID};
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			ret;
	int			i;

	ZdCheckNotNull(fcinfo, 0, "table");
	ZdCheckNotNull(fcinfo, 1, "rows");
	sync->relid = PG_GETARG_OID(0);
	sync->rows = PG_GETARG_DATUM(1);
	sync->delete_absent = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	ZdCheckDeployer("synchronise reference data");
	CheckTable(sync->relid);
	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	sync->relname = get_rel_name(sync->relid);
	sync->table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(sync->relid)),
											 sync->relname);
	read_columns(sync);
	read_keys(sync, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));
	check_rows(sync);

	/* no concurrent writer between the checks and the changes */
	ret = SPI_execute(psprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", sync->table),
					  false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "could not lock %s: %s", sync->table, SPI_result_code_string(ret));
	check_duplicates(sync);

	values[0] = sync->rows;
	values[1] = BoolGetDatum(sync->delete_absent);
	ret = SPI_execute_with_args(build_statement(sync), 2, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not synchronise %s: %s", sync->table, SPI_result_code_string(ret));
	for (i = 0; i < 3; i++)
		values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

	SPI_finish();
	return (Datum) 0;
}

static void
read_columns(Sync *sync)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	uint64		i;
	int			ret;

	values[0] = ObjectIdGetDatum(sync->relid);
	ret = ZdExecutePinned("SELECT attname, attgenerated <> '', attidentity = 'a', atttypid"
						  " FROM pg_catalog.pg_attribute"
						  " WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped"
						  " ORDER BY attnum",
						  1, types, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the columns of %s: %s", sync->table,
			 SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		SyncColumn *column = palloc0(sizeof(SyncColumn));
		bool		isnull;

		column->name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		column->generated = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 2, &isnull));
		column->identity_always = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 3, &isnull));
		column->type = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 4, &isnull));
		sync->columns = lappend(sync->columns, column);
	}
}

/* the key columns: as given, or the primary key's */
static void
read_keys(Sync *sync, ArrayType *keys)
{
	List	   *names = NIL;
	ListCell   *lc;

	if (keys != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("keys must name at least one column"),
					 errhint("Pass the columns that identify a row, or NULL for the primary key of %s.",
							 sync->table)));
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("keys must not hold NULL"),
						 errhint("Pass the names of the columns that identify a row.")));
			names = lappend(names, TextDatumGetCString(elems[i]));
		}
	}
	else
	{
		Oid			types[1] = {OIDOID};
		Datum		values[1];
		uint64		i;
		int			ret;

		values[0] = ObjectIdGetDatum(sync->relid);
		ret = ZdExecutePinned("SELECT a.attname"
									" FROM pg_catalog.pg_index i,"
									"      LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
									" JOIN pg_catalog.pg_attribute a ON a.attrelid = $1 AND a.attnum = k.attnum"
									" WHERE i.indrelid = $1 AND i.indisprimary"
									" ORDER BY k.n",
									1, types, values, NULL, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read the primary key of %s: %s", sync->table,
				 SPI_result_code_string(ret));
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table %s has no primary key", sync->table),
					 errhint("Name the columns that identify a row: keys => ARRAY['code'].")));
		for (i = 0; i < SPI_processed; i++)
			names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	}

	foreach(lc, names)
	{
		char	   *name = lfirst(lc);
		SyncColumn *column = find_column(sync, name);

		if (column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" of relation \"%s\" does not exist",
							name, sync->relname),
					 errhint("Column names are taken as written, without folding to lower case.")));
		if (column->key)
			continue;
		column->key = true;
		sync->keys = lappend(sync->keys, column);
	}
}

/*
 * The rows: an array of objects whose keys are columns that can be written,
 * all with the same keys, each with a value for every key column.
 */
static void
check_rows(Sync *sync)
{
	Oid			types[2] = {JSONBOID, TEXTARRAYOID};
	Datum		values[2];
	Datum	   *elems;
	StringInfoData unknown;
	ListCell   *lc;
	uint64		i;
	int			n;

	values[0] = sync->rows;
	if (select_rows("SELECT pg_catalog.jsonb_typeof($1) = 'array'", 1, types, values) != 1 ||
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)[0] != 't')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows must be a JSON array of objects"),
				 errhint("Pass the rows as '[{\"code\": \"FR\", \"name\": \"France\"}, ...]'.")));
	if (select_rows("SELECT o FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY e(v, o)"
					" WHERE pg_catalog.jsonb_typeof(v) <> 'object' ORDER BY o LIMIT 1",
					1, types, values) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("row %s is not a JSON object",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Each row is an object of column names and values, such as {\"code\": \"FR\", \"name\": \"France\"}.")));

	/* the columns the rows give */
	select_rows("SELECT DISTINCT k FROM pg_catalog.jsonb_array_elements($1) e(v),"
				" LATERAL pg_catalog.jsonb_object_keys(v) k ORDER BY k",
				1, types, values);
	initStringInfo(&unknown);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		SyncColumn *column = find_column(sync, name);

		if (column == NULL)
			appendStringInfo(&unknown, "%s\"%s\"", unknown.len > 0 ? ", " : "", name);
		else if (column->generated)
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("column \"%s\" of relation \"%s\" is a generated column",
							name, sync->relname),
					 errhint("Leave it out of the rows: it is computed from the others.")));
		else
			column->given = true;
	}
	if (unknown.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the rows name columns that relation \"%s\" does not have: %s",
						sync->relname, unknown.data),
				 errhint("Column names are taken as written, without folding to lower case.")));

	/* every key column in every row, with a value */
	n = 0;
	elems = palloc(sizeof(Datum) * (list_length(sync->columns) + 1));
	foreach(lc, sync->keys)
		elems[n++] = CStringGetTextDatum(((SyncColumn *) lfirst(lc))->name);
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (select_rows("SELECT o, k, v ? k FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY e(v, o),"
					" LATERAL pg_catalog.unnest($2) k"
					" WHERE NOT v ? k OR v -> k = 'null' ORDER BY o LIMIT 1",
					2, types, values) > 0)
	{
		char	   *row = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		bool		present = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3)[0] == 't';

		StringInfoData keys;

		initStringInfo(&keys);
		foreach(lc, sync->keys)
			appendStringInfo(&keys, "%s\"%s\"", keys.len > 0 ? ", " : "",
							 ((SyncColumn *) lfirst(lc))->name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("row %s %s key column \"%s\"", row,
						present ? "has null in" : "has no value for", key),
				 errdetail("Rows are matched to the table on the key columns %s.", keys.data),
				 errhint("Give every row a value for each key column.")));
	}

	/* every row with the same columns; the keys are in every row */
	foreach(lc, sync->keys)
		((SyncColumn *) lfirst(lc))->given = true;
	n = 0;
	foreach(lc, sync->columns)
	{
		SyncColumn *column = lfirst(lc);

		if (column->given)
			elems[n++] = CStringGetTextDatum(column->name);
	}
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (select_rows("SELECT o, (SELECT string_agg(pg_catalog.format('\"%s\"', c), ', ')"
					"           FROM pg_catalog.unnest($2) c WHERE NOT v ? c)"
					" FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY e(v, o)"
					" WHERE NOT v ?& $2 ORDER BY o LIMIT 1",
					2, types, values) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("row %s has no value for column %s, which other rows give",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
				 errhint("Give every row the same columns; write null for an empty value.")));
}

/* the same key twice in the rows */
static void
check_duplicates(Sync *sync)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1];
	StringInfoData keys;
	ListCell   *lc;

	initStringInfo(&keys);
	foreach(lc, sync->keys)
		appendStringInfo(&keys, "%s%s", keys.len > 0 ? ", " : "",
						 quote_identifier(((SyncColumn *) lfirst(lc))->name));
	values[0] = sync->rows;
	if (select_rows(psprintf("SELECT pg_catalog.format('(%%s)', pg_catalog.concat_ws(', ', %s)), pg_catalog.count(*)"
							 " FROM pg_catalog.jsonb_populate_recordset(NULL::%s, $1)"
							 " GROUP BY %s HAVING pg_catalog.count(*) > 1 LIMIT 1",
							 keys.data, sync->table, keys.data),
					1, types, values) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("the rows hold key (%s) = %s %s times", keys.data,
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
				 errhint("Each key appears once in the rows.")));
}

/*
 * WITH desired AS (rows), upd AS (UPDATE changed), ins AS (INSERT
 * missing), del AS (DELETE absent, when $2) SELECT the three counts.
 */
static char *
build_statement(Sync *sync)
{
	StringInfoData sql;
	StringInfoData cols;
	StringInfoData match;
	StringInfoData set;
	StringInfoData changed;
	ListCell   *lc;
	bool		always = false;

	initStringInfo(&cols);
	initStringInfo(&match);
	initStringInfo(&set);
	initStringInfo(&changed);
	foreach(lc, sync->columns)
	{
		SyncColumn *column = lfirst(lc);
		const char *name = quote_identifier(column->name);

		if (!column->given)
			continue;
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", name);
		if (column->identity_always)
			always = true;
		/* operators named with their schema: no search_path changes them */
		if (column->key)
			appendStringInfo(&match, "%st.%s %s d.%s", match.len > 0 ? " AND " : "",
							 name, ZdTypeOperator(column->type, TYPECACHE_EQ_OPR), name);
		else
		{
			appendStringInfo(&set, "%s%s = d.%s", set.len > 0 ? ", " : "", name, name);
			appendStringInfo(&changed, "%sNOT coalesce(t.%s %s d.%s, t.%s IS NULL AND d.%s IS NULL)",
							 changed.len > 0 ? " OR " : "", name,
							 ZdTypeOperator(column->type, TYPECACHE_EQ_OPR),
							 name, name, name);
		}
	}

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH desired AS MATERIALIZED ("
					 " SELECT %s FROM pg_catalog.jsonb_populate_recordset(NULL::%s, $1))",
					 cols.data, sync->table);
	if (set.len > 0)
		appendStringInfo(&sql,
						 ", upd AS (UPDATE %s t SET %s FROM desired d"
						 " WHERE %s AND (%s) RETURNING 1)",
						 sync->table, set.data, match.data, changed.data);
	appendStringInfo(&sql,
					 ", ins AS (INSERT INTO %s (%s) %sSELECT %s FROM desired d"
					 " WHERE NOT EXISTS (SELECT FROM %s t WHERE %s) RETURNING 1)"
					 ", del AS (DELETE FROM %s t WHERE $2"
					 " AND NOT EXISTS (SELECT FROM desired d WHERE %s) RETURNING 1)"
					 " SELECT (SELECT pg_catalog.count(*) FROM ins), %s,"
					 " (SELECT pg_catalog.count(*) FROM del)",
					 sync->table, cols.data, always ? "OVERRIDING SYSTEM VALUE " : "",
					 cols.data, sync->table, match.data,
					 sync->table, match.data,
					 set.len > 0 ? "(SELECT pg_catalog.count(*) FROM upd)" : "0::pg_catalog.int8");
	return sql.data;
}

static SyncColumn *
find_column(Sync *sync, const char *name)
{
	ListCell   *lc;

	foreach(lc, sync->columns)
	{
		SyncColumn *column = lfirst(lc);

		if (strcmp(column->name, name) == 0)
			return column;
	}
	return NULL;
}

static uint64
select_rows(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			ret = ZdExecutePinned(sql, nargs, types, values, NULL, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check the rows: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

static inline void
CheckTable(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("Name an existing table.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errhint("zd_sync writes the rows of a table.")));
}

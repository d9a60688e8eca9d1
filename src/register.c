/*-------------------------------------------------------------------------
 *
 * register.c
 *	  zd_register and zd_set_var.
 *
 * A patch may be registered again freely until it is applied; identical
 * text is a no-op; an applied patch whose text differs is refused, because
 * the database was built with the old text and changing it would make the
 * history lie.  Registering the very text a patch was applied with is
 * allowed, so that a drifted patch can be restored.  A patch that is not
 * applied may be unregistered (the zd client does so when its file left the
 * folder); an applied one may not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "common/rules.h"
#include "patch.h"
#include "register.h"
#include "repair.h"
#include "zerodown.h"

PG_FUNCTION_INFO_V1(zd_register);
PG_FUNCTION_INFO_V1(zd_unregister);
PG_FUNCTION_INFO_V1(zd_set_var);

static void update_source(int number, const char *source);
static inline void CheckPatchNumber(int number);
static inline void CheckPatchName(const char *name);
static inline void CheckVarName(const char *name);

/*
 * zd_register(number, name, build_sql, rollback_sql, verify_sql, source)
 * returns 'registered', 'replaced' or 'unchanged'
 */
Datum
zd_register(PG_FUNCTION_ARGS)
{
	const char *action;

	ZdCheckNotNull(fcinfo, 0, "number");
	ZdCheckNotNull(fcinfo, 1, "name");
	ZdCheckNotNull(fcinfo, 2, "build_sql");
	ZdCheckNotInPatch("zd_register");
	ZdCheckDeployer("register patches");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("register patches");
	action = ZdRegisterPatch(PG_GETARG_INT32(0),
							 text_to_cstring(PG_GETARG_TEXT_PP(1)),
							 text_to_cstring(PG_GETARG_TEXT_PP(2)),
							 PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
							 PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)),
							 PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5)));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(action));
}

/*
 * Register one patch; the caller is connected to SPI and holds the align
 * lock.  Returns what was done.
 */
const char *
ZdRegisterPatch(int number, const char *name, const char *build_sql,
				const char *rollback_sql, const char *verify_sql,
				const char *source)
{
	Oid			types[10] = {INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	BOOLOID, BOOLOID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[10];
	char		nulls[10] = "          ";
	char	   *checksum;
	bool		existed;
	bool		repaired = false;
	int			ret;

	CheckPatchNumber(number);
	CheckPatchName(name);
	checksum = ZdChecksum(name, build_sql, rollback_sql, verify_sql);

	values[0] = Int32GetDatum(number);
	ret = ZdCatalogExecute("SELECT p.checksum, a.applied_at::text, a.checksum, p.name, p.source,"
						   " p.build_sql, p.rollback_sql, p.verify_sql"
						   " FROM " ZD_PATCHES_TABLE " p"
						   " LEFT JOIN " ZD_APPLIED_TABLE " a ON a.number = p.number"
						   " WHERE p.number = $1 FOR UPDATE OF p",
						   1, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read patch %d: %s", number, SPI_result_code_string(ret));

	existed = SPI_processed == 1;
	if (existed)
	{
		char	   *old_checksum = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *applied_at = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		char	   *applied_checksum = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		char	   *old_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
		char	   *old_source = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5);

		/* a row changed outside zd_register no longer matches its checksum */
		bool		intact = strcmp(old_checksum,
									ZdChecksum(old_name,
											   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6),
											   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7),
											   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8))) == 0;

		if (intact && strcmp(old_checksum, checksum) == 0)
		{
			/* the same patch from another folder: messages name the new one */
			if (source != NULL && (old_source == NULL || strcmp(old_source, source) != 0))
				update_source(number, source);
			return "unchanged";
		}
		if (applied_at != NULL && strcmp(applied_checksum, checksum) != 0)
		{
			/* the one exception: a rollback that could never run (repair.c) */
			repaired = ZdRollbackRepairable(number, name, build_sql, rollback_sql,
											verify_sql);
			if (!repaired)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_IN_USE),
						 errmsg("patch %d \"%s\" is applied and cannot be changed",
								number, old_name),
						 errdetail("It was applied at %s with checksum %s; the new text has checksum %s.",
								   applied_at, applied_checksum, checksum),
						 errhint("Applied patches are immutable: restore its text, and make the change in a new patch.")));
		}
	}

	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(build_sql);
	values[3] = rollback_sql ? CStringGetTextDatum(rollback_sql) : (Datum) 0;
	values[4] = verify_sql ? CStringGetTextDatum(verify_sql) : (Datum) 0;
	values[5] = BoolGetDatum(!ZdIsNoTransaction(build_sql));
	values[6] = BoolGetDatum(!ZdIsNoTransaction(rollback_sql));
	values[7] = CStringGetTextDatum(checksum);
	values[8] = source ? CStringGetTextDatum(source) : (Datum) 0;
	nulls[3] = rollback_sql ? ' ' : 'n';
	nulls[4] = verify_sql ? ' ' : 'n';
	nulls[6] = rollback_sql ? ' ' : 'n';
	nulls[8] = source ? ' ' : 'n';
	values[9] = ZdCallerName();

	ret = ZdCatalogExecute("INSERT INTO " ZD_PATCHES_TABLE
						   " (number, name, build_sql, rollback_sql, verify_sql,"
						   "  build_transactional, rollback_transactional, checksum, source,"
						   "  registered_by)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
						   " ON CONFLICT (number) DO UPDATE SET"
						   "  name = EXCLUDED.name, build_sql = EXCLUDED.build_sql,"
						   "  rollback_sql = EXCLUDED.rollback_sql,"
						   "  verify_sql = EXCLUDED.verify_sql,"
						   "  build_transactional = EXCLUDED.build_transactional,"
						   "  rollback_transactional = EXCLUDED.rollback_transactional,"
						   "  checksum = EXCLUDED.checksum, source = EXCLUDED.source,"
						   "  registered_at = now(), registered_by = EXCLUDED.registered_by",
						   10, types, values, nulls, 0);
	if (ret != SPI_OK_INSERT || SPI_processed != 1)
		elog(ERROR, "could not register patch %d: %s", number, SPI_result_code_string(ret));
	if (repaired)
		ZdRecordRollbackRepair(number, name, checksum);

	return existed ? "replaced" : "registered";
}

/*
 * zd_unregister(number) returns the name of the patch removed.  Only a patch
 * that is not applied leaves: an applied patch is the record of what the
 * database is built of, and its rollback is needed to go below it.
 */
Datum
zd_unregister(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	int32		number;
	char	   *name;
	bool		applied;
	bool		isnull;
	int			ret;

	ZdCheckNotNull(fcinfo, 0, "number");
	ZdCheckDeployer("unregister patches");
	number = PG_GETARG_INT32(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdLockAlign("unregister patches");
	values[0] = Int32GetDatum(number);
	ret = ZdCatalogExecute("SELECT p.name, a.number IS NOT NULL"
						   " FROM " ZD_PATCHES_TABLE " p"
						   " LEFT JOIN " ZD_APPLIED_TABLE " a ON a.number = p.number"
						   " WHERE p.number = $1 FOR UPDATE OF p",
						   1, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read patch %d: %s", number, SPI_result_code_string(ret));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("patch %d is not registered", number),
				 errhint("The registered patches are in the view zerodown.status.")));
	name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	applied = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 2, &isnull));
	if (applied)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("patch %d \"%s\" is applied and cannot be unregistered",
						number, name),
				 errdetail("The database is built of it, and aligning below it needs its rollback."),
				 errhint("Align below it first: SELECT zd_align(%d);", number - 1)));

	ret = ZdCatalogExecute("DELETE FROM " ZD_PATCHES_TABLE " WHERE number = $1",
						   1, types, values, NULL, 0);
	if (ret != SPI_OK_DELETE || SPI_processed != 1)
		elog(ERROR, "could not unregister patch %d: %s", number, SPI_result_code_string(ret));
	name = MemoryContextStrdup(caller, name);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(name));
}

static void
update_source(int number, const char *source)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2];

	values[0] = Int32GetDatum(number);
	values[1] = CStringGetTextDatum(source);
	if (ZdCatalogExecute("UPDATE " ZD_PATCHES_TABLE " SET source = $2 WHERE number = $1",
						 2, types, values, NULL, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the source of patch %d", number);
}

/*
 * zd_set_var(name, value): the value of ${name} in patch text; NULL removes
 * it.
 */
Datum
zd_set_var(PG_FUNCTION_ARGS)
{
	Oid			types[3] = {TEXTOID, TEXTOID, NAMEOID};
	Datum		values[3];
	char	   *name;
	int			ret;

	ZdCheckNotNull(fcinfo, 0, "name");
	ZdCheckNotInPatch("zd_set_var");
	ZdCheckDeployer("set zerodown variables");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	CheckVarName(name);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(name);
	if (PG_ARGISNULL(1))
		ret = ZdCatalogExecute("DELETE FROM " ZD_VARS_TABLE " WHERE name = $1",
							   1, types, values, NULL, 0);
	else
	{
		values[1] = PG_GETARG_DATUM(1);
		values[2] = ZdCallerName();
		ret = ZdCatalogExecute("INSERT INTO " ZD_VARS_TABLE " (name, value, set_by)"
							   " VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE"
							   " SET value = EXCLUDED.value, set_at = now(),"
							   " set_by = EXCLUDED.set_by",
							   3, types, values, NULL, 0);
	}
	if (ret != (PG_ARGISNULL(1) ? SPI_OK_DELETE : SPI_OK_INSERT))
		elog(ERROR, "could not set variable \"%s\": %s", name, SPI_result_code_string(ret));
	SPI_finish();
	PG_RETURN_VOID();
}

static inline void
CheckPatchNumber(int number)
{
	if (number <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("patch number %d is out of range", number),
				 errdetail("Patch numbers start at 1; 0 stands for an empty database."),
				 errhint("Number patches 1, 2, 3, ... in the order they are built.")));
}

static inline void
CheckPatchName(const char *name)
{
	if (!ZdValidPatchName(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid patch name \"%s\"", name),
				 errdetail("A patch name is 1 to %d letters, digits, underscores or hyphens, as in the file name NNNNN_name.sql.",
						   ZD_MAX_NAME_LEN),
				 errhint("Use a name such as \"create_table_example_a\".")));
}

static inline void
CheckVarName(const char *name)
{
	const char *p = name;

	if (strlen(name) > ZD_MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("variable name \"%.*s...\" is too long",
						pg_mbcliplen(name, strlen(name), 40), name),
				 errdetail("A variable name is at most %d bytes long; this one is %zu.",
						   ZD_MAX_NAME_LEN, strlen(name)),
				 errhint("Choose a shorter name.")));
	if (isalpha((unsigned char) *p) || *p == '_')
	{
		for (p++; isalnum((unsigned char) *p) || *p == '_' || *p == '.'; p++)
			;
		if (*p == '\0')
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid variable name \"%s\"", name),
			 errdetail("A variable name starts with a letter or underscore and goes on with letters, digits, underscores or dots."),
			 errhint("Patches use it as ${name}, for example ${app_role} or ${s3.bucket}.")));
}

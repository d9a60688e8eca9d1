/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  Statements known to hurt a live database, and their safe recipes.
 *
 * The rules are those a migration linter such as squawk or
 * strong_migrations applies, read from the raw parse trees the plan already
 * has.  They only fire on relations that exist before the plan runs: a
 * table created by the same deployment has no traffic to hurt.  Rule names
 * follow squawk's where one exists.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog.h"
#include "lint.h"
#include "patch.h"

static void lint_statement(List **findings, ZdStatement *statement);
static void lint_alter_table(List **findings, ZdStatement *statement,
							 AlterTableStmt *stmt);
static void add_finding(List **findings, ZdStatement *statement,
						const char *rule, char *message, char *hint);
static bool relation_exists(RangeVar *rv);
static bool has_volatile_call(Node *expr);
static bool volatile_call_walker(Node *node, void *context);
static bool is_serial(TypeName *type);
static bool is_stored_generated(ColumnDef *def);
static bool has_validated_not_null_check(RangeVar *rv, const char *column);
static bool is_widening(RangeVar *rv, const char *column, TypeName *type);
static Constraint *column_default(ColumnDef *def);

List *
ZdLintStep(ZdStep *step)
{
	List	   *findings = NIL;
	ListCell   *lc;

	foreach(lc, step->statements)
		lint_statement(&findings, lfirst(lc));
	return findings;
}

static void
lint_statement(List **findings, ZdStatement *statement)
{
	Node	   *tree = statement->parsetree;

	switch (nodeTag(tree))
	{
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) tree;

				if (!stmt->concurrent && relation_exists(stmt->relation))
					add_finding(findings, statement,
								"require-concurrent-index-creation",
								psprintf("CREATE INDEX on existing table \"%s\" takes a SHARE lock that blocks writes while the index builds",
										 stmt->relation->relname),
								pstrdup("Use CREATE INDEX CONCURRENTLY in a patch marked \"-- zerodown:no-transaction\" (and DROP INDEX CONCURRENTLY in its rollback)."));
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) tree;

				if (relation_exists(stmt->relation))
					lint_alter_table(findings, statement, stmt);
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) tree;

				if (stmt->relation == NULL || !relation_exists(stmt->relation))
					break;
				if (stmt->renameType == OBJECT_COLUMN)
					add_finding(findings, statement, "renaming-column",
								psprintf("renaming column \"%s\" of \"%s\" breaks the application version still running, which uses the old name",
										 stmt->subname, stmt->relation->relname),
								pstrdup("Expand and contract instead: add the new column and keep both in step with compatibility triggers until the old version is gone, then drop the old column in a later patch."));
				else if (stmt->renameType == OBJECT_TABLE)
					add_finding(findings, statement, "renaming-table",
								psprintf("renaming table \"%s\" breaks the application version still running, which uses the old name",
										 stmt->relation->relname),
								pstrdup("Create the new name as a view of the old table (or the reverse) while both application versions run, and rename in a later patch."));
				break;
			}
		default:
			break;
	}
}

static void
lint_alter_table(List **findings, ZdStatement *statement, AlterTableStmt *stmt)
{
	const char *table = stmt->relation->relname;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddConstraint:
				{
					Constraint *con = (Constraint *) cmd->def;

					if ((con->contype == CONSTR_FOREIGN || con->contype == CONSTR_CHECK) &&
						!con->skip_validation)
						add_finding(findings, statement, "constraint-missing-not-valid",
									psprintf("adding a %s constraint to \"%s\" scans the whole table under a lock that blocks writes",
											 con->contype == CONSTR_FOREIGN ? "FOREIGN KEY" : "CHECK",
											 table),
									pstrdup("Add it with NOT VALID (instant), then run ALTER TABLE ... VALIDATE CONSTRAINT in a later patch: validation takes only a SHARE UPDATE EXCLUSIVE lock."));
					else if ((con->contype == CONSTR_UNIQUE || con->contype == CONSTR_PRIMARY) &&
							 con->indexname == NULL)
						add_finding(findings, statement, "disallowed-unique-constraint",
									psprintf("adding a %s constraint to \"%s\" builds its index under an ACCESS EXCLUSIVE lock",
											 con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
											 table),
									pstrdup("Build a unique index with CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction patch, then add the constraint USING INDEX."));
					break;
				}
			case AT_SetNotNull:
				if (has_validated_not_null_check(stmt->relation, cmd->name))
					break;
				add_finding(findings, statement, "adding-not-nullable-field",
							psprintf("SET NOT NULL on column \"%s\" of \"%s\" scans the whole table under an ACCESS EXCLUSIVE lock",
									 cmd->name, table),
							psprintf("Add CHECK (%s IS NOT NULL) NOT VALID, VALIDATE it in a later patch, then SET NOT NULL, which uses the validated check and skips the scan.",
									 cmd->name));
				break;
			case AT_AlterColumnType:
				if (is_widening(stmt->relation, cmd->name, ((ColumnDef *) cmd->def)->typeName))
					break;
				add_finding(findings, statement, "changing-column-type",
							psprintf("changing the type of column \"%s\" of \"%s\" can rewrite the table under an ACCESS EXCLUSIVE lock, and breaks the application version still running",
									 cmd->name, table),
							pstrdup("Expand and contract: add a column of the new type kept in step by compatibility triggers, backfill it in batches, and drop the old column when the old version is gone."));
				break;
			case AT_AddColumn:
				{
					ColumnDef  *def = (ColumnDef *) cmd->def;
					Constraint *defval = column_default(def);

					if (is_stored_generated(def))
						add_finding(findings, statement, "adding-field-with-default",
									psprintf("adding the stored generated column \"%s\" to \"%s\" rewrites the whole table under an ACCESS EXCLUSIVE lock",
											 def->colname, table),
									pstrdup("Add a plain column, keep it filled with a trigger, backfill existing rows in batches."));
					else if (is_serial(def->typeName) ||
							 (defval != NULL && has_volatile_call(defval->raw_expr)))
						add_finding(findings, statement, "adding-field-with-default",
									psprintf("adding column \"%s\" to \"%s\" with a volatile default rewrites the whole table under an ACCESS EXCLUSIVE lock",
											 def->colname, table),
									pstrdup("Add the column without a default (or with a constant one), set the default in a second statement, and backfill existing rows in batches."));
					break;
				}
			case AT_DropColumn:
				add_finding(findings, statement, "ban-drop-column",
							psprintf("dropping column \"%s\" of \"%s\" breaks the application version still running if it reads or writes it",
									 cmd->name, table),
							pstrdup("Drop a column only in a contract patch, once no running application version uses it."));
				break;
			default:
				break;
		}
	}
}

static void
add_finding(List **findings, ZdStatement *statement, const char *rule,
			char *message, char *hint)
{
	ZdFinding  *finding = palloc(sizeof(ZdFinding));

	finding->line = statement->line;
	finding->rule = rule;
	finding->statement = ZdAbbreviate(statement->sql, 200);
	finding->message = message;
	finding->hint = hint;
	*findings = lappend(*findings, finding);
}

static bool
relation_exists(RangeVar *rv)
{
	return rv != NULL && OidIsValid(RangeVarGetRelid(rv, NoLock, true));
}

static Constraint *
column_default(ColumnDef *def)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst(lc);

		if (con->contype == CONSTR_DEFAULT || con->contype == CONSTR_IDENTITY)
			return con;
	}
	return NULL;
}

/* identity columns are filled from a sequence: volatile, like serial */
static bool
has_volatile_call(Node *expr)
{
	if (expr == NULL)
		return true;
	return volatile_call_walker(expr, NULL);
}

/* is any function of that name volatile?  Arguments are not resolved yet */
static bool
volatile_call_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *call = (FuncCall *) node;
		FuncCandidateList candidates;

		candidates = FuncnameGetCandidates(call->funcname, -1, NIL,
										   false, false, false, true);
		for (; candidates != NULL; candidates = candidates->next)
			if (func_volatile(candidates->oid) == PROVOLATILE_VOLATILE)
				return true;
	}
	return raw_expression_tree_walker(node, volatile_call_walker, context);
}

static bool
is_stored_generated(ColumnDef *def)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
		if (((Constraint *) lfirst(lc))->contype == CONSTR_GENERATED)
			return true;
	return false;
}

/*
 * A validated CHECK (column IS NOT NULL) lets SET NOT NULL skip its scan:
 * the second half of the safe recipe is not flagged.
 */
static bool
has_validated_not_null_check(RangeVar *rv, const char *column)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	int			ret;

	values[0] = ObjectIdGetDatum(RangeVarGetRelid(rv, NoLock, false));
	values[1] = CStringGetTextDatum(psprintf("CHECK ((%s IS NOT NULL))", quote_identifier(column)));
	ret = ZdExecutePinned("SELECT FROM pg_catalog.pg_constraint"
						  " WHERE conrelid = $1 AND contype = 'c' AND convalidated"
						  "  AND pg_catalog.pg_get_constraintdef(oid) = $2",
						  2, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read constraints: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/*
 * A change that neither rewrites the table nor breaks the running
 * application: a longer (or unlimited) length of the same type, or varchar
 * to text.
 */
static bool
is_widening(RangeVar *rv, const char *column, TypeName *type)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, false);
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			old_type;
	int32		old_typmod;
	Oid			old_collation;
	Oid			new_type;
	int32		new_typmod;

	if (attnum == InvalidAttrNumber)
		return false;
	get_atttypetypmodcoll(relid, attnum, &old_type, &old_typmod, &old_collation);
	typenameTypeIdAndMod(NULL, type, &new_type, &new_typmod);

	if (old_type == VARCHAROID && new_type == TEXTOID)
		return true;
	if (old_type != new_type ||
		(new_type != VARCHAROID && new_type != NUMERICOID && new_type != VARBITOID))
		return false;
	if (new_typmod == -1)
		return true;
	if (old_typmod == -1)
		return false;
	if (new_type == NUMERICOID)		/* same scale, more precision */
		return ((old_typmod - VARHDRSZ) & 0xffff) == ((new_typmod - VARHDRSZ) & 0xffff) &&
			new_typmod >= old_typmod;
	return new_typmod >= old_typmod;
}

static bool
is_serial(TypeName *type)
{
	const char *name;

	if (type == NULL || type->names == NIL)
		return false;
	name = strVal(llast(type->names));
	return strcmp(name, "serial") == 0 || strcmp(name, "bigserial") == 0 ||
		strcmp(name, "smallserial") == 0 || strcmp(name, "serial4") == 0 ||
		strcmp(name, "serial8") == 0 || strcmp(name, "serial2") == 0;
}

/*
 * zd_lint(target integer) returns table (number, name, direction, line,
 * rule, statement, message, hint)
 */
PG_FUNCTION_INFO_V1(zd_lint);

Datum
zd_lint(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ZdPlan	   *plan;
	ListCell   *lc;

	ZdCheckDeployer("plan an alignment");
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	plan = ZdMakePlan(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0), PG_ARGISNULL(0));
	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, ZdLintStep(step))
		{
			ZdFinding  *finding = lfirst(lc2);
			Datum		values[8];
			bool		nulls[8] = {0};

			values[0] = Int32GetDatum(step->patch->number);
			values[1] = CStringGetTextDatum(step->patch->name);
			values[2] = CStringGetTextDatum(step->rollback ? "rollback" : "build");
			values[3] = Int32GetDatum(finding->line);
			values[4] = CStringGetTextDatum(finding->rule);
			values[5] = CStringGetTextDatum(finding->statement);
			values[6] = CStringGetTextDatum(finding->message);
			values[7] = CStringGetTextDatum(finding->hint);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}

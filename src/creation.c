/*-------------------------------------------------------------------------
 *
 * creation.c
 *	  Where a plan creates objects, and whether the deployer may.
 *
 * Patches run with the privileges of the role that aligns.  A deployer that
 * is a member of zerodown_deployer but has no CREATE privilege on the schema
 * a patch creates a table in (public, on PostgreSQL 15, unless granted)
 * would fail at that patch, after the patches before it ran.  So a plan
 * checks first: for each statement that creates an object in a schema
 * (tables, views, sequences, types, domains, functions, ...), or moves one
 * into a schema, or creates a schema, the role must have CREATE on that
 * schema (or on the database).  Unqualified names are created in the first
 * schema of search_path; a plan that changes search_path itself is checked
 * for its qualified names only.  What cannot be known before running --
 * a schema created by a DO block, statements inside functions -- is left to
 * PostgreSQL when the patch runs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/dbcommands.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "catalog.h"
#include "creation.h"
#include "patch.h"
#include "zerodown.h"

/* at most this many statements are listed in the error */
#define ZD_MAX_LISTED	10

/* one statement that would create where the role may not */
typedef struct Denied
{
	const char *file;
	int			line;
	char	   *what;			/* "table orders", "schema app" */
	Oid			schema;			/* InvalidOid: the database */
} Denied;

/* what a walk over the plan knows */
typedef struct CreationWalk
{
	Oid			creation_schema;	/* for unqualified names, or InvalidOid */
	List	   *new_schemas;	/* names of schemas the plan creates */
	List	   *denied;			/* Denied * */
	List	   *checked;		/* schema OIDs found allowed */
} CreationWalk;

static void check_statement(CreationWalk *walk, const char *file,
							ZdStatement *statement);
static void check_qualified(CreationWalk *walk, const char *file, int line,
							const char *schemaname, const char *kind,
							const char *name);
static void check_names(CreationWalk *walk, const char *file, int line,
						List *names, const char *kind);
static void check_rangevar(CreationWalk *walk, const char *file, int line,
						   RangeVar *rv, const char *kind);
static bool plan_mentions_search_path(ZdPlan *plan);
static void report_denied(List *denied);

/*
 * Refuse a plan, before anything runs, when the role may not create where
 * its statements create.
 */
void
ZdCheckCreatePrivileges(ZdPlan *plan)
{
	CreationWalk walk = {0};
	ListCell   *lc;

	if (superuser() || plan->steps == NIL)
		return;
	if (!plan_mentions_search_path(plan))
	{
		List	   *path = fetch_search_path(false);

		if (path != NIL && !isAnyTempNamespace(linitial_oid(path)))
			walk.creation_schema = linitial_oid(path);
	}

	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, step->statements)
			check_statement(&walk, step->file, lfirst(lc2));
	}
	if (walk.denied != NIL)
		report_denied(walk.denied);
}

static void
check_statement(CreationWalk *walk, const char *file, ZdStatement *statement)
{
	Node	   *tree = statement->parsetree;
	int			line = statement->line;

	switch (nodeTag(tree))
	{
		case T_CreateStmt:
			check_rangevar(walk, file, line, ((CreateStmt *) tree)->relation, "table");
			break;
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *stmt = (CreateTableAsStmt *) tree;

				check_rangevar(walk, file, line, stmt->into->rel,
							   stmt->objtype == OBJECT_MATVIEW ? "materialized view" : "table");
				break;
			}
		case T_ViewStmt:
			check_rangevar(walk, file, line, ((ViewStmt *) tree)->view, "view");
			break;
		case T_CreateSeqStmt:
			check_rangevar(walk, file, line, ((CreateSeqStmt *) tree)->sequence, "sequence");
			break;
		case T_CompositeTypeStmt:
			check_rangevar(walk, file, line, ((CompositeTypeStmt *) tree)->typevar, "type");
			break;
		case T_CreateEnumStmt:
			check_names(walk, file, line, ((CreateEnumStmt *) tree)->typeName, "type");
			break;
		case T_CreateRangeStmt:
			check_names(walk, file, line, ((CreateRangeStmt *) tree)->typeName, "type");
			break;
		case T_CreateDomainStmt:
			check_names(walk, file, line, ((CreateDomainStmt *) tree)->domainname, "domain");
			break;
		case T_CreateFunctionStmt:
			{
				CreateFunctionStmt *stmt = (CreateFunctionStmt *) tree;

				check_names(walk, file, line, stmt->funcname,
							stmt->is_procedure ? "procedure" : "function");
				break;
			}
		case T_DefineStmt:
			{
				DefineStmt *stmt = (DefineStmt *) tree;

				check_names(walk, file, line, stmt->defnames,
							stmt->kind == OBJECT_AGGREGATE ? "aggregate" :
							stmt->kind == OBJECT_OPERATOR ? "operator" :
							stmt->kind == OBJECT_TYPE ? "type" :
							stmt->kind == OBJECT_COLLATION ? "collation" :
							"object");
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) tree;

				check_qualified(walk, file, line, stmt->newschema, "an object moved",
								NULL);
				break;
			}
		case T_CreateSchemaStmt:
			{
				CreateSchemaStmt *stmt = (CreateSchemaStmt *) tree;

				if (stmt->schemaname != NULL)
					walk->new_schemas = lappend(walk->new_schemas, stmt->schemaname);
				if (pg_database_aclcheck(MyDatabaseId, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
				{
					Denied	   *denied = palloc0(sizeof(Denied));

					denied->file = file;
					denied->line = line;
					denied->what = stmt->schemaname ?
						psprintf("schema \"%s\"", stmt->schemaname) :
						pstrdup("a schema named after its owner");
					denied->schema = InvalidOid;
					walk->denied = lappend(walk->denied, denied);
				}
				/* the objects it creates go into it, which its creator owns */
				break;
			}
		default:
			break;
	}
}

static void
check_rangevar(CreationWalk *walk, const char *file, int line, RangeVar *rv,
			   const char *kind)
{
	if (rv->relpersistence == RELPERSISTENCE_TEMP)
		return;
	check_qualified(walk, file, line, rv->schemaname, kind, rv->relname);
}

static void
check_names(CreationWalk *walk, const char *file, int line, List *names,
			const char *kind)
{
	char	   *schemaname;
	char	   *name;

	DeconstructQualifiedName(names, &schemaname, &name);
	check_qualified(walk, file, line, schemaname, kind, name);
}

/*
 * An object created in schemaname (NULL: the first schema of search_path):
 * note it when the role may not create there.  A schema that does not exist
 * yet, or that the plan creates, is left to the statements.
 */
static void
check_qualified(CreationWalk *walk, const char *file, int line,
				const char *schemaname, const char *kind, const char *name)
{
	Oid			schema;
	Denied	   *denied;
	ListCell   *lc;

	if (schemaname == NULL)
		schema = walk->creation_schema;
	else
	{
		foreach(lc, walk->new_schemas)
			if (strcmp(lfirst(lc), schemaname) == 0)
				return;
		if (strcmp(schemaname, "pg_temp") == 0)
			return;
		schema = get_namespace_oid(schemaname, true);
	}
	if (!OidIsValid(schema) || isAnyTempNamespace(schema) ||
		list_member_oid(walk->checked, schema))
		return;
	if (pg_namespace_aclcheck(schema, GetUserId(), ACL_CREATE) == ACLCHECK_OK)
	{
		walk->checked = lappend_oid(walk->checked, schema);
		return;
	}

	denied = palloc0(sizeof(Denied));
	denied->file = file;
	denied->line = line;
	denied->what = name ? psprintf("%s \"%s\"", kind, name) : pstrdup(kind);
	denied->schema = schema;
	walk->denied = lappend(walk->denied, denied);
}

/*
 * A plan that sets search_path (SET, set_config, a function's SET clause)
 * may create its unqualified objects elsewhere than the session would.
 */
static bool
plan_mentions_search_path(ZdPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, step->statements)
		{
			ZdStatement *statement = lfirst(lc2);

			const char *p;

			for (p = statement->sql; *p; p++)
				if (pg_strncasecmp(p, "search_path", 11) == 0)
					return true;
			if (IsA(statement->parsetree, VariableSetStmt) &&
				((VariableSetStmt *) statement->parsetree)->name != NULL &&
				strcmp(((VariableSetStmt *) statement->parsetree)->name, "search_path") == 0)
				return true;
		}
	}
	return false;
}

static void
report_denied(List *denied)
{
	Denied	   *first = linitial(denied);
	StringInfoData detail;
	StringInfoData hint;
	List	   *granted = NIL;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&detail);
	initStringInfo(&hint);
	foreach(lc, denied)
	{
		Denied	   *d = lfirst(lc);

		if (++n <= ZD_MAX_LISTED)
			appendStringInfo(&detail, "%s, line %d: %s in %s\n", d->file, d->line,
							 d->what,
							 OidIsValid(d->schema) ?
							 psprintf("schema \"%s\"", get_namespace_name(d->schema)) :
							 psprintf("database \"%s\"", get_database_name(MyDatabaseId)));
		if (list_member_oid(granted, d->schema))
			continue;
		granted = lappend_oid(granted, d->schema);
		appendStringInfo(&hint, " GRANT CREATE ON %s %s TO %s;",
						 OidIsValid(d->schema) ? "SCHEMA" : "DATABASE",
						 OidIsValid(d->schema) ?
						 quote_identifier(get_namespace_name(d->schema)) :
						 quote_identifier(get_database_name(MyDatabaseId)),
						 quote_identifier(role));
	}
	if (n > ZD_MAX_LISTED)
		appendStringInfo(&detail, "... and %d more\n", n - ZD_MAX_LISTED);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" may not create %s in %s \"%s\"", role, first->what,
					OidIsValid(first->schema) ? "schema" : "database",
					OidIsValid(first->schema) ?
					get_namespace_name(first->schema) :
					get_database_name(MyDatabaseId)),
			 errdetail("Patches run with the privileges of the role that aligns, and %d statement%s of this plan create%s where it has no CREATE privilege:\n%sNothing was run.",
					   n, n == 1 ? "" : "s", n == 1 ? "s" : "", detail.data),
			 errhint("Membership in zerodown_deployer lets a role deploy, not create objects; the owner of the schema or database (or a superuser) can run:%s",
					 hint.data)));
}

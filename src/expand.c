/*-------------------------------------------------------------------------
 *
 * expand.c
 *	  Expand/contract: zd_expand_column, zd_expand_columns, zd_expand_table,
 *	  zd_contract and zd_abort, and the record of each expansion in
 *	  zerodown.expansions.
 *
 * An expansion adds the new shape of a table beside the old one and installs
 * the dual-write triggers of trigger.c, so that the old and the new version
 * of an application can write at the same time; zd_backfill (backfill.c)
 * fills the new shape for the rows that existed before; zd_contract drops
 * the triggers and the old shape once the old version is gone; zd_abort
 * drops the triggers and the new shape instead.  Each runs in the caller's
 * transaction (a patch's, under zd_align) and checks everything before it
 * changes anything, so a bad argument leaves the database as it was.  Each
 * takes its table locks first, under zerodown.lock_timeout, and retries up to
 * zerodown.lock_retries times with backoff rather than queueing the
 * application behind an ACCESS EXCLUSIVE request.
 *
 * Expansion states: expanded (triggers on, backfill to do), backfilled,
 * contracted, aborted.  A table with no rows when it is expanded has nothing
 * to backfill and starts as backfilled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "align.h"
#include "args.h"
#include "catalog.h"
#include "contracts.h"
#include "expand.h"
#include "publish.h"
#include "trigger.h"
#include "zerodown.h"


/* a column of a column expansion being checked */
typedef struct NewColumn
{
	char	   *name;
	Oid			typid;
	int32		typmod;
	char	   *type;			/* as SQL, from the type found */
	char	   *up;				/* as given */
	char	   *up_canonical;	/* as the trigger reads it */
} NewColumn;

typedef struct OldColumn
{
	char	   *name;
	char	   *down;
	char	   *down_canonical;
} OldColumn;

PG_FUNCTION_INFO_V1(zd_expand_column);
PG_FUNCTION_INFO_V1(zd_expand_columns);
PG_FUNCTION_INFO_V1(zd_expand_table);
PG_FUNCTION_INFO_V1(zd_contract);
PG_FUNCTION_INFO_V1(zd_abort);

static int64 expand_columns(FunctionCallInfo fcinfo, Oid relid, List *old_names,
							List *new_names, List *types, List *ups,
							List *downs);
/* a relation lock to take, for ZdTryUnderLockTimeout */
typedef struct LockRequest
{
	Oid			relid;
	LOCKMODE	mode;
} LockRequest;

static ErrorData *try_lock(Oid relid, LOCKMODE mode);
static void lock_relation(void *arg);
static void check_table(Relation rel, const char *role);
static void CheckExpansionRow(ZdExpansion *e);
static const char *privilege_name(AclMode mode);
static Oid	rel_owner(Oid relid);
static void report_inconsistent(ZdExpansion *e, const char *detail);
static void check_not_in_active(Oid relid, List *columns);
static char *read_watermark(Oid relid, const char *key);
static int64 record_expansion(bool column, Oid relid, const char *target,
							  Oid child, List *old_columns, List *new_columns,
							  List *types, List *ups, List *downs,
							  const char *key, const char *child_key,
							  const char *child_pk, List *triggers,
							  List *child_triggers, const char *watermark);
static char *trigger_name(const char *prefix, const char *name,
						  const char *suffix);
static char *trigger_function(FunctionCallInfo fcinfo, const char *name);
static char *trigger_args(List *args);
static void check_foreign_key(Relation parent, Relation child,
							  AttrNumber parent_key, AttrNumber child_key);
static void check_child_insertable(Relation child, List *filled);
static void check_child_index(Relation child, AttrNumber child_key,
							  const char *child_key_name,
							  const char *child_pk_name);
static void check_table_statements(Relation parent, Relation child,
								   const char *parent_key,
								   const char *child_key,
								   const char *child_pk, List *parent_cols,
								   List *child_cols);
static void check_writers_may(Relation rel, Relation other, AclMode modes);
static void role_may(Oid role, Relation other, AclMode modes, List **missing,
					 char **first);
static bool public_may(Relation other, AclMode mode);
static AclItem *acl_items(Acl *acl);
static bool list_member_text(List *list, const char *text);
static void check_statement(const char *sql, int nargs, Oid *types);
static void drop_triggers(Oid relid, List *triggers);
static void drop_columns(Oid relid, List *columns);
static void set_state(int64 id, const char *state);
static void execute(const char *sql, int expected);
static List *text_array_list(Datum array);
static Datum list_text_array(List *items);
static List *argument_list(FunctionCallInfo fcinfo, int arg,
						   const char *name);
static int	attnum_of(Relation rel, const char *name);
static inline void CheckColumnName(const char *name);
static inline void CheckDistinct(List *names, const char *what);

/*
 * A required argument: NULL is an error (22004).
 */
/* a name for a new column: not empty, and short enough to be kept whole */
static inline void
CheckColumnName(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a column name must not be empty"),
				 errhint("Name the new column, for example 'email_normalized'.")));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("column name \"%s\" is too long", name),
				 errdetail("Names are at most %d bytes long.", NAMEDATALEN - 1)));
}

static inline void
CheckDistinct(List *names, const char *what)
{
	ListCell   *a;
	ListCell   *b;

	foreach(a, names)
	{
		for_each_cell(b, names, lnext(names, a))
		{
			if (strcmp(lfirst(a), lfirst(b)) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" appears twice among the %s",
								(char *) lfirst(a), what),
						 errhint("Name each column once.")));
		}
	}
}

/*
 * zd_expand_column(tbl regclass, old_column text, new_column text,
 *					new_type text, up text, down text) returns bigint
 *
 * Adds new_column (of new_type) to tbl without a rewrite, and a trigger that
 * keeps it equal to up (an expression over the row, new from old) and
 * old_column equal to down (old from new), depending on which of the two a
 * write set.  Returns the expansion's id.
 */
Datum
zd_expand_column(PG_FUNCTION_ARGS)
{
	ZdCheckArgNotNull(fcinfo, 0, "tbl", "Name the table, for example 'users'.");
	ZdCheckArgNotNull(fcinfo, 1, "old_column", "Name the column that the old version of the application writes.");
	ZdCheckArgNotNull(fcinfo, 2, "new_column", "Name the column to add for the new version of the application.");
	ZdCheckArgNotNull(fcinfo, 3, "new_type", "Give the new column's type, for example 'text'.");
	ZdCheckArgNotNull(fcinfo, 4, "up", "Give the expression that computes the new column from the old one, for example 'lower(email)'.");
	ZdCheckArgNotNull(fcinfo, 5, "down", "Give the expression that computes the old column from the new one, for example 'email_normalized'.");

	PG_RETURN_INT64(expand_columns(fcinfo, PG_GETARG_OID(0),
								   list_make1(text_to_cstring(PG_GETARG_TEXT_PP(1))),
								   list_make1(text_to_cstring(PG_GETARG_TEXT_PP(2))),
								   list_make1(text_to_cstring(PG_GETARG_TEXT_PP(3))),
								   list_make1(text_to_cstring(PG_GETARG_TEXT_PP(4))),
								   list_make1(text_to_cstring(PG_GETARG_TEXT_PP(5)))));
}

/*
 * zd_expand_columns(tbl regclass, old_columns text[], new_columns text[],
 *					 new_types text[], ups text[], downs text[]) returns bigint
 *
 * The same for several columns at once: splitting one column into two,
 * merging two into one.  ups has one expression per new column, downs one
 * per old column.
 */
Datum
zd_expand_columns(PG_FUNCTION_ARGS)
{
	List	   *old_names;
	List	   *new_names;
	List	   *types;
	List	   *ups;
	List	   *downs;

	ZdCheckArgNotNull(fcinfo, 0, "tbl", "Name the table, for example 'users'.");
	old_names = argument_list(fcinfo, 1, "old_columns");
	new_names = argument_list(fcinfo, 2, "new_columns");
	types = argument_list(fcinfo, 3, "new_types");
	ups = argument_list(fcinfo, 4, "ups");
	downs = argument_list(fcinfo, 5, "downs");

	if (list_length(types) != list_length(new_names) ||
		list_length(ups) != list_length(new_names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_types and ups must have one element per new column"),
				 errdetail("There are %d new columns, %d types and %d up expressions.",
						   list_length(new_names), list_length(types),
						   list_length(ups))));
	if (list_length(downs) != list_length(old_names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("downs must have one element per old column"),
				 errdetail("There are %d old columns and %d down expressions.",
						   list_length(old_names), list_length(downs))));

	PG_RETURN_INT64(expand_columns(fcinfo, PG_GETARG_OID(0), old_names,
								   new_names, types, ups, downs));
}

static int64
expand_columns(FunctionCallInfo fcinfo, Oid relid, List *old_names,
			   List *new_names, List *types, List *ups, List *downs)
{
	Relation	rel;
	List	   *olds = NIL;
	List	   *news = NIL;
	List	   *canonical_ups = NIL;
	List	   *canonical_downs = NIL;
	List	   *type_names = NIL;
	List	   *args = NIL;
	List	   *watched = NIL;
	StringInfoData sql;
	ListCell   *lc;
	ListCell   *lc2;
	char	   *qualified;
	char	   *key;
	char	   *watermark = NULL;
	char	   *trigger;
	Oid			keytype;
	int64		id;
	int			i;

	ZdCheckDeployer("expand a table");
	foreach(lc, new_names)
		CheckColumnName(lfirst(lc));
	CheckDistinct(list_concat_copy(old_names, new_names), "old and new columns");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* the lock first: everything checked below stays true until commit */
	ZdCheckTableAccess(relid, ZD_TABLE_OWNER, "expand");
	ZdLockRelationRetry(relid, AccessExclusiveLock, "expand it");
	rel = relation_open(relid, NoLock);
	check_table(rel, "expand");
	qualified = ZdQualifiedName(relid);

	foreach(lc, old_names)
	{
		OldColumn  *old = palloc0(sizeof(OldColumn));

		old->name = lfirst(lc);
		(void) attnum_of(rel, old->name);
		olds = lappend(olds, old);
	}
	forboth(lc, new_names, lc2, types)
	{
		NewColumn  *new = palloc0(sizeof(NewColumn));
		int			attnum;

		new->name = lfirst(lc);
		attnum = SPI_fnumber(RelationGetDescr(rel), new->name);
		if (attnum != SPI_ERROR_NOATTRIBUTE)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" already exists",
							new->name, RelationGetRelationName(rel)),
					 errhint("Choose another name for the new column.")));
		parseTypeString(lfirst(lc2), &new->typid, &new->typmod, true);
		if (!OidIsValid(new->typid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("type \"%s\" of new column \"%s\" does not exist",
							(char *) lfirst(lc2), new->name),
					 errhint("Write the type as SQL does, for example 'text' or 'numeric(10,2)'; a type of a schema that is not on the search_path is named with its schema.")));
		if (get_typtype(new->typid) == TYPTYPE_PSEUDO)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("column \"%s\" cannot be of type %s", new->name,
							format_type_be(new->typid)),
					 errhint("Give the new column a type a table column can have.")));
		new->type = format_type_with_typemod(new->typid, new->typmod);
		news = lappend(news, new);
	}
	check_not_in_active(relid, list_concat_copy(old_names, new_names));

	/* up reads the table as it is */
	forboth(lc, news, lc2, ups)
	{
		NewColumn  *new = lfirst(lc);
		Expr	   *expr;

		new->up = lfirst(lc2);
		expr = ZdCookExpression(rel, new->up, "up", new->typid, new->typmod,
								new->name);
		new->up_canonical = ZdDeparseExpression(rel, expr);
	}
	key = ZdPrimaryKeyColumn(rel, &keytype);
	relation_close(rel, NoLock);

	/* the new columns, without a default: no rewrite */
	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s", qualified);
	foreach(lc, news)
	{
		NewColumn  *new = lfirst(lc);

		appendStringInfo(&sql, "%s ADD COLUMN %s %s",
						 foreach_current_index(lc) > 0 ? "," : "",
						 quote_identifier(new->name), new->type);
	}
	execute(sql.data, SPI_OK_UTILITY);

	/* down reads the table with its new columns */
	rel = relation_open(relid, NoLock);
	forboth(lc, olds, lc2, downs)
	{
		OldColumn  *old = lfirst(lc);
		Form_pg_attribute attr;
		Expr	   *expr;

		old->down = lfirst(lc2);
		attr = TupleDescAttr(RelationGetDescr(rel), attnum_of(rel, old->name) - 1);
		expr = ZdCookExpression(rel, old->down, "down", attr->atttypid,
								attr->atttypmod, old->name);
		old->down_canonical = ZdDeparseExpression(rel, expr);
	}
	relation_close(rel, NoLock);

	if (key != NULL)
		watermark = read_watermark(relid, key);

	/* the record, whose id the trigger carries */
	foreach(lc, news)
	{
		NewColumn  *new = lfirst(lc);

		type_names = lappend(type_names, new->type);
		canonical_ups = lappend(canonical_ups, new->up_canonical);
	}
	foreach(lc, olds)
		canonical_downs = lappend(canonical_downs, ((OldColumn *) lfirst(lc))->down_canonical);
	trigger = trigger_name("zd_column_", linitial(new_names), "");
	id = record_expansion(true, relid, linitial(new_names), InvalidOid,
						  old_names, new_names, type_names, canonical_ups,
						  canonical_downs, key, NULL, NULL,
						  list_make1(trigger), NIL, watermark);

	/* the trigger: its arguments are all it needs */
	args = lappend(args, psprintf(INT64_FORMAT, id));
	args = lappend(args, psprintf("%d", list_length(old_names)));
	args = lappend(args, psprintf("%d", list_length(new_names)));
	args = list_concat(args, old_names);
	args = list_concat(args, new_names);
	args = list_concat(args, canonical_ups);
	args = list_concat(args, canonical_downs);
	watched = list_concat_copy(old_names, new_names);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TRIGGER %s BEFORE INSERT OR UPDATE OF ",
					 quote_identifier(trigger));
	i = 0;
	foreach(lc, watched)
		appendStringInfo(&sql, "%s%s", i++ > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, " ON %s FOR EACH ROW EXECUTE FUNCTION %s(%s)",
					 qualified,
					 trigger_function(fcinfo, ZD_COLUMN_TRIGGER_FUNCTION),
					 trigger_args(args));
	execute(sql.data, SPI_OK_UTILITY);

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return id;
}

/*
 * zd_expand_table(parent regclass, child regclass, child_key text,
 *				   columns text[], child_columns text[]) returns bigint
 *
 * The parent keeps its columns; the child (created by the patch, with a
 * foreign key child_key to the parent's primary key) gets them too.
 * Installs the triggers that mirror the parent's columns into its primary
 * child row (the one with the lowest key) and back.  child_columns default
 * to the same names.  Returns the expansion's id.
 */
Datum
zd_expand_table(PG_FUNCTION_ARGS)
{
	Oid			parent_id;
	Oid			child_id;
	char	   *child_key;
	List	   *parent_cols;
	List	   *child_cols;
	Relation	parent;
	Relation	child;
	char	   *parent_key;
	char	   *child_pk;
	Oid			parent_keytype;
	Oid			child_pktype;
	AttrNumber	child_key_attnum;
	List	   *args = NIL;
	List	   *filled;
	char	   *parent_name;
	char	   *child_name;
	char	   *watermark;
	char	   *parent_trigger;
	char	   *delete_trigger;
	char	   *child_trigger;
	char	   *function;
	StringInfoData sql;
	ListCell   *lc;
	ListCell   *lc2;
	int64		id;

	ZdCheckArgNotNull(fcinfo, 0, "parent", "Name the table that keeps the old columns, for example 'users'.");
	ZdCheckArgNotNull(fcinfo, 1, "child", "Name the new table, for example 'addresses'.");
	ZdCheckArgNotNull(fcinfo, 2, "child_key", "Name the child's column that references the parent, for example 'user_id'.");
	parent_id = PG_GETARG_OID(0);
	child_id = PG_GETARG_OID(1);
	child_key = text_to_cstring(PG_GETARG_TEXT_PP(2));
	parent_cols = argument_list(fcinfo, 3, "columns");
	child_cols = PG_ARGISNULL(4) ? parent_cols : argument_list(fcinfo, 4, "child_columns");
	if (list_length(child_cols) != list_length(parent_cols))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("child_columns must have one element per column"),
				 errdetail("There are %d columns and %d child columns.",
						   list_length(parent_cols), list_length(child_cols))));
	CheckDistinct(parent_cols, "columns");
	CheckDistinct(child_cols, "child columns");
	if (parent_id == child_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parent and child must be two different tables"),
				 errhint("The child is the new table the parent's columns move to.")));

	ZdCheckDeployer("expand a table");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ZdCheckTableAccess(parent_id, ACL_TRIGGER, "expand");
	ZdCheckTableAccess(child_id, ACL_TRIGGER, "expand");
	ZdLockRelationRetry(parent_id, ShareRowExclusiveLock, "expand it");
	ZdLockRelationRetry(child_id, ShareRowExclusiveLock, "expand it");
	parent = relation_open(parent_id, NoLock);
	child = relation_open(child_id, NoLock);
	check_table(parent, "expand");
	check_table(child, "expand");
	parent_name = ZdQualifiedName(parent_id);
	child_name = ZdQualifiedName(child_id);

	parent_key = ZdPrimaryKeyColumn(parent, &parent_keytype);
	child_pk = ZdPrimaryKeyColumn(child, &child_pktype);
	if (parent_key == NULL || child_pk == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no single-column primary key",
						parent_key == NULL ? parent_name : child_name),
				 errdetail("The triggers find a parent's rows by its key and order a parent's child rows by theirs."),
				 errhint("Add a single-column primary key to it.")));
	child_key_attnum = attnum_of(child, child_key);
	check_foreign_key(parent, child, attnum_of(parent, parent_key),
					  child_key_attnum);

	forboth(lc, parent_cols, lc2, child_cols)
	{
		char	   *pcol = lfirst(lc);
		char	   *ccol = lfirst(lc2);
		Form_pg_attribute pattr = TupleDescAttr(RelationGetDescr(parent), attnum_of(parent, pcol) - 1);
		Form_pg_attribute cattr = TupleDescAttr(RelationGetDescr(child), attnum_of(child, ccol) - 1);

		if (strcmp(pcol, parent_key) == 0 || strcmp(ccol, child_key) == 0 ||
			strcmp(ccol, child_pk) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key column \"%s\" cannot be a mapped column",
							strcmp(pcol, parent_key) == 0 ? pcol : ccol),
					 errhint("Map only the columns that move from the parent to the child.")));
		if (pattr->atttypid != cattr->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of %s is of type %s, but column \"%s\" of %s is of type %s",
							pcol, parent_name, format_type_be(pattr->atttypid),
							ccol, child_name, format_type_be(cattr->atttypid)),
					 errhint("A mapped column must have the same type on both tables; change the type with zd_expand_column first.")));
	}
	check_not_in_active(parent_id, parent_cols);
	check_not_in_active(child_id, child_cols);
	filled = list_concat_copy(child_cols, list_make1(child_key));
	check_child_insertable(child, filled);
	check_writers_may(parent, child, ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE);
	check_writers_may(child, parent, ACL_SELECT | ACL_UPDATE);
	check_writers_may(child, child, ACL_SELECT);
	check_table_statements(parent, child, parent_key, child_key, child_pk,
						   parent_cols, child_cols);
	check_child_index(child, child_key_attnum, child_key, child_pk);

	parent_trigger = trigger_name("zd_table_", RelationGetRelationName(child), "");
	delete_trigger = trigger_name("zd_table_", RelationGetRelationName(child), "_delete");
	child_trigger = trigger_name("zd_table_", RelationGetRelationName(parent), "");
	relation_close(parent, NoLock);
	relation_close(child, NoLock);

	watermark = read_watermark(parent_id, parent_key);
	id = record_expansion(false, parent_id, get_rel_name(child_id), child_id,
						  parent_cols, child_cols, NIL, NIL, NIL, parent_key,
						  child_key, child_pk,
						  list_make2(parent_trigger, delete_trigger),
						  list_make1(child_trigger), watermark);

	/* each side's trigger gets the other table's name */
	args = lappend(args, psprintf(INT64_FORMAT, id));
	args = lappend(args, child_name);
	args = lappend(args, parent_key);
	args = lappend(args, child_key);
	args = lappend(args, child_pk);
	args = lappend(args, psprintf("%d", list_length(parent_cols)));
	args = list_concat(args, parent_cols);
	args = list_concat(args, child_cols);

	initStringInfo(&sql);
	function = trigger_function(fcinfo, ZD_PARENT_TRIGGER_FUNCTION);
	appendStringInfo(&sql, "CREATE TRIGGER %s AFTER INSERT OR UPDATE OF ",
					 quote_identifier(parent_trigger));
	foreach(lc, parent_cols)
		appendStringInfo(&sql, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, " ON %s FOR EACH ROW EXECUTE FUNCTION %s(%s)",
					 parent_name, function, trigger_args(args));
	execute(sql.data, SPI_OK_UTILITY);

	resetStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TRIGGER %s BEFORE DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s(%s)",
					 quote_identifier(delete_trigger), parent_name, function,
					 trigger_args(args));
	execute(sql.data, SPI_OK_UTILITY);

	lfirst(list_nth_cell(args, 1)) = parent_name;
	resetStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TRIGGER %s AFTER INSERT OR UPDATE OF %s, %s",
					 quote_identifier(child_trigger), quote_identifier(child_key),
					 quote_identifier(child_pk));
	foreach(lc, child_cols)
		appendStringInfo(&sql, ", %s", quote_identifier(lfirst(lc)));
	appendStringInfo(&sql, " OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s(%s)",
					 child_name,
					 trigger_function(fcinfo, ZD_CHILD_TRIGGER_FUNCTION),
					 trigger_args(args));
	execute(sql.data, SPI_OK_UTILITY);

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_INT64(id);
}

/*
 * zd_contract(tbl regclass, target text) returns text
 *
 * Ends a backfilled expansion: drops its triggers and the old shape (the old
 * columns, or the parent's mapped columns).  Refuses while the backfill is
 * not done.
 */
Datum
zd_contract(PG_FUNCTION_ARGS)
{
	ZdExpansion *e;

	ZdCheckArgNotNull(fcinfo, 0, "tbl", "Name the expanded table, for example 'users'.");
	ZdCheckArgNotNull(fcinfo, 1, "target", "Name the new column, or the child table, of the expansion.");
	ZdCheckDeployer("contract an expansion");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	e = ZdFindExpansion(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
						"contract", true);
	if (strcmp(e->state, "backfilled") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot contract expansion " INT64_FORMAT " of %s: its backfill is not done",
						e->id, e->table_name),
				 e->rows_total_known ?
				 errdetail("The backfill has done " INT64_FORMAT " of " INT64_FORMAT " rows.",
						   e->rows_done, e->rows_total) :
				 errdetail("The backfill has not started."),
				 errhint("Run CALL zd_backfill(%s, %s); first. Contracting drops the old shape, and the rows that existed before the expansion are not all in the new one yet.",
						 quote_literal_cstr(e->table_name),
						 quote_literal_cstr(e->target))));

	ZdCheckTableAccess(e->relid, ZD_TABLE_OWNER, "contract an expansion of");
	if (!e->column)
		ZdCheckTableAccess(e->child, ZD_TABLE_OWNER, "contract an expansion of");
	ZdLockRelationRetry(e->relid, AccessExclusiveLock, "contract it");
	if (!e->column)
		ZdLockRelationRetry(e->child, AccessExclusiveLock, "contract it");
	drop_triggers(e->relid, e->triggers);
	if (!e->column)
		drop_triggers(e->child, e->child_triggers);
	drop_columns(e->relid, e->old_columns);
	set_state(e->id, "contracted");
	ZdRecordExpansionPatch(e->id, true);

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_TEXT_P(cstring_to_text("contracted"));
}

/*
 * zd_abort(tbl regclass, target text) returns text
 *
 * Undoes an expansion that is not contracted: drops its triggers and, for a
 * column expansion, the new columns.  The child table of a table expansion
 * stays: the patch that created it drops it in its rollback.  A running
 * backfill stops at its next batch.
 */
Datum
zd_abort(PG_FUNCTION_ARGS)
{
	ZdExpansion *e;

	ZdCheckArgNotNull(fcinfo, 0, "tbl", "Name the expanded table, for example 'users'.");
	ZdCheckArgNotNull(fcinfo, 1, "target", "Name the new column, or the child table, of the expansion.");
	ZdCheckDeployer("abort an expansion");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	e = ZdFindExpansion(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
						"abort", true);
	ZdCheckTableAccess(e->relid, ZD_TABLE_OWNER, "abort an expansion of");
	if (!e->column)
		ZdCheckTableAccess(e->child, ZD_TABLE_OWNER, "abort an expansion of");
	ZdLockRelationRetry(e->relid, AccessExclusiveLock, "abort the expansion");
	if (!e->column)
		ZdLockRelationRetry(e->child, AccessExclusiveLock, "abort the expansion");
	drop_triggers(e->relid, e->triggers);
	if (e->column)
		drop_columns(e->relid, e->new_columns);
	else
		drop_triggers(e->child, e->child_triggers);
	set_state(e->id, "aborted");

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_TEXT_P(cstring_to_text("aborted"));
}

/*
 * The active expansion of tbl named target (its first new column, any of
 * its new columns, or its child table), locked FOR UPDATE when lock is set.
 * A contracted expansion and no expansion at all are errors that say so.
 * The caller is connected to SPI.
 */
ZdExpansion *
ZdFindExpansion(Oid relid, const char *target, const char *action, bool lock)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	ZdExpansion *e;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	int			ret;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(target);
	ret = ZdCatalogExecute(lock ?
								"SELECT id, kind, relid::oid, table_name, target, child::oid, child_name,"
								" old_columns, new_columns, key_column, child_key, child_pk, triggers,"
								" child_triggers, watermark, state, last_key, rows_done, rows_total"
								" FROM " ZD_EXPANSIONS_TABLE
								" WHERE relid = $1::regclass AND (target = $2 OR $2 = ANY (new_columns) OR child::text = $2 OR child_name = $2)"
								" ORDER BY state IN ('expanded', 'backfilled') DESC, id DESC LIMIT 1 FOR UPDATE" :
								"SELECT id, kind, relid::oid, table_name, target, child::oid, child_name,"
								" old_columns, new_columns, key_column, child_key, child_pk, triggers,"
								" child_triggers, watermark, state, last_key, rows_done, rows_total"
								" FROM " ZD_EXPANSIONS_TABLE
								" WHERE relid = $1::regclass AND (target = $2 OR $2 = ANY (new_columns) OR child::text = $2 OR child_name = $2)"
								" ORDER BY state IN ('expanded', 'backfilled') DESC, id DESC LIMIT 1",
								2, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read zerodown expansions: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table %s has no expansion \"%s\"",
						ZdQualifiedName(relid), target),
				 errhint("Name the expansion by its new column, or by its child table; zerodown.expansion_status lists them.")));

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	e = palloc0(sizeof(ZdExpansion));
	e->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	e->column = strcmp(SPI_getvalue(tuple, desc, 2), "column") == 0;
	e->relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 3, &isnull));
	e->table_name = SPI_getvalue(tuple, desc, 4);
	e->target = SPI_getvalue(tuple, desc, 5);
	d = SPI_getbinval(tuple, desc, 6, &isnull);
	e->child = isnull ? InvalidOid : DatumGetObjectId(d);
	e->child_name = SPI_getvalue(tuple, desc, 7);
	e->old_columns = text_array_list(SPI_getbinval(tuple, desc, 8, &isnull));
	e->new_columns = text_array_list(SPI_getbinval(tuple, desc, 9, &isnull));
	e->key_column = SPI_getvalue(tuple, desc, 10);
	e->child_key = SPI_getvalue(tuple, desc, 11);
	e->child_pk = SPI_getvalue(tuple, desc, 12);
	e->triggers = text_array_list(SPI_getbinval(tuple, desc, 13, &isnull));
	d = SPI_getbinval(tuple, desc, 14, &isnull);
	e->child_triggers = isnull ? NIL : text_array_list(d);
	e->watermark = SPI_getvalue(tuple, desc, 15);
	e->state = SPI_getvalue(tuple, desc, 16);
	e->last_key = SPI_getvalue(tuple, desc, 17);
	e->rows_done = DatumGetInt64(SPI_getbinval(tuple, desc, 18, &isnull));
	d = SPI_getbinval(tuple, desc, 19, &isnull);
	e->rows_total_known = !isnull;
	e->rows_total = isnull ? 0 : DatumGetInt64(d);
	CheckExpansionRow(e);
	if (e->key_column != NULL)
	{
		AttrNumber	attnum = get_attnum(e->relid, e->key_column);

		if (attnum == InvalidAttrNumber)
			report_inconsistent(e, psprintf("Its key column \"%s\" is not a column of %s.",
											e->key_column, ZdQualifiedName(e->relid)));
		e->key_type = get_atttype(e->relid, attnum);
	}

	if (strcmp(e->state, "contracted") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s expansion " INT64_FORMAT " of %s: it is contracted",
						action, e->id, e->table_name),
				 errdetail("zd_contract dropped its triggers and its old shape."),
				 strcmp(action, "abort") == 0 ?
				 errhint("A contracted expansion cannot be undone by zerodown; restore the old columns with a new patch.") : 0));
	if (strcmp(e->state, "aborted") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table %s has no expansion \"%s\"", e->table_name, target),
				 errdetail("Expansion " INT64_FORMAT " was aborted.", e->id)));
	return e;
}

/*
 * Take a table lock the way zd_align takes a patch's: under
 * zerodown.lock_timeout, in a subtransaction that is rolled back and retried
 * with jittered backoff when the lock does not come, zerodown.lock_retries
 * times.  The lock is held to the end of the caller's transaction.
 */
void
ZdLockRelationRetry(Oid relid, LOCKMODE mode, const char *action)
{
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		ErrorData  *edata;
		int			delay;

		CHECK_FOR_INTERRUPTS();
		edata = try_lock(relid, mode);

		if (edata == NULL)
			break;
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
			edata->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
			ReThrowError(edata);
		if (attempt > zerodown_lock_retries)
			ereport(ERROR,
					(errcode(edata->sqlerrcode),
					 errmsg("could not lock table %s to %s: %s",
							ZdQualifiedName(relid), action, edata->message),
					 errdetail("It was tried %d times, each time waiting up to zerodown.lock_timeout (%d ms).",
							   attempt, zerodown_lock_timeout),
					 errhint("Raise zerodown.lock_timeout or zerodown.lock_retries, or try again when the sessions using the table have ended.")));

		delay = ZdRetryDelay(attempt);
		ereport(NOTICE,
				(errmsg("could not lock table %s to %s (attempt %d of %d), retrying in %d ms",
						ZdQualifiedName(relid), action, attempt,
						zerodown_lock_retries + 1, delay),
				 errdetail("%s", edata->message)));
		ZdSleep(delay);
	}

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("It was dropped while zerodown waited for its lock.")));
}

/*
 * One attempt: the lock under zerodown.lock_timeout in a subtransaction.
 * Returns the error, or NULL when the lock was granted (and moved to the
 * caller's transaction).
 */
static ErrorData *
try_lock(Oid relid, LOCKMODE mode)
{
	LockRequest request = {relid, mode};

	return ZdTryUnderLockTimeout(lock_relation, &request, true);
}

static void
lock_relation(void *arg)
{
	LockRequest *request = arg;

	LockRelationOid(request->relid, request->mode);
}

/*
 * A table zerodown is about to lock for the caller, named by an argument or
 * by a row of zerodown.expansions: it must exist, be a table of the
 * application (never a system catalog), and the caller must hold the
 * privilege the operation needs (ZD_TABLE_OWNER: be its owner), all checked
 * before any lock is requested, as PostgreSQL's own commands do.
 */
void
ZdCheckTableAccess(Oid relid, AclMode mode, const char *action)
{
	char		relkind = get_rel_relkind(relid);
	Oid			nspid;
	AclResult	result;

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("Name an existing table.")));
	nspid = get_rel_namespace(relid);
	if (IsCatalogRelationOid(relid) || IsCatalogNamespace(nspid) ||
		IsToastNamespace(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s %s: it is a system catalog", action, ZdQualifiedName(relid)),
				 errhint("zerodown expands, backfills and contracts the application's own tables.")));
	if (nspid == get_namespace_oid(ZD_SCHEMA, true))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s %s: it is one of zerodown's own tables", action, ZdQualifiedName(relid)),
				 errhint("zerodown expands, backfills and contracts the application's own tables.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s \"%s\": it is not a table", action, get_rel_name(relid)),
				 errhint("Only plain and partitioned tables can be expanded.")));
	if (mode == ZD_TABLE_OWNER)
		result = pg_class_ownercheck(relid, GetUserId()) ? ACLCHECK_OK : ACLCHECK_NOT_OWNER;
	else
		result = pg_class_aclcheck(relid, GetUserId(), mode);
	if (result == ACLCHECK_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s table %s", action, ZdQualifiedName(relid)),
			 mode == ZD_TABLE_OWNER ?
			 errdetail("Only the owner of the table, role \"%s\", may %s it.",
					   GetUserNameFromId(rel_owner(relid), false), action) :
			 errdetail("Role \"%s\" needs the %s privilege on it.",
					   GetUserNameFromId(GetUserId(), false), privilege_name(mode)),
			 mode == ZD_TABLE_OWNER ?
			 errhint("Run it as the table's owner, or as a member of role \"%s\".",
					 GetUserNameFromId(rel_owner(relid), false)) :
			 errhint("The table's owner can run: GRANT %s ON %s TO %s;", privilege_name(mode),
					 ZdQualifiedName(relid),
					 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

static Oid
rel_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

static const char *
privilege_name(AclMode mode)
{
	switch (mode)
	{
		case ACL_SELECT:
			return "SELECT";
		case ACL_INSERT:
			return "INSERT";
		case ACL_UPDATE:
			return "UPDATE";
		case ACL_DELETE:
			return "DELETE";
		case ACL_TRIGGER:
			return "TRIGGER";
		default:
			return "required";
	}
}

/*
 * A row of zerodown.expansions that its functions could not have written
 * (a superuser's UPDATE, a partial restore): refuse it with a clear error,
 * before anything reads a NULL where it expects a name.
 */
static void
CheckExpansionRow(ZdExpansion *e)
{
	ListCell   *lc;

	if (e->triggers == NIL)
		report_inconsistent(e, pstrdup("It names no trigger."));
	foreach(lc, list_concat_copy(list_concat_copy(e->old_columns, e->new_columns),
								 list_concat_copy(e->triggers, e->child_triggers)))
		if (lfirst(lc) == NULL)
			report_inconsistent(e, pstrdup("A column or trigger name in it is NULL."));
	if (e->old_columns == NIL || e->new_columns == NIL)
		report_inconsistent(e, pstrdup("It names no old or no new column."));
	if (!e->column &&
		(!OidIsValid(e->child) || e->child_key == NULL || e->child_pk == NULL ||
		 e->key_column == NULL || e->child_triggers == NIL ||
		 list_length(e->old_columns) != list_length(e->new_columns)))
		report_inconsistent(e, pstrdup("A table expansion needs its child, its keys, its child's trigger and as many child columns as parent columns."));
	if (strcmp(e->state, "expanded") != 0 && strcmp(e->state, "backfilled") != 0 &&
		strcmp(e->state, "contracted") != 0 && strcmp(e->state, "aborted") != 0)
		report_inconsistent(e, psprintf("Its state \"%s\" is unknown.", e->state));
}

static void
report_inconsistent(ZdExpansion *e, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("expansion " INT64_FORMAT " of %s is inconsistent in zerodown.expansions",
					e->id, ZdQualifiedName(e->relid)),
			 errdetail("%s Nothing was changed.", detail),
			 errhint("zerodown's catalog was changed outside its functions. Compare the row with the table's triggers and columns, and have a superuser correct it or drop the triggers by hand.")));
}

/* schema.table, each part quoted when it needs to be */
char *
ZdQualifiedName(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		return psprintf("%u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  name);
}

/* a plain or partitioned table */
static void
check_table(Relation rel, const char *role)
{
	char		relkind = rel->rd_rel->relkind;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s \"%s\": it is not a table",
						role, RelationGetRelationName(rel)),
				 errhint("Only plain and partitioned tables can be expanded.")));
}

/* none of the columns belongs to an expansion that is still going on */
static void
check_not_in_active(Oid relid, List *columns)
{
	Oid			types[2] = {OIDOID, TEXTARRAYOID};
	Datum		values[2];
	int			ret;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = list_text_array(columns);
	ret = ZdCatalogExecute("SELECT id, c FROM " ZD_EXPANSIONS_TABLE " e,"
								" unnest(CASE WHEN e.relid = $1::regclass THEN e.old_columns || e.new_columns"
								"             WHEN e.child = $1::regclass THEN e.new_columns END) c"
								" WHERE (e.relid = $1::regclass OR e.child = $1::regclass)"
								" AND e.state IN ('expanded', 'backfilled')"
								" AND c = ANY ($2) ORDER BY id LIMIT 1",
								2, types, values, NULL, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read zerodown expansions: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("column \"%s\" of %s is already part of expansion %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
						ZdQualifiedName(relid),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Contract or abort that expansion first.")));
}

/* the name of the single column of rel's primary key, or NULL */
char *
ZdPrimaryKeyColumn(Relation rel, Oid *keytype)
{
	Oid			indexoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	tuple;
	Form_pg_index index;
	char	   *name = NULL;

	*keytype = InvalidOid;
	if (!OidIsValid(indexoid))
		return NULL;
	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tuple);
	if (index->indnkeyatts == 1 && index->indkey.values[0] > 0)
	{
		Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel),
											   index->indkey.values[0] - 1);

		name = pstrdup(NameStr(attr->attname));
		*keytype = attr->atttypid;
	}
	ReleaseSysCache(tuple);
	return name;
}

/*
 * The highest key at expand time, as text: the backfill stops there, so
 * rows inserted later (which the triggers fill) never make it chase its
 * tail.  NULL: the table is empty.
 */
static char *
read_watermark(Oid relid, const char *key)
{
	char	   *sql = psprintf("SELECT %s FROM %s ORDER BY 1 DESC LIMIT 1",
							   quote_identifier(key), ZdQualifiedName(relid));
	int			ret = SPI_execute(sql, false, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the highest key of %s: %s",
			 ZdQualifiedName(relid), SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Insert the expansion's row and return its id.  A table that is empty has
 * nothing to backfill: with a key and no highest key, it starts backfilled.
 */
static int64
record_expansion(bool column, Oid relid, const char *target, Oid child,
				 List *old_columns, List *new_columns, List *types, List *ups,
				 List *downs, const char *key, const char *child_key,
				 const char *child_pk, List *triggers, List *child_triggers,
				 const char *watermark)
{
	Oid			argtypes[18] = {TEXTOID, OIDOID, TEXTOID, TEXTOID, OIDOID, TEXTOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, NAMEOID};
	Datum		values[18];
	char		nulls[18];
	bool		empty = key != NULL && watermark == NULL;
	bool		isnull;
	int64		id;
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(column ? "column" : "table");
	values[1] = ObjectIdGetDatum(relid);
	values[2] = CStringGetTextDatum(ZdQualifiedName(relid));
	values[3] = CStringGetTextDatum(target);
	values[4] = ObjectIdGetDatum(child);
	nulls[4] = OidIsValid(child) ? ' ' : 'n';
	values[5] = OidIsValid(child) ? CStringGetTextDatum(ZdQualifiedName(child)) : (Datum) 0;
	nulls[5] = OidIsValid(child) ? ' ' : 'n';
	values[6] = list_text_array(old_columns);
	values[7] = list_text_array(new_columns);
	values[8] = types ? list_text_array(types) : (Datum) 0;
	nulls[8] = types ? ' ' : 'n';
	values[9] = ups ? list_text_array(ups) : (Datum) 0;
	nulls[9] = ups ? ' ' : 'n';
	values[10] = downs ? list_text_array(downs) : (Datum) 0;
	nulls[10] = downs ? ' ' : 'n';
	values[11] = key ? CStringGetTextDatum(key) : (Datum) 0;
	nulls[11] = key ? ' ' : 'n';
	values[12] = child_key ? CStringGetTextDatum(child_key) : (Datum) 0;
	nulls[12] = child_key ? ' ' : 'n';
	values[13] = child_pk ? CStringGetTextDatum(child_pk) : (Datum) 0;
	nulls[13] = child_pk ? ' ' : 'n';
	values[14] = list_text_array(triggers);
	values[15] = child_triggers ? list_text_array(child_triggers) : (Datum) 0;
	nulls[15] = child_triggers ? ' ' : 'n';
	values[16] = watermark ? CStringGetTextDatum(watermark) : (Datum) 0;
	nulls[16] = watermark ? ' ' : 'n';
	values[17] = ZdCallerName();

	ret = ZdCatalogExecute(empty ?
								"INSERT INTO " ZD_EXPANSIONS_TABLE
								" (kind, relid, table_name, target, child, child_name, old_columns, new_columns,"
								"  new_types, up, down, key_column, child_key, child_pk, triggers, child_triggers,"
								"  watermark, state, rows_total, backfilled_at, expanded_by)"
								" VALUES ($1, $2::regclass, $3, $4, $5::regclass, $6, $7, $8, $9, $10, $11, $12, $13,"
								"  $14, $15, $16, $17, 'backfilled', 0, now(), $18) RETURNING id" :
								"INSERT INTO " ZD_EXPANSIONS_TABLE
								" (kind, relid, table_name, target, child, child_name, old_columns, new_columns,"
								"  new_types, up, down, key_column, child_key, child_pk, triggers, child_triggers,"
								"  watermark, expanded_by)"
								" VALUES ($1, $2::regclass, $3, $4, $5::regclass, $6, $7, $8, $9, $10, $11, $12, $13,"
								"  $14, $15, $16, $17, $18) RETURNING id",
								18, argtypes, values, nulls, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not record the expansion: %s",
			 SPI_result_code_string(ret));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	ZdRecordExpansionPatch(id, false);
	return id;
}

/* prefix + name + suffix, cut to fit a name without splitting a character */
static char *
trigger_name(const char *prefix, const char *name, const char *suffix)
{
	int			room = NAMEDATALEN - 1 - strlen(prefix) - strlen(suffix);
	int			len = pg_mbcliplen(name, strlen(name), room);

	return psprintf("%s%.*s%s", prefix, len, name, suffix);
}

/* a trigger function, qualified with the schema zerodown's functions are in */
static char *
trigger_function(FunctionCallInfo fcinfo, const char *name)
{
	Oid			schema = get_func_namespace(fcinfo->flinfo->fn_oid);

	return quote_qualified_identifier(get_namespace_name(schema), name);
}

/* CREATE TRIGGER arguments: string literals */
static char *
trigger_args(List *args)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, args)
		appendStringInfo(&buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(lfirst(lc)));
	return buf.data;
}

/* the child has a foreign key (child_key) to the parent's key */
static void
check_foreign_key(Relation parent, Relation child, AttrNumber parent_key,
				  AttrNumber child_key)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(child)));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		AttrNumber	conkey[INDEX_MAX_KEYS];
		AttrNumber	confkey[INDEX_MAX_KEYS];
		Oid			pf_eq_oprs[INDEX_MAX_KEYS];
		Oid			pp_eq_oprs[INDEX_MAX_KEYS];
		Oid			ff_eq_oprs[INDEX_MAX_KEYS];
		AttrNumber	del_set_cols[INDEX_MAX_KEYS];
		int			num_del_set_cols;
		int			numfks;

		if (con->contype != CONSTRAINT_FOREIGN ||
			con->confrelid != RelationGetRelid(parent))
			continue;
		DeconstructFkConstraintRow(tuple, &numfks, conkey, confkey,
								   pf_eq_oprs, pp_eq_oprs, ff_eq_oprs,
								   &num_del_set_cols, del_set_cols);
		found = numfks == 1 && conkey[0] == child_key &&
			confkey[0] == parent_key;
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("there is no foreign key from %s (%s) to %s (%s)",
						ZdQualifiedName(RelationGetRelid(child)),
						quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(child), child_key - 1)->attname)),
						ZdQualifiedName(RelationGetRelid(parent)),
						quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(parent), parent_key - 1)->attname))),
				 errhint("Create the child table with the foreign key in the same patch, for example user_id integer NOT NULL REFERENCES users (id).")));
}

/*
 * The parent's trigger inserts child rows with only the foreign key and the
 * mapped columns: the child's key needs a default, and its other NOT NULL
 * columns too.
 */
static void
check_child_insertable(Relation child, List *filled)
{
	TupleDesc	desc = RelationGetDescr(child);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, i);
		ListCell   *lc;
		bool		given = false;

		if (attr->attisdropped || !attr->attnotnull || attr->atthasdef ||
			attr->attidentity || attr->attgenerated)
			continue;
		foreach(lc, filled)
			given |= strcmp(lfirst(lc), NameStr(attr->attname)) == 0;
		if (!given)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of %s is NOT NULL and has no default",
							NameStr(attr->attname),
							ZdQualifiedName(RelationGetRelid(child))),
					 errdetail("The old version of the application inserts child rows through the trigger, which sets only the foreign key and the mapped columns."),
					 errhint("Give the column a default, for example a sequence or an identity for the key.")));
	}
}

/*
 * Each write of a parent or child row looks up the parent's child rows: an
 * index that starts with the foreign key is needed on a table of any size.
 */
static void
check_child_index(Relation child, AttrNumber child_key,
				  const char *child_key_name, const char *child_pk_name)
{
	List	   *indexes = RelationGetIndexList(child);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for index %u", lfirst_oid(lc));
		found |= ((Form_pg_index) GETSTRUCT(tuple))->indkey.values[0] == child_key;
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
	if (!found)
		ereport(NOTICE,
				(errmsg("no index of %s starts with column \"%s\"",
						ZdQualifiedName(RelationGetRelid(child)), child_key_name),
				 errdetail("Each write of a parent or child row looks up the parent's child rows."),
				 errhint("Create one in the patch: CREATE INDEX ON %s (%s, %s);",
						 ZdQualifiedName(RelationGetRelid(child)),
						 quote_identifier(child_key_name),
						 quote_identifier(child_pk_name))));
}

/*
 * Prepare the statements the triggers will run, so that what cannot work
 * (a mapped column of a type without equality, say) fails now and not at
 * the first write.
 */
static void
check_table_statements(Relation parent, Relation child, const char *parent_key,
					   const char *child_key, const char *child_pk,
					   List *parent_cols, List *child_cols)
{
	int			n = list_length(parent_cols);
	char	  **pcols = palloc(n * sizeof(char *));
	char	  **ccols = palloc(n * sizeof(char *));
	Oid		   *types = palloc((n + 1) * sizeof(Oid));
	char	   *parent_name = ZdQualifiedName(RelationGetRelid(parent));
	char	   *child_name = ZdQualifiedName(RelationGetRelid(child));
	Oid			child_pk_type;
	int			side;
	int			i;

	for (i = 0; i < n; i++)
	{
		pcols[i] = list_nth(parent_cols, i);
		ccols[i] = list_nth(child_cols, i);
		types[i + 1] = TupleDescAttr(RelationGetDescr(parent), attnum_of(parent, pcols[i]) - 1)->atttypid;
	}
	types[0] = TupleDescAttr(RelationGetDescr(parent), attnum_of(parent, parent_key) - 1)->atttypid;
	child_pk_type = TupleDescAttr(RelationGetDescr(child), attnum_of(child, child_pk) - 1)->atttypid;

	for (side = 0; side < 2; side++)
	{
		ZdTableSql	sql;

		ZdTableStatements(side == 0, parent_name, child_name, parent_key,
						  child_key, child_pk, types[0], child_pk_type, n,
						  pcols, ccols, &sql);
		check_statement(sql.write, n + 1, types);
		check_statement(sql.other, 1, types);
		if (sql.read != NULL)
			check_statement(sql.read, 1, types);
	}
}

/*
 * The triggers' statements run as the role that writes: a mirrored write
 * gives it no privilege it did not have.  Every role that may write rel
 * (its owner, and each grantee of INSERT, UPDATE or DELETE on it, PUBLIC
 * included) must therefore hold each privilege in modes on other, or its
 * writes would fail once the triggers are in: refused now, with the GRANTs
 * that are missing.  Column privileges are not looked at: a role that
 * writes only some columns and may not write the other table gets a
 * permission error at its first write, never more rights.
 */
static void
check_writers_may(Relation rel, Relation other, AclMode modes)
{
	Oid			relid = RelationGetRelid(rel);
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Datum		datum;
	bool		isnull;
	Acl		   *acl;
	AclItem    *items;
	List	   *missing = NIL;
	char	   *first = NULL;
	int			i;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	acl = isnull ? acldefault(OBJECT_TABLE, rel->rd_rel->relowner) : DatumGetAclPCopy(datum);
	ReleaseSysCache(tuple);

	role_may(rel->rd_rel->relowner, other, modes, &missing, &first);
	items = acl_items(acl);
	for (i = 0; i < ACL_NUM(acl); i++)
	{
		if ((ACLITEM_GET_PRIVS(items[i]) & (ACL_INSERT | ACL_UPDATE | ACL_DELETE)) == 0)
			continue;
		role_may(items[i].ai_grantee, other, modes, &missing, &first);
	}
	if (missing == NIL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 rel == other ?
			 errmsg("%s may write %s but not read it, which the dual-write trigger on %s does for it",
					first, ZdQualifiedName(relid), ZdQualifiedName(relid)) :
			 errmsg("%s may write %s but not %s, which the dual-write trigger on %s writes for it",
					first, ZdQualifiedName(relid), ZdQualifiedName(RelationGetRelid(other)),
					ZdQualifiedName(relid)),
			 errdetail("The triggers run their statements as the role that writes, never as another role, so each role that writes %s needs these privileges on %s:\n%s",
					   ZdQualifiedName(relid), ZdQualifiedName(RelationGetRelid(other)),
					   ZdJoinLines(missing, 50)),
			 errhint("Grant them, or revoke the role's write privileges on %s, and expand again.",
					 ZdQualifiedName(relid))));
}

/* is the string in the list of strings? */
static bool
list_member_text(List *list, const char *text)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), text) == 0)
			return true;
	return false;
}

/* the privileges in modes that role (or PUBLIC) lacks on other */
static void
role_may(Oid role, Relation other, AclMode modes, List **missing, char **first)
{
	static const AclMode each[] = {ACL_SELECT, ACL_INSERT, ACL_UPDATE, ACL_DELETE};
	Oid			otherid = RelationGetRelid(other);
	const char *who = role == ACL_ID_PUBLIC ? "PUBLIC" :
		quote_identifier(GetUserNameFromId(role, false));
	int			i;

	for (i = 0; i < (int) lengthof(each); i++)
	{
		char	   *line;
		bool		may;

		if ((modes & each[i]) == 0)
			continue;
		if (role == ACL_ID_PUBLIC)
			may = public_may(other, each[i]);
		else
			may = pg_class_aclcheck(otherid, role, each[i]) == ACLCHECK_OK;
		if (may)
			continue;
		line = psprintf("GRANT %s ON %s TO %s;", privilege_name(each[i]),
						ZdQualifiedName(otherid), who);
		if (!list_member_text(*missing, line))
			*missing = lappend(*missing, line);
		if (*first == NULL)
			*first = role == ACL_ID_PUBLIC ? pstrdup("PUBLIC") :
				psprintf("role \"%s\"", GetUserNameFromId(role, false));
	}
}

/* an ACL's items (ACL_DAT, for an array that never holds NULLs) */
static AclItem *
acl_items(Acl *acl)
{
	Assert(!ARR_HASNULL(acl));
	return (AclItem *) (((char *) acl) + ARR_OVERHEAD_NONULLS(ARR_NDIM(acl)));
}

/* does other grant mode to PUBLIC? */
static bool
public_may(Relation other, AclMode mode)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(RelationGetRelid(other)));
	Datum		datum;
	bool		isnull;
	bool		may = false;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", RelationGetRelid(other));
	datum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	if (!isnull)
	{
		Acl		   *acl = DatumGetAclP(datum);
		AclItem    *items = acl_items(acl);
		int			i;

		for (i = 0; i < ACL_NUM(acl); i++)
			if (items[i].ai_grantee == ACL_ID_PUBLIC &&
				(ACLITEM_GET_PRIVS(items[i]) & mode) != 0)
				may = true;
	}
	ReleaseSysCache(tuple);
	return may;
}

/* prepare a statement only to see that it is valid */
static void
check_statement(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_freeplan(plan);
}

static void
drop_triggers(Oid relid, List *triggers)
{
	ListCell   *lc;

	foreach(lc, triggers)
	{
		if (!OidIsValid(get_trigger_oid(relid, lfirst(lc), true)))
			continue;
		execute(psprintf("DROP TRIGGER %s ON %s", quote_identifier(lfirst(lc)),
						 ZdQualifiedName(relid)),
				SPI_OK_UTILITY);
	}
}

/* drop columns: only their catalog entries change, the table is not rewritten */
static void
drop_columns(Oid relid, List *columns)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s", ZdQualifiedName(relid));
	foreach(lc, columns)
		appendStringInfo(&sql, "%s DROP COLUMN %s",
						 foreach_current_index(lc) > 0 ? "," : "",
						 quote_identifier(lfirst(lc)));
	execute(sql.data, SPI_OK_UTILITY);
}

static void
set_state(int64 id, const char *state)
{
	Oid			types[3] = {INT8OID, TEXTOID, NAMEOID};
	Datum		values[3];
	int			ret;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(state);
	values[2] = ZdCallerName();
	ret = ZdCatalogExecute("UPDATE " ZD_EXPANSIONS_TABLE
						   " SET state = $2, finished_at = now(), finished_by = $3"
						   " WHERE id = $1",
						   3, types, values, NULL, 0);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not record expansion " INT64_FORMAT " as %s: %s",
			 id, state, SPI_result_code_string(ret));
}

static void
execute(const char *sql, int expected)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != expected)
		elog(ERROR, "unexpected result %s of: %s", SPI_result_code_string(ret), sql);
}

static List *
text_array_list(Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *items = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		items = lappend(items, nulls[i] ? NULL : TextDatumGetCString(elems[i]));
	return items;
}

static Datum
list_text_array(List *items)
{
	Datum	   *elems = palloc(Max(list_length(items), 1) * sizeof(Datum));
	ListCell   *lc;

	foreach(lc, items)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(items), TEXTOID,
										   -1, false, TYPALIGN_INT));
}

/* a text[] argument: not NULL, not empty, no NULL element */
static List *
argument_list(FunctionCallInfo fcinfo, int arg, const char *name)
{
	List	   *items;
	ListCell   *lc;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("Pass an array of column names or expressions, one per column.")));
	items = text_array_list(PG_GETARG_DATUM(arg));
	if (items == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name),
				 errhint("Pass at least one element.")));
	foreach(lc, items)
	{
		if (lfirst(lc) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", name),
					 errhint("Give every element a value.")));
	}
	return items;
}

/* an existing column, by its exact name */
static int
attnum_of(Relation rel, const char *name)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(rel)),
				 errhint("Column names are taken as written, without quotes: pass 'Email', not '\"Email\"'.")));
	return attnum;
}

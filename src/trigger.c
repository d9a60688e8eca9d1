/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  The dual-write compatibility triggers of expand/contract.
 *
 * zd_dualwrite_column keeps the old and the new columns of a column
 * expansion in step: a BEFORE INSERT OR UPDATE row trigger that computes
 * the new columns from the old ones ("up") for rows the old application
 * version wrote, and the old columns from the new ones ("down") for rows the
 * new version wrote.  Which version wrote a row is read from the row itself:
 *
 *	- UPDATE: only old columns changed: up; only new columns changed: down;
 *	  both or neither: the row is left as written.
 *	- INSERT: the new columns are unset (NULL, or equal to their constant
 *	  default): up; the old columns are unset and a new one is set: down;
 *	  both set: left as written.  A row with nothing set on either side gets
 *	  up, so it is the old version's reading of the row that counts.
 *
 * The expressions are compiled into executor expression states once per
 * backend, trigger and table, and evaluated on the trigger's own tuple slot,
 * the way PostgreSQL computes a stored generated column; nothing goes
 * through SPI on this path.
 *
 * zd_dualwrite_parent and zd_dualwrite_child keep a parent table's columns
 * (users.address_line_1) and the parent's primary child row (the addresses
 * row of the user with the lowest key) in step: writes the parent trigger
 * sees are mirrored into the primary child row, which is inserted when
 * missing, and writes to the child are mirrored back into the parent when
 * they touch its primary row.  A child trigger first locks the parent row
 * and then reads the primary child under a new snapshot, so two writers of
 * the same parent are serialised and the last one sees the other's rows.
 * The mirrored statements run as the role that writes, so that a write
 * mirrored into the other table gives it no privilege it did not have
 * (zd_expand_table checks that every role that may write one table may
 * write the other), name every table and operator with its schema so that
 * no search_path changes what they mean, and run with a guard up, so that
 * the other side's trigger does not mirror the write back.
 *
 * The cache of compiled expressions and prepared plans lives in
 * TopMemoryContext, keyed by (trigger OID, table OID).  A relcache
 * invalidation of the table or of the other table of a table expansion, and
 * a change to any function an expression calls, mark entries stale; a stale
 * entry is rebuilt on its next use, and its memory is freed at the end of the
 * transaction, when nothing can still be evaluating it.  The callbacks are
 * registered on first use, so a backend that never fires a dual-write
 * trigger pays nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "trigger.h"

#define ZD_MAX_MIRROR_DEPTH		32

/* "SELECT " put before an expression to parse it */
#define ZD_EXPRESSION_PREFIX	"SELECT "

typedef enum TriggerKind
{
	TRIGGER_COLUMN,
	TRIGGER_PARENT,
	TRIGGER_CHILD
} TriggerKind;

typedef enum Direction
{
	DIRECTION_NONE,
	DIRECTION_UP,
	DIRECTION_DOWN
} Direction;

/* the columns of one side of a column expansion */
typedef struct ColumnSide
{
	int			n;
	char	  **names;
	int		   *attnums;
	int16	   *typlen;
	bool	   *byval;
	bool	   *has_default;	/* a constant default ... */
	Datum	   *default_value;	/* ... and its value */
	bool	   *default_null;
	Expr	  **exprs;			/* what computes each from the other side */
	ExprState **states;
} ColumnSide;

typedef struct TriggerKey
{
	Oid			tgoid;
	Oid			relid;
} TriggerKey;

typedef struct TriggerCache
{
	TriggerKey	key;			/* hash key: must be first */
	bool		valid;
	bool		busy;			/* its expression states are in use */
	TriggerKind kind;
	MemoryContext cxt;
	int64		expansion;
	List	   *function_hashes;	/* PROCOID hash values it depends on */

	/* column expansions */
	ColumnSide	old;
	ColumnSide	new;
	ExprContext *econtext;

	/* table expansions */
	Oid			other_relid;
	int			nmapped;
	int		   *mapped_attnums; /* in this table */
	int16	   *mapped_typlen;
	bool	   *mapped_byval;
	int			key_attnum;		/* parent: its key; child: the foreign key */
	int			child_pk_attnum;	/* child: its own key */
	SPIPlanPtr	plan_write;		/* parent: upsert child; child: update parent */
	SPIPlanPtr	plan_other;		/* parent: delete children; child: lock parent */
	SPIPlanPtr	plan_read;		/* child: parent's and primary child's values */
} TriggerCache;

/* what a stale entry leaves behind until the end of the transaction */
typedef struct Retired
{
	MemoryContext cxt;
	SPIPlanPtr	plans[3];
} Retired;

/* an expression being parsed, for the error context */
typedef struct ExpressionSource
{
	const char *source;
	const char *what;
	const char *column;
} ExpressionSource;

PG_FUNCTION_INFO_V1(zd_dualwrite_column);
PG_FUNCTION_INFO_V1(zd_dualwrite_parent);
PG_FUNCTION_INFO_V1(zd_dualwrite_child);

int64		ZdBackfillExpansion = 0;

static HTAB *trigger_cache = NULL;
static MemoryContext trigger_cache_cxt = NULL;
static List *retired = NIL;
static int64 mirror_stack[ZD_MAX_MIRROR_DEPTH];
static int	mirror_depth = 0;

static void init_cache(void);
static TriggerCache *lookup_entry(TriggerData *trigdata, TriggerKind kind);
static void retire_entry(TriggerCache *entry);
static void build_column_entry(TriggerCache *entry, TriggerData *trigdata);
static void build_side(TriggerCache *entry, Relation rel, ColumnSide *side,
					   char **names, int n);
static void compile_side(TriggerCache *entry, Relation rel, ColumnSide *side,
						 char **sources, const char *what);
static void build_table_entry(TriggerCache *entry, TriggerData *trigdata);
static int	column_attnum(Relation rel, const char *name, int64 expansion);
static SPIPlanPtr prepare_kept(const char *sql, int nargs, Oid *types);
static bool mirroring(int64 expansion);
static Direction column_direction(TriggerCache *entry, TriggerData *trigdata,
								  TupleTableSlot *slot);
static bool side_set(ColumnSide *side, TupleTableSlot *slot);
static bool side_changed(ColumnSide *side, TupleTableSlot *before,
						 TupleTableSlot *after);
static bool columns_changed(int n, int *attnums, int16 *typlen, bool *byval,
							TupleTableSlot *before, TupleTableSlot *after);
static HeapTuple fill_unchanged(TriggerCache *entry, TriggerData *trigdata,
								HeapTuple tuple);
static HeapTuple compute_side(TriggerCache *entry, ColumnSide *target,
							  Relation rel, HeapTuple tuple,
							  TupleTableSlot *slot);
static void run_mirror(TriggerCache *entry, SPIPlanPtr plan, int nvalues,
					   Datum *values, bool *isnull, int expected);
static void resync_parent(TriggerCache *entry, Datum key);
static void expression_error_callback(void *arg);
static bool contains_system_column(Node *node, void *context);
static bool collect_functions(Node *node, void *context);
static bool remember_function(Oid funcid, void *context);
static void relcache_callback(Datum arg, Oid relid);
static void function_callback(Datum arg, int cacheid, uint32 hashvalue);
static void end_of_transaction(XactEvent event, void *arg);
static inline void CheckTriggerCall(FunctionCallInfo fcinfo, const char *name);
static inline void CheckTriggerArgs(TriggerData *trigdata, const char *name,
									int minimum);

/*
 * The prologue every trigger function starts with: called by the trigger
 * manager, for each row.
 */
static inline void
CheckTriggerCall(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by the trigger manager", name),
				 errhint("zd_expand_column and zd_expand_table create the triggers that call it.")));
	if (!TRIGGER_FIRED_FOR_ROW(((TriggerData *) fcinfo->context)->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired for each row", name)));
}

static inline void
CheckTriggerArgs(TriggerData *trigdata, const char *name, int minimum)
{
	if (trigdata->tg_trigger->tgnargs < minimum)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was called with %d trigger arguments, expected at least %d",
						name, trigdata->tg_trigger->tgnargs, minimum),
				 errhint("zd_expand_column and zd_expand_table create the triggers that call it.")));
}

/*
 * zd_dualwrite_column(): BEFORE INSERT OR UPDATE, FOR EACH ROW.
 *
 * Arguments: expansion id, number of old columns k, number of new columns
 * m, the k old column names, the m new column names, the m "up"
 * expressions (one per new column) and the k "down" expressions (one per
 * old column).
 */
Datum
zd_dualwrite_column(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerCache *entry;
	HeapTuple	tuple;
	TupleTableSlot *slot;

	CheckTriggerCall(fcinfo, ZD_COLUMN_TRIGGER_FUNCTION);
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired BEFORE", ZD_COLUMN_TRIGGER_FUNCTION)));
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		tuple = trigdata->tg_trigtuple;
		slot = trigdata->tg_trigslot;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		tuple = trigdata->tg_newtuple;
		slot = trigdata->tg_newslot;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired for INSERT or UPDATE",
						ZD_COLUMN_TRIGGER_FUNCTION)));
	CheckTriggerArgs(trigdata, ZD_COLUMN_TRIGGER_FUNCTION, 7);

	entry = lookup_entry(trigdata, TRIGGER_COLUMN);
	switch (column_direction(entry, trigdata, slot))
	{
		case DIRECTION_UP:
			tuple = compute_side(entry, &entry->new, trigdata->tg_relation,
								 tuple, slot);
			break;
		case DIRECTION_DOWN:
			if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) && entry->new.n > 1)
				tuple = fill_unchanged(entry, trigdata, tuple);
			else
				tuple = compute_side(entry, &entry->old, trigdata->tg_relation,
									 tuple, slot);
			break;
		case DIRECTION_NONE:
			break;
	}
	return PointerGetDatum(tuple);
}

/*
 * The new version updated some of the new columns of a row that was never
 * filled (the backfill has not reached it, and no write since computed its
 * new columns): the new columns it left alone are NULL only because nobody
 * computed them yet.  Compute those from the old row first, then the old
 * columns from the result, so that down does not read the NULLs.
 */
static HeapTuple
fill_unchanged(TriggerCache *entry, TriggerData *trigdata, HeapTuple tuple)
{
	Relation	rel = trigdata->tg_relation;
	TupleTableSlot *before = trigdata->tg_trigslot;
	TupleTableSlot *after = trigdata->tg_newslot;
	TupleTableSlot *filled;
	HeapTuple	computed;
	HeapTuple	result;
	Datum	   *values;
	bool	   *isnull;
	bool	   *replace;
	int			i;

	if (side_set(&entry->new, before) || !side_set(&entry->old, before))
		return compute_side(entry, &entry->old, rel, tuple, after);

	/* up over the old row, kept only for the columns the update left alone */
	computed = compute_side(entry, &entry->new, rel, trigdata->tg_trigtuple, before);
	values = palloc(RelationGetDescr(rel)->natts * sizeof(Datum));
	isnull = palloc(RelationGetDescr(rel)->natts * sizeof(bool));
	replace = palloc0(RelationGetDescr(rel)->natts * sizeof(bool));
	heap_deform_tuple(computed, RelationGetDescr(rel), values, isnull);
	for (i = 0; i < entry->new.n; i++)
	{
		int			attnum = entry->new.attnums[i];

		if (!columns_changed(1, &attnum, &entry->new.typlen[i],
							 &entry->new.byval[i], before, after))
			replace[attnum - 1] = true;
	}
	tuple = heap_modify_tuple(tuple, RelationGetDescr(rel), values, isnull, replace);

	/* then down over that row */
	filled = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, filled, false);
	result = compute_side(entry, &entry->old, rel, tuple, filled);
	ExecDropSingleTupleTableSlot(filled);
	return result;
}

/*
 * zd_dualwrite_parent(): AFTER INSERT OR UPDATE, and BEFORE DELETE, FOR
 * EACH ROW, on the parent of a table expansion.
 *
 * Arguments (the same for the child's trigger): expansion id, the child
 * table (qualified and quoted), the parent's key column, the child's foreign
 * key column, the child's key column, the number n of mapped columns, the n
 * parent columns and the n child columns.
 */
Datum
zd_dualwrite_parent(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerCache *entry;
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *isnull;
	bool		any = false;
	int			i;

	CheckTriggerCall(fcinfo, ZD_PARENT_TRIGGER_FUNCTION);
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ?
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) :
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired AFTER INSERT OR UPDATE, or BEFORE DELETE",
						ZD_PARENT_TRIGGER_FUNCTION)));
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired for INSERT, UPDATE or DELETE",
						ZD_PARENT_TRIGGER_FUNCTION)));
	CheckTriggerArgs(trigdata, ZD_PARENT_TRIGGER_FUNCTION, 8);

	entry = lookup_entry(trigdata, TRIGGER_PARENT);
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		/* the children go first, or the foreign key would refuse */
		if (!mirroring(entry->expansion))
		{
			Datum		key;
			bool		keynull;

			key = slot_getattr(trigdata->tg_trigslot, entry->key_attnum, &keynull);
			if (!keynull)
				run_mirror(entry, entry->plan_other, 1, &key, &keynull,
						   SPI_OK_DELETE);
		}
		return PointerGetDatum(trigdata->tg_trigtuple);
	}

	if (mirroring(entry->expansion))
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		if (!columns_changed(entry->nmapped, entry->mapped_attnums,
							 entry->mapped_typlen, entry->mapped_byval,
							 trigdata->tg_trigslot, trigdata->tg_newslot))
			return PointerGetDatum(NULL);
		slot = trigdata->tg_newslot;
	}
	else
		slot = trigdata->tg_trigslot;

	values = palloc((entry->nmapped + 1) * sizeof(Datum));
	isnull = palloc((entry->nmapped + 1) * sizeof(bool));
	values[0] = slot_getattr(slot, entry->key_attnum, &isnull[0]);
	for (i = 0; i < entry->nmapped; i++)
	{
		values[i + 1] = slot_getattr(slot, entry->mapped_attnums[i], &isnull[i + 1]);
		any |= !isnull[i + 1];
	}

	/* a new parent with nothing in the mapped columns has no child row */
	if (isnull[0] || (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) && !any))
		return PointerGetDatum(NULL);

	run_mirror(entry, entry->plan_write, entry->nmapped + 1, values, isnull,
			   SPI_OK_INSERT);
	return PointerGetDatum(NULL);
}

/*
 * zd_dualwrite_child(): AFTER INSERT OR UPDATE OR DELETE, FOR EACH ROW, on
 * the child of a table expansion.  For each parent the write may concern
 * (both the old and the new one when the foreign key changed), lock the
 * parent row, then copy its primary child row's columns into it.
 */
Datum
zd_dualwrite_child(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerCache *entry;
	Datum		keys[2];
	bool		keynull[2] = {true, true};
	int			i;

	CheckTriggerCall(fcinfo, ZD_CHILD_TRIGGER_FUNCTION);
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired AFTER", ZD_CHILD_TRIGGER_FUNCTION)));
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired for INSERT, UPDATE or DELETE",
						ZD_CHILD_TRIGGER_FUNCTION)));
	CheckTriggerArgs(trigdata, ZD_CHILD_TRIGGER_FUNCTION, 8);

	entry = lookup_entry(trigdata, TRIGGER_CHILD);
	if (mirroring(entry->expansion))
		return PointerGetDatum(NULL);

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		TupleTableSlot *before = trigdata->tg_trigslot;
		TupleTableSlot *after = trigdata->tg_newslot;
		Form_pg_attribute key = TupleDescAttr(trigdata->tg_relation->rd_att,
											  entry->key_attnum - 1);
		Form_pg_attribute pk = TupleDescAttr(trigdata->tg_relation->rd_att,
											 entry->child_pk_attnum - 1);

		if (columns_changed(1, &entry->key_attnum, &key->attlen, &key->attbyval,
							before, after))
		{
			keys[0] = slot_getattr(before, entry->key_attnum, &keynull[0]);
			keys[1] = slot_getattr(after, entry->key_attnum, &keynull[1]);
		}
		else if (columns_changed(entry->nmapped, entry->mapped_attnums,
								 entry->mapped_typlen, entry->mapped_byval,
								 before, after) ||
				 columns_changed(1, &entry->child_pk_attnum, &pk->attlen,
								 &pk->attbyval, before, after))
			keys[0] = slot_getattr(after, entry->key_attnum, &keynull[0]);
	}
	else
		keys[0] = slot_getattr(trigdata->tg_trigslot, entry->key_attnum,
							   &keynull[0]);

	for (i = 0; i < 2; i++)
	{
		if (!keynull[i])
			resync_parent(entry, keys[i]);
	}
	return PointerGetDatum(NULL);
}

/*
 * Which way a column expansion's row goes; see the top of the file.
 */
static Direction
column_direction(TriggerCache *entry, TriggerData *trigdata,
				 TupleTableSlot *slot)
{
	if (ZdBackfillExpansion == entry->expansion)
		return DIRECTION_UP;

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (!side_set(&entry->new, slot))
			return DIRECTION_UP;
		if (!side_set(&entry->old, slot))
			return DIRECTION_DOWN;
		return DIRECTION_NONE;
	}
	else
	{
		bool		old_changed = side_changed(&entry->old, trigdata->tg_trigslot, slot);
		bool		new_changed = side_changed(&entry->new, trigdata->tg_trigslot, slot);

		if (old_changed && !new_changed)
			return DIRECTION_UP;
		if (new_changed && !old_changed)
			return DIRECTION_DOWN;
		return DIRECTION_NONE;
	}
}

/* some column of the side is set: not NULL, and not its constant default */
static bool
side_set(ColumnSide *side, TupleTableSlot *slot)
{
	int			i;

	for (i = 0; i < side->n; i++)
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, side->attnums[i], &isnull);

		if (isnull)
			continue;
		if (side->has_default[i] && !side->default_null[i] &&
			datum_image_eq(value, side->default_value[i], side->byval[i],
						   side->typlen[i]))
			continue;
		return true;
	}
	return false;
}

static bool
side_changed(ColumnSide *side, TupleTableSlot *before, TupleTableSlot *after)
{
	return columns_changed(side->n, side->attnums, side->typlen, side->byval,
						   before, after);
}

/* some of the columns differ between the two rows, byte for byte */
static bool
columns_changed(int n, int *attnums, int16 *typlen, bool *byval,
				TupleTableSlot *before, TupleTableSlot *after)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		bool		null1;
		bool		null2;
		Datum		value1 = slot_getattr(before, attnums[i], &null1);
		Datum		value2 = slot_getattr(after, attnums[i], &null2);

		if (null1 != null2)
			return true;
		if (!null1 && !datum_image_eq(value1, value2, byval[i], typlen[i]))
			return true;
	}
	return false;
}

/*
 * Compute the target side's columns from the row in slot, and return the
 * row with them replaced.  The expression states are not reentrant: when an
 * expression's own functions write to this table again, the nested call
 * evaluates on fresh states.
 */
static HeapTuple
compute_side(TriggerCache *entry, ColumnSide *target, Relation rel,
			 HeapTuple tuple, TupleTableSlot *slot)
{
	Datum	   *values = palloc(target->n * sizeof(Datum));
	bool	   *isnull = palloc(target->n * sizeof(bool));
	int			i;

	if (!entry->busy)
	{
		ExprContext *econtext = entry->econtext;

		entry->busy = true;
		ResetExprContext(econtext);
		econtext->ecxt_scantuple = slot;
		for (i = 0; i < target->n; i++)
			values[i] = ExecEvalExprSwitchContext(target->states[i], econtext,
												  &isnull[i]);
		econtext->ecxt_scantuple = NULL;
		entry->busy = false;
	}
	else
	{
		ExprContext *econtext = CreateStandaloneExprContext();

		econtext->ecxt_scantuple = slot;
		for (i = 0; i < target->n; i++)
		{
			ExprState  *state = ExecInitExpr(target->exprs[i], NULL);

			values[i] = ExecEvalExpr(state, econtext, &isnull[i]);
		}
		FreeExprContext(econtext, true);
	}

	return heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel), target->n,
									 target->attnums, values, isnull);
}

/*
 * Run one of the parent trigger's statements, as the role that writes (the
 * mirrored write gives it no privilege it did not have: the other table's
 * grants, row security and triggers apply to it as if it wrote that table
 * itself), with the mirroring guard up.
 */
static void
run_mirror(TriggerCache *entry, SPIPlanPtr plan, int nvalues, Datum *values,
		   bool *isnull, int expected)
{
	char	   *nulls = palloc(nvalues + 1);
	int			ret;
	int			i;

	for (i = 0; i < nvalues; i++)
		nulls[i] = isnull[i] ? 'n' : ' ';
	nulls[nvalues] = '\0';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdMirrorBegin(entry->expansion);
	PG_TRY();
	{
		ret = SPI_execute_plan(plan, values, nulls, false, 0);
		if (ret != expected)
			elog(ERROR, "zerodown dual-write trigger of expansion " INT64_FORMAT ": SPI_execute_plan returned %s",
				 entry->expansion, SPI_result_code_string(ret));
	}
	PG_FINALLY();
	{
		ZdMirrorEnd(entry->expansion);
	}
	PG_END_TRY();
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * Bring one parent in step with its primary child row: lock the parent row
 * (so that writers of the same parent take turns), then, under a snapshot
 * taken after the lock, read the parent's values and its primary child's,
 * and update the parent when they differ.  As the role that writes, with
 * the mirroring guard up.
 */
static void
resync_parent(TriggerCache *entry, Datum key)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ZdMirrorBegin(entry->expansion);
	PG_TRY();
	{
		int			n = entry->nmapped;
		Datum	   *values = palloc((n + 1) * sizeof(Datum));
		char	   *nulls = palloc(n + 2);
		bool		differ = false;
		int			ret;
		int			i;

		ret = SPI_execute_plan(entry->plan_other, &key, NULL, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "zerodown dual-write trigger: SPI_execute_plan returned %s",
				 SPI_result_code_string(ret));
		ret = SPI_execute_plan(entry->plan_read, &key, NULL, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "zerodown dual-write trigger: SPI_execute_plan returned %s",
				 SPI_result_code_string(ret));

		/* no parent row: it is being deleted, with its children */
		if (SPI_processed == 1)
		{
			HeapTuple	row = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;

			values[0] = key;
			nulls[0] = ' ';
			for (i = 0; i < n; i++)
			{
				bool		pnull;
				bool		cnull;
				Datum		pvalue = SPI_getbinval(row, desc, i + 1, &pnull);
				Datum		cvalue = SPI_getbinval(row, desc, n + i + 1, &cnull);

				if (pnull != cnull ||
					(!pnull && !datum_image_eq(pvalue, cvalue,
											   entry->mapped_byval[i],
											   entry->mapped_typlen[i])))
					differ = true;
				values[i + 1] = cvalue;
				nulls[i + 1] = cnull ? 'n' : ' ';
			}
			nulls[n + 1] = '\0';
			if (differ)
			{
				ret = SPI_execute_plan(entry->plan_write, values, nulls, false, 0);
				if (ret != SPI_OK_UPDATE)
					elog(ERROR, "zerodown dual-write trigger: SPI_execute_plan returned %s",
						 SPI_result_code_string(ret));
			}
		}
	}
	PG_FINALLY();
	{
		ZdMirrorEnd(entry->expansion);
	}
	PG_END_TRY();
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * The mirroring guard: while a table trigger's statement runs, the triggers
 * of the same expansion on the other table do nothing.  Other expansions'
 * triggers still run.
 */
void
ZdMirrorBegin(int64 expansion)
{
	if (mirror_depth >= ZD_MAX_MIRROR_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("zerodown dual-write triggers are nested more than %d deep",
						ZD_MAX_MIRROR_DEPTH),
				 errhint("Check for triggers of other expansions that write to each other's tables.")));
	mirror_stack[mirror_depth++] = expansion;
}

void
ZdMirrorEnd(int64 expansion)
{
	if (mirror_depth <= 0 || mirror_stack[mirror_depth - 1] != expansion)
		elog(ERROR, "zerodown mirroring guard out of step");
	mirror_depth--;
}

static bool
mirroring(int64 expansion)
{
	int			i;

	for (i = 0; i < mirror_depth; i++)
		if (mirror_stack[i] == expansion)
			return true;
	return false;
}

/*
 * Set search_path to ZD_PINNED_SEARCH_PATH until ZdUnpinSearchPath (or the
 * end of the (sub)transaction on error), as a function's SET clause does.
 */
int
ZdPinSearchPath(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", ZD_PINNED_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
ZdUnpinSearchPath(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Parse an "up" or "down" expression over the row of rel, and coerce it to
 * the column's type as an INSERT would.  Errors point into the expression
 * and say which one it is: 42601 when it does not parse or is not a single
 * expression, 42804 when its type does not fit the column, 0A000 for
 * subqueries, aggregates, window and set-returning functions and system
 * columns.
 */
Expr *
ZdCookExpression(Relation rel, const char *source, const char *what,
				 Oid typid, int32 typmod, const char *column)
{
	ExpressionSource errarg = {source, what, column};
	ErrorContextCallback errcallback;
	char	   *sql = psprintf("%s%s", ZD_EXPRESSION_PREFIX, source);
	List	   *raw;
	SelectStmt *select = NULL;
	ResTarget  *target = NULL;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	Node	   *coerced;
	Oid			exprtype;

	errcallback.callback = expression_error_callback;
	errcallback.arg = &errarg;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) == 1 &&
		IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt))
		select = (SelectStmt *) linitial_node(RawStmt, raw)->stmt;
	if (select != NULL && select->op == SETOP_NONE &&
		list_length(select->targetList) == 1 &&
		select->fromClause == NIL && select->whereClause == NULL &&
		select->groupClause == NIL && select->havingClause == NULL &&
		select->windowClause == NIL && select->distinctClause == NIL &&
		select->sortClause == NIL && select->limitCount == NULL &&
		select->limitOffset == NULL && select->lockingClause == NIL &&
		select->withClause == NULL && select->intoClause == NULL &&
		select->valuesLists == NIL)
		target = linitial_node(ResTarget, select->targetList);
	if (target == NULL || target->name != NULL ||
		(IsA(target->val, ColumnRef) &&
		 IsA(llast(((ColumnRef *) target->val)->fields), A_Star)))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s expression for column \"%s\" must be a single expression",
						what, column),
				 errdetail("The %s expression is: %s", what, source),
				 errhint("Write one expression over the row's columns, such as lower(email), without SELECT, FROM, AS or a semicolon.")));

	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = sql;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										   NULL, false, false);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	expr = transformExpr(pstate, target->val, EXPR_KIND_SELECT_TARGET);

	if (pstate->p_hasAggs || pstate->p_hasWindowFuncs ||
		pstate->p_hasTargetSRFs || pstate->p_hasSubLinks ||
		expression_returns_set(expr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s expression for column \"%s\" must not contain subqueries, aggregates, window functions or set-returning functions",
						what, column),
				 errdetail("The %s expression is: %s", what, source),
				 errhint("Compute the value from the row's own columns; wrap a lookup in another table in a function.")));
	if (contains_system_column(expr, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s expression for column \"%s\" must not use system columns",
						what, column),
				 errdetail("The %s expression is: %s", what, source)));

	exprtype = exprType(expr);
	coerced = coerce_to_target_type(pstate, expr, exprtype, typid, typmod,
									COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST,
									-1);
	if (coerced == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s expression for column \"%s\" is of type %s, but the column is of type %s",
						what, column, format_type_be(exprtype),
						format_type_with_typemod(typid, typmod)),
				 errdetail("The %s expression is: %s", what, source),
				 errhint("Rewrite the expression or cast it: (%s)::%s",
						 source, format_type_with_typemod(typid, typmod))));
	assign_expr_collations(pstate, coerced);
	free_parsestate(pstate);

	error_context_stack = errcallback.previous;
	return (Expr *) coerced;
}

/*
 * The expression as text that reads the same under any search_path: under
 * the pinned one, everything outside pg_catalog is schema-qualified.
 */
char *
ZdDeparseExpression(Relation rel, Expr *expr)
{
	int			nestlevel = ZdPinSearchPath();
	char	   *text;

	text = deparse_expression((Node *) expr,
							  deparse_context_for(RelationGetRelationName(rel),
												  RelationGetRelid(rel)),
							  false, false);
	ZdUnpinSearchPath(nestlevel);
	return text;
}

/*
 * Errors while parsing an expression point into the expression itself, not
 * into the statement that called zd_expand_column.
 */
static void
expression_error_callback(void *arg)
{
	ExpressionSource *errarg = (ExpressionSource *) arg;
	int			position = geterrposition();

	if (position > 0)
	{
		int			prefix = strlen(ZD_EXPRESSION_PREFIX);

		errposition(0);
		internalerrposition(Max(position - prefix, 1));
		internalerrquery(errarg->source);
	}
	errcontext("%s expression for column \"%s\"", errarg->what, errarg->column);
}

static bool
contains_system_column(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) && ((Var *) node)->varattno < 0)
		return true;
	return expression_tree_walker(node, contains_system_column, context);
}

static void
init_cache(void)
{
	HASHCTL		ctl;

	trigger_cache_cxt = AllocSetContextCreate(TopMemoryContext,
											  "zerodown dual-write cache",
											  ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TriggerKey);
	ctl.entrysize = sizeof(TriggerCache);
	ctl.hcxt = trigger_cache_cxt;
	trigger_cache = hash_create("zerodown dual-write triggers", 16, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, function_callback, (Datum) 0);
	RegisterXactCallback(end_of_transaction, NULL);
}

/*
 * The cache entry of this trigger on this table, built (again) when it is
 * new or stale.
 */
static TriggerCache *
lookup_entry(TriggerData *trigdata, TriggerKind kind)
{
	TriggerKey	key;
	TriggerCache *entry;
	bool		found;

	if (trigger_cache == NULL)
		init_cache();

	key.tgoid = trigdata->tg_trigger->tgoid;
	key.relid = RelationGetRelid(trigdata->tg_relation);
	entry = hash_search(trigger_cache, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) entry + sizeof(TriggerKey), 0,
			   sizeof(TriggerCache) - sizeof(TriggerKey));
		entry->valid = false;
	}
	if (entry->valid && entry->kind == kind)
		return entry;

	retire_entry(entry);
	entry->kind = kind;
	entry->cxt = AllocSetContextCreate(trigger_cache_cxt,
									   "zerodown dual-write trigger",
									   ALLOCSET_SMALL_SIZES);
	MemoryContextSetIdentifier(entry->cxt,
							   MemoryContextStrdup(entry->cxt,
												   trigdata->tg_trigger->tgname));
	entry->expansion = pg_strtoint64(trigdata->tg_trigger->tgargs[0]);
	if (kind == TRIGGER_COLUMN)
		build_column_entry(entry, trigdata);
	else
		build_table_entry(entry, trigdata);
	entry->valid = true;
	return entry;
}

/*
 * Forget what a stale entry holds; its memory and plans are freed at the end
 * of the transaction, when no evaluation can still be using them.
 */
static void
retire_entry(TriggerCache *entry)
{
	MemoryContext oldcontext;
	Retired    *r;

	if (entry->cxt == NULL)
		return;
	oldcontext = MemoryContextSwitchTo(trigger_cache_cxt);
	r = palloc0(sizeof(Retired));
	r->cxt = entry->cxt;
	r->plans[0] = entry->plan_write;
	r->plans[1] = entry->plan_other;
	r->plans[2] = entry->plan_read;
	retired = lappend(retired, r);
	MemoryContextSwitchTo(oldcontext);

	memset((char *) entry + sizeof(TriggerKey), 0,
		   sizeof(TriggerCache) - sizeof(TriggerKey));
}

static void
build_column_entry(TriggerCache *entry, TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	Trigger    *trigger = trigdata->tg_trigger;
	char	  **args = trigger->tgargs;
	MemoryContext oldcontext;
	int			nold;
	int			nnew;
	int			nestlevel;

	nold = pg_strtoint32(args[1]);
	nnew = pg_strtoint32(args[2]);
	if (nold < 1 || nnew < 1 || trigger->tgnargs != 3 + 2 * nold + 2 * nnew)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" has the wrong arguments for function \"%s\"",
						trigger->tgname, RelationGetRelationName(rel),
						ZD_COLUMN_TRIGGER_FUNCTION)));

	oldcontext = MemoryContextSwitchTo(entry->cxt);
	build_side(entry, rel, &entry->old, args + 3, nold);
	build_side(entry, rel, &entry->new, args + 3 + nold, nnew);

	/* compile under the pinned search_path: the text was written for it */
	nestlevel = ZdPinSearchPath();
	compile_side(entry, rel, &entry->new, args + 3 + nold + nnew, "up");
	compile_side(entry, rel, &entry->old, args + 3 + nold + 2 * nnew, "down");
	ZdUnpinSearchPath(nestlevel);

	entry->econtext = CreateStandaloneExprContext();
	MemoryContextSwitchTo(oldcontext);
}

/* find a side's columns, their types, and their constant defaults */
static void
build_side(TriggerCache *entry, Relation rel, ColumnSide *side, char **names,
		   int n)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	side->n = n;
	side->names = palloc(n * sizeof(char *));
	side->attnums = palloc(n * sizeof(int));
	side->typlen = palloc(n * sizeof(int16));
	side->byval = palloc(n * sizeof(bool));
	side->has_default = palloc0(n * sizeof(bool));
	side->default_value = palloc0(n * sizeof(Datum));
	side->default_null = palloc0(n * sizeof(bool));
	side->exprs = palloc0(n * sizeof(Expr *));
	side->states = palloc0(n * sizeof(ExprState *));

	for (i = 0; i < n; i++)
	{
		Form_pg_attribute attr;

		side->names[i] = pstrdup(names[i]);
		side->attnums[i] = column_attnum(rel, names[i], entry->expansion);
		attr = TupleDescAttr(desc, side->attnums[i] - 1);
		side->typlen[i] = attr->attlen;
		side->byval[i] = attr->attbyval;
		if (attr->atthasdef)
		{
			Node	   *def = build_column_default(rel, side->attnums[i]);

			if (def != NULL)
			{
				def = (Node *) expression_planner((Expr *) def);
				if (IsA(def, Const))
				{
					side->has_default[i] = true;
					side->default_value[i] = ((Const *) def)->constvalue;
					side->default_null[i] = ((Const *) def)->constisnull;
				}
			}
		}
	}
}

/* compile the expressions that compute a side's columns */
static void
compile_side(TriggerCache *entry, Relation rel, ColumnSide *side,
			 char **sources, const char *what)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < side->n; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, side->attnums[i] - 1);
		Expr	   *expr = ZdCookExpression(rel, sources[i], what, attr->atttypid,
											attr->atttypmod, side->names[i]);

		(void) collect_functions((Node *) expr, entry);
		side->exprs[i] = expression_planner(expr);
		(void) collect_functions((Node *) side->exprs[i], entry);
		side->states[i] = ExecInitExpr(side->exprs[i], NULL);
	}
}

static int
column_attnum(Relation rel, const char *name, int64 expansion)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(rel)),
				 errdetail("The dual-write trigger of zerodown expansion " INT64_FORMAT " needs it.",
						   expansion),
				 errhint("A column of an expansion must not be renamed or dropped until zd_contract or zd_abort ends the expansion.")));
	return attnum;
}

/*
 * A table trigger: find this table's columns, and prepare the statements
 * that write the other table.
 */
static void
build_table_entry(TriggerCache *entry, TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	Trigger    *trigger = trigdata->tg_trigger;
	char	  **args = trigger->tgargs;
	bool		parent = entry->kind == TRIGGER_PARENT;
	const char *other = args[1];
	const char *parent_key = args[2];
	const char *child_key = args[3];
	const char *child_pk = args[4];
	char	  **parent_cols = args + 6;
	char	  **child_cols;
	char	  **mine;
	char	   *this_name;
	ZdTableSql sql;
	Oid		   *types;
	Oid			child_pk_type;
	MemoryContext oldcontext;
	int			n;
	int			i;

	n = pg_strtoint32(args[5]);
	if (n < 1 || trigger->tgnargs != 6 + 2 * n)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" has the wrong arguments for function \"%s\"",
						trigger->tgname, RelationGetRelationName(rel),
						parent ? ZD_PARENT_TRIGGER_FUNCTION : ZD_CHILD_TRIGGER_FUNCTION)));
	child_cols = args + 6 + n;
	mine = parent ? parent_cols : child_cols;

	oldcontext = MemoryContextSwitchTo(entry->cxt);

	entry->other_relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(other)),
										  NoLock, true);
	if (!OidIsValid(entry->other_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation %s does not exist", other),
				 errdetail("The dual-write trigger of zerodown expansion " INT64_FORMAT " on \"%s\" needs it.",
						   entry->expansion, RelationGetRelationName(rel)),
				 errhint("A table of an expansion must not be renamed or dropped until zd_contract or zd_abort ends the expansion.")));

	entry->nmapped = n;
	entry->mapped_attnums = palloc(n * sizeof(int));
	entry->mapped_typlen = palloc(n * sizeof(int16));
	entry->mapped_byval = palloc(n * sizeof(bool));
	types = palloc((n + 1) * sizeof(Oid));
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute attr;

		entry->mapped_attnums[i] = column_attnum(rel, mine[i], entry->expansion);
		attr = TupleDescAttr(RelationGetDescr(rel), entry->mapped_attnums[i] - 1);
		entry->mapped_typlen[i] = attr->attlen;
		entry->mapped_byval[i] = attr->attbyval;
		types[i + 1] = attr->atttypid;
	}
	entry->key_attnum = column_attnum(rel, parent ? parent_key : child_key,
									  entry->expansion);
	types[0] = SPI_gettypeid(RelationGetDescr(rel), entry->key_attnum);
	if (parent)
	{
		AttrNumber	attnum = get_attnum(entry->other_relid, child_pk);

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation %s does not exist", child_pk, other),
					 errdetail("The dual-write trigger of zerodown expansion " INT64_FORMAT " needs it.",
							   entry->expansion)));
		child_pk_type = get_atttype(entry->other_relid, attnum);
	}
	else
	{
		entry->child_pk_attnum = column_attnum(rel, child_pk, entry->expansion);
		child_pk_type = SPI_gettypeid(RelationGetDescr(rel), entry->child_pk_attnum);
	}

	this_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										   RelationGetRelationName(rel));
	ZdTableStatements(parent, parent ? this_name : other, parent ? other : this_name,
					  parent_key, child_key, child_pk, types[0], child_pk_type,
					  n, parent_cols, child_cols, &sql);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (parent)
	{
		entry->plan_write = prepare_kept(sql.write, n + 1, types);
		entry->plan_other = prepare_kept(sql.other, 1, types);
	}
	else
	{
		entry->plan_other = prepare_kept(sql.other, 1, types);
		entry->plan_read = prepare_kept(sql.read, 1, types);
		entry->plan_write = prepare_kept(sql.write, n + 1, types);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");

	MemoryContextSwitchTo(oldcontext);
}

/*
 * "OPERATOR(schema.op)" for the default btree equality (or greater-than)
 * operator of a type, so that a statement means the same under any
 * search_path, as PostgreSQL's foreign key triggers write theirs.
 */
char *
ZdTypeOperator(Oid typid, int which)
{
	TypeCacheEntry *typentry = lookup_type_cache(typid, which);
	Oid			opr = which == TYPECACHE_EQ_OPR ? typentry->eq_opr : typentry->gt_opr;
	HeapTuple	tuple;
	Form_pg_operator form;
	char	   *result;

	if (!OidIsValid(opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no default btree operator class", format_type_be(typid)),
				 errhint("A key column must be of a type that can be compared and sorted.")));
	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	form = (Form_pg_operator) GETSTRUCT(tuple);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(form->oprnamespace)),
					  NameStr(form->oprname));
	ReleaseSysCache(tuple);
	return result;
}

/*
 * The statements of a table expansion's triggers; $1 is always the parent's
 * key.  The parent's: write upserts the primary child row ($2.. the mapped
 * values: update it, or insert one when there is none and some value is
 * set); other deletes the parent's children.  The child's: other locks the
 * parent row; read returns the parent's mapped values and its primary
 * child's; write sets the parent's ($2.. the values).  Table names come
 * qualified and quoted; operators are named with their schema.
 */
void
ZdTableStatements(bool parent, const char *parent_name, const char *child_name,
				  const char *parent_key, const char *child_key,
				  const char *child_pk, Oid key_type, Oid child_pk_type,
				  int n, char **parent_cols, char **child_cols,
				  ZdTableSql *sql)
{
	StringInfoData buf;
	char	   *key_eq = ZdTypeOperator(key_type, TYPECACHE_EQ_OPR);
	char	   *pk_eq = ZdTypeOperator(child_pk_type, TYPECACHE_EQ_OPR);
	char	   *pk = pstrdup(quote_identifier(child_pk));
	int			i;

	memset(sql, 0, sizeof(ZdTableSql));
	initStringInfo(&buf);
	if (parent)
	{
		appendStringInfo(&buf,
						 "WITH p AS (SELECT c.%s FROM %s c WHERE c.%s %s $1 ORDER BY c.%s LIMIT 1 FOR UPDATE OF c),"
						 " u AS (UPDATE %s c SET ",
						 pk, child_name, quote_identifier(child_key), key_eq, pk,
						 child_name);
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%s%s = $%d", i > 0 ? ", " : "",
							 quote_identifier(child_cols[i]), i + 2);
		appendStringInfo(&buf, " FROM p WHERE c.%s %s p.%s RETURNING 1)"
						 " INSERT INTO %s (%s",
						 pk, pk_eq, pk, child_name, quote_identifier(child_key));
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, ", %s", quote_identifier(child_cols[i]));
		appendStringInfoString(&buf, ") SELECT $1");
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, ", $%d", i + 2);
		appendStringInfoString(&buf, " WHERE NOT EXISTS (SELECT FROM p) AND (");
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%s$%d IS NOT NULL", i > 0 ? " OR " : "", i + 2);
		appendStringInfoChar(&buf, ')');
		sql->write = pstrdup(buf.data);

		resetStringInfo(&buf);
		appendStringInfo(&buf, "DELETE FROM %s c WHERE c.%s %s $1",
						 child_name, quote_identifier(child_key), key_eq);
		sql->other = pstrdup(buf.data);
	}
	else
	{
		appendStringInfo(&buf,
						 "SELECT FROM %s p WHERE p.%s %s $1 FOR NO KEY UPDATE OF p",
						 parent_name, quote_identifier(parent_key), key_eq);
		sql->other = pstrdup(buf.data);

		resetStringInfo(&buf);
		appendStringInfoString(&buf, "SELECT ");
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "p.%s, ", quote_identifier(parent_cols[i]));
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%ss.%s", i > 0 ? ", " : "",
							 quote_identifier(child_cols[i]));
		appendStringInfo(&buf, " FROM %s p LEFT JOIN LATERAL (SELECT ", parent_name);
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%sc.%s", i > 0 ? ", " : "",
							 quote_identifier(child_cols[i]));
		appendStringInfo(&buf, " FROM %s c WHERE c.%s %s $1 ORDER BY c.%s LIMIT 1) s ON true"
						 " WHERE p.%s %s $1",
						 child_name, quote_identifier(child_key), key_eq, pk,
						 quote_identifier(parent_key), key_eq);
		sql->read = pstrdup(buf.data);

		resetStringInfo(&buf);
		appendStringInfo(&buf, "UPDATE %s p SET ", parent_name);
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, "%s%s = $%d", i > 0 ? ", " : "",
							 quote_identifier(parent_cols[i]), i + 2);
		appendStringInfo(&buf, " WHERE p.%s %s $1",
						 quote_identifier(parent_key), key_eq);
		sql->write = pstrdup(buf.data);
	}
	pfree(buf.data);
}

/* prepare a statement and keep its plan for the life of the entry */
static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "zerodown dual-write trigger: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "zerodown dual-write trigger: SPI_keepplan failed");
	return plan;
}

/* remember the PROCOID hash value of every function an expression calls */
static bool
collect_functions(Node *node, void *context)
{
	if (node == NULL)
		return false;
	(void) check_functions_in_node(node, remember_function, context);
	return expression_tree_walker(node, collect_functions, context);
}

static bool
remember_function(Oid funcid, void *context)
{
	TriggerCache *entry = (TriggerCache *) context;
	uint32		hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(funcid));

	entry->function_hashes = lappend_int(entry->function_hashes, (int) hash);
	return false;
}

/*
 * The table, or the other table of a table expansion, changed (columns,
 * triggers, owner): its entries are stale.  InvalidOid means every table.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	TriggerCache *entry;

	hash_seq_init(&status, trigger_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (!OidIsValid(relid) || entry->key.relid == relid ||
			entry->other_relid == relid)
			entry->valid = false;
	}
}

/* a function changed: the entries whose expressions call it are stale */
static void
function_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	TriggerCache *entry;

	hash_seq_init(&status, trigger_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (hashvalue == 0 || list_member_int(entry->function_hashes, (int) hashvalue))
			entry->valid = false;
	}
}

/*
 * At the end of each transaction nothing is being evaluated: free the stale
 * entries' memory and plans, and clear what an error may have left set.
 */
static void
end_of_transaction(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS status;
	TriggerCache *entry;
	ListCell   *lc;
	int			i;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;

	mirror_depth = 0;
	ZdBackfillExpansion = 0;
	hash_seq_init(&status, trigger_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
		entry->busy = false;

	foreach(lc, retired)
	{
		Retired    *r = lfirst(lc);

		for (i = 0; i < (int) lengthof(r->plans); i++)
		{
			if (r->plans[i] != NULL)
				SPI_freeplan(r->plans[i]);
		}
		MemoryContextDelete(r->cxt);
		pfree(r);
	}
	list_free(retired);
	retired = NIL;
}

/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  The steps that take the database from its version to a target.
 *
 * Everything that can be checked is checked here, before the first step
 * runs: the target exists, no patch is missing, every patch on the way down
 * has a rollback and is unchanged since it was applied, every placeholder is
 * known, and every file the path runs parses.  A rollback that a build step
 * does not need is checked too, but only warned about: one broken old
 * rollback must not stop every alignment up past it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "contracts.h"
#include "creation.h"
#include "patch.h"
#include "plan.h"
#include "zerodown.h"

/* zd_check reports a rollback that cannot run as a row, not as a warning */
bool		ZdWarnRollbackText = true;

static List *split_text(const char *text, List *vars, const char *file,
						bool transactional, List **used);
static ErrorData *check_rollback_text(ZdPatch *patch, List *vars, List **used);
static inline void CheckTarget(int target, int highest);
static inline void CheckRegistered(ZdPatch *patch, int number, int from, int to);
static inline void CheckReversible(ZdPatch *patch, int target);
static inline void CheckUnchanged(ZdPatch *patch);
static inline void CheckApplied(ZdPatch *patch, int current);
static inline void CheckIntact(ZdPatch *patch);

ZdPlan *
ZdMakePlan(int target, bool target_is_null)
{
	ZdPlan	   *plan = palloc0(sizeof(ZdPlan));
	int			highest = ZdReadHighest();
	List	   *patches;
	List	   *vars;
	int			n;

	if (target_is_null)
		target = highest;
	CheckTarget(target, highest);

	plan->current = ZdReadVersion();
	plan->target = target;
	if (plan->current == target)
		return plan;
	patches = ZdReadPatches(Min(plan->current, target) + 1, Max(plan->current, target));
	vars = ZdReadVars();

	for (n = plan->current + 1; n <= target; n++)
	{
		ZdPatch    *patch = ZdFindPatch(patches, n);

		CheckRegistered(patch, n, plan->current, target);
		plan->steps = lappend(plan->steps, ZdMakeStep(patch, false, vars));
	}
	for (n = plan->current; n > target; n--)
	{
		ZdPatch    *patch = ZdFindPatch(patches, n);

		CheckRegistered(patch, n, plan->current, target);
		CheckApplied(patch, plan->current);
		CheckUnchanged(patch);
		CheckReversible(patch, target);
		plan->steps = lappend(plan->steps, ZdMakeStep(patch, true, vars));
	}
	ZdCheckNoContractBelow(plan->current, target);
	ZdCheckCreatePrivileges(plan);
	return plan;
}

/*
 * The one step that moves the database from where it stands to the next
 * patch up (build) or down (rollback), checked as ZdMakePlan checks its
 * steps.  Clients and the worker use it to run a step outside a transaction.
 */
ZdStep *
ZdNextStep(int number, bool rollback, int *current)
{
	List	   *patches = ZdReadPatches(number, number);
	ZdPatch    *patch;
	int			expected;

	*current = ZdReadVersion();
	expected = rollback ? *current : *current + 1;
	if (number != expected)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("patch %d cannot be %s now", number,
						rollback ? "rolled back" : "built"),
				 errdetail("The database stands at patch %d, so the next step %s patch %d.",
						   *current, rollback ? "down rolls back" : "up builds",
						   expected),
				 errhint("Check zd_plan() and run its steps in order.")));

	patch = ZdFindPatch(patches, number);
	CheckRegistered(patch, number, *current, number - (rollback ? 1 : 0));
	if (rollback)
	{
		CheckApplied(patch, *current);
		CheckUnchanged(patch);
		CheckReversible(patch, number - 1);
		ZdCheckNoContractBelow(number, number - 1);
	}
	return ZdMakeStep(patch, rollback, ZdReadVars());
}

/*
 * zd_align runs in the caller's transaction: a patch that must run outside
 * one is refused before anything runs.
 */
void
ZdCheckTransactional(ZdPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		ZdStep	   *step = lfirst(lc);

		if (!step->transactional)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("patch %d \"%s\" must run outside a transaction",
							step->patch->number, step->patch->name),
					 errdetail("%s starts with \"%s\", and zd_align runs in the caller's transaction. Nothing was run.",
							   step->file, ZD_NO_TRANSACTION_MARKER),
					 errhint("Align to patch %d with zd_align, then run this patch with the zd client (\"zd align\"), which runs it statement by statement outside a transaction.",
							 step->patch->number + (step->rollback ? 0 : -1))));
	}
}

ZdPatch *
ZdFindPatch(List *patches, int number)
{
	ListCell   *lc;

	foreach(lc, patches)
	{
		ZdPatch    *patch = lfirst(lc);

		if (patch->number == number)
			return patch;
	}
	return NULL;
}

/*
 * A step, with its text split into statements and its placeholders filled.
 * A build step also checks its rollback now, so that a broken rollback is
 * found on the way up, not when it is needed: as a warning, since the build
 * does not need it.  The step that needs it, a rollback, refuses.
 */
ZdStep *
ZdMakeStep(ZdPatch *patch, bool rollback, List *vars)
{
	ZdStep	   *step = palloc0(sizeof(ZdStep));
	const char *text = rollback ? patch->rollback_sql : patch->build_sql;

	CheckIntact(patch);
	step->patch = patch;
	step->rollback = rollback;
	step->transactional = !ZdIsNoTransaction(text);
	step->file = ZdPatchFile(patch, rollback ? "rollback" : "build");
	step->statements = split_text(text, vars, step->file, step->transactional,
								  &step->vars_used);
	if (!rollback && patch->verify_sql != NULL)
	{
		step->verify_file = ZdPatchFile(patch, "verify");
		step->verify = split_text(patch->verify_sql, vars, step->verify_file, true,
								  &step->vars_used);
	}
	if (!rollback)
	{
		ErrorData  *edata = check_rollback_text(patch, vars, &step->vars_used);

		if (edata != NULL && ZdWarnRollbackText)
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("the rollback of patch %d \"%s\" cannot run: %s",
							patch->number, patch->name, edata->message),
					 errdetail("Building patch %d does not need its rollback, so this does not stop the build; aligning below patch %d will be refused until the rollback is fixed.",
							   patch->number, patch->number),
					 errhint("Fix the rollback file and register the patch again; a rollback that cannot run may be replaced even once the patch is applied. zd_check reports it too.")));
	}
	return step;
}

/*
 * Does the patch's rollback split, with its placeholders filled?  NULL when
 * it does (or when there is none: an irreversible patch), else the error,
 * for a build step to warn about: a rollback that a build does not need is
 * no reason to refuse the build.  Splitting only parses, so the error can be
 * caught without a subtransaction, as ZdSplitStatements catches the
 * parser's.
 */
ErrorData *
ZdCheckRollbackText(ZdPatch *patch, List *vars)
{
	return check_rollback_text(patch, vars, NULL);
}

/* the same, adding the placeholders the rollback uses to *used */
static ErrorData *
check_rollback_text(ZdPatch *patch, List *vars, List **used)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	if (patch->rollback_sql == NULL)
		return NULL;
	PG_TRY();
	{
		(void) split_text(patch->rollback_sql, vars, ZdPatchFile(patch, "rollback"),
						  !ZdIsNoTransaction(patch->rollback_sql), used);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return edata;
}

/*
 * Fill the placeholders and split; in a transactional file, a statement
 * PostgreSQL refuses inside a transaction is an error now, before anything
 * runs.
 */
static List *
split_text(const char *text, List *vars, const char *file, bool transactional,
		   List **used)
{
	int		   *linemap;
	char	   *sql = ZdSubstitute(text, vars, file, &linemap, used);
	List	   *statements = ZdSplitStatements(sql, file, linemap, transactional);
	ListCell   *lc;

	if (!transactional)
		return statements;
	foreach(lc, statements)
	{
		ZdStatement *statement = lfirst(lc);
		const char *what = ZdNeedsNoTransaction(statement->parsetree);

		if (what != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s cannot run inside a transaction, at line %d of %s",
							what, statement->line, file),
					 errdetail("zerodown runs a patch in a transaction unless its file starts with \"%s\". Nothing was run.",
							   ZD_NO_TRANSACTION_MARKER),
					 errhint("Put the statement in a patch of its own whose first line is \"%s\"; the zd client and the worker run such patches statement by statement.",
							 ZD_NO_TRANSACTION_MARKER)));
	}
	return statements;
}

static inline void
CheckTarget(int target, int highest)
{
	if (target < 0 || target > highest)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target patch %d does not exist", target),
				 errdetail("Targets go from 0 (no patch applied) to %d, the highest registered patch.",
						   highest),
				 errhint("Register the patch first with zd_register or zd_load.")));
}

static inline void
CheckRegistered(ZdPatch *patch, int number, int from, int to)
{
	if (patch == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("patch %d is not registered", number),
				 errdetail("Going from patch %d to patch %d runs every patch in between, and numbering has a gap at %d. Nothing was run.",
						   from, to, number),
				 errhint("Register patch %d, or renumber the patches so that they follow each other.",
						 number)));
}

static inline void
CheckReversible(ZdPatch *patch, int target)
{
	if (patch->rollback_sql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("patch %d \"%s\" is irreversible", patch->number, patch->name),
				 errdetail("It was registered without a rollback, so the database cannot go below it to patch %d. Nothing was run.",
						   target),
				 errhint("Choose a target of %d or above, or register the patch again with a rollback before it is applied.",
						 patch->number)));
}

/*
 * The patches below where the database stands are applied: a row missing
 * from zerodown.applied (deleted by hand, or a partial restore) is an
 * inconsistent catalog, not something to roll back.
 */
static inline void
CheckApplied(ZdPatch *patch, int current)
{
	if (!patch->applied)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("patch %d \"%s\" is not recorded as applied, but the database stands at patch %d",
						patch->number, patch->name, current),
				 errdetail("zerodown.applied has no row for patch %d while it has one for patch %d: zerodown's catalog was changed outside its functions. Nothing was run.",
						   patch->number, current),
				 errhint("Find out from zerodown.history whether patch %d was built. A superuser can then restore its row in zerodown.applied (with the checksum the history records), or roll back the patches above it by hand.",
						 patch->number)));
}

/*
 * The text about to run is the text that was registered: only zd_register
 * writes zerodown.patches, but a superuser or a restored dump can change a
 * row behind its back, and its checksum would no longer tell.  Every step
 * (zd_align, zd_align_each, the worker, the zd client through
 * zd_step_statements, dry runs and checks) comes through here.
 */
static inline void
CheckIntact(ZdPatch *patch)
{
	char	   *actual = ZdChecksum(patch->name, patch->build_sql,
									patch->rollback_sql, patch->verify_sql);

	if (strcmp(actual, patch->checksum) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("patch %d \"%s\" does not match its checksum", patch->number, patch->name),
			 errdetail("Its text in zerodown.patches has checksum %s, but it was registered with checksum %s: the row was changed outside zd_register. Nothing was run.",
					   actual, patch->checksum),
			 patch->applied ?
			 errhint("Register the text it was applied with again (zd_register, zd_load or the zd client): that rewrites the row. The applied text has checksum %s; zerodown.history records it.",
					 patch->applied_checksum) :
			 errhint("Register the patch again (zd_register, zd_load or the zd client): that rewrites the row from its text.")));
}

static inline void
CheckUnchanged(ZdPatch *patch)
{
	if (strcmp(patch->checksum, patch->applied_checksum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("patch %d \"%s\" has changed since it was applied",
						patch->number, patch->name),
				 errdetail("It was applied at %s with checksum %s; its registered text now has checksum %s. Nothing was run.",
						   patch->applied_at, patch->applied_checksum, patch->checksum),
				 errhint("Restore the text it was applied with; applied patches are immutable. See the view zerodown.status.")));
	if (patch->drift_var != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("patch %d \"%s\" was applied with another value of ${%s}",
						patch->number, patch->name, patch->drift_var),
				 patch->drift_now != NULL ?
				 errdetail("${%s} was %s when the patch was applied and is now %s: its rollback would not undo what its build did. Nothing was run.",
						   patch->drift_var, quote_literal_cstr(patch->drift_was),
						   quote_literal_cstr(patch->drift_now)) :
				 errdetail("${%s} was %s when the patch was applied and is not set now. Nothing was run.",
						   patch->drift_var, quote_literal_cstr(patch->drift_was)),
				 errhint("Set it back with SELECT zd_set_var(%s, %s); to roll the patch back; the values a patch was applied with are in zerodown.applied and zerodown.status.",
						 quote_literal_cstr(patch->drift_var),
						 quote_literal_cstr(patch->drift_was))));
}

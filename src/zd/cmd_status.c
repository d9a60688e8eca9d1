/*-------------------------------------------------------------------------
 *
 * cmd_status.c
 *	  zd status: where the database stands against the folder, its patches,
 *	  and the latest deployments.
 *
 * As "sqitch status" does, status compares the database with the folder:
 * the patches in the folder and not applied (what align would build), the
 * patches applied and no longer in the folder, the applied patches whose
 * file changed since (align would refuse them), the registered patches that
 * left the folder (the next align unregisters them), and drift (a patch's
 * registered text changed since it was applied).  The folder is the one -C
 * names, or the current directory when it holds build/; status only reads
 * it, and registers nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "common/rules.h"
#include "pqexpbuffer.h"

#include "folder.h"
#include "output.h"
#include "session.h"
#include "zd.h"

/* how many of the latest deployments status shows */
#define ZD_STATUS_DEPLOYMENTS	5

/* one patch as status sees it: in the database, in the folder, or both */
typedef struct StatusRow
{
	int			number;
	const char *name;
	bool		registered;
	bool		applied;
	const char *applied_at;		/* NULL: not applied */
	bool		drift;
	bool		reversible;
	bool		transactional;
	const CliFolderPatch *file; /* NULL: not in the folder */
	bool		changed;		/* the folder's text differs from the registered */
} StatusRow;

/* the numbers of one kind, for the summary */
typedef struct NumberList
{
	PQExpBufferData text;
	CliJson    *json;
	int			n;
	int			run_start;
	int			run_end;
} NumberList;

static int	run_status(const CliOptions *options, int nargs, char **args);
static bool read_folder(const CliOptions *options, CliFolder **folder);
static StatusRow *read_rows(CliSession *session, const CliFolder *folder,
							int *nrows);
static bool same_text(const char *a, const char *b);
static void print_rows(const StatusRow *rows, int nrows, bool with_folder);
static CliJson *rows_json(const StatusRow *rows, int nrows, bool with_folder);
static void list_init(NumberList *list, const char *key);
static void list_add(NumberList *list, int number);
static const char *list_text(NumberList *list);
static bool print_deployments(CliSession *session, int limit);

const CliCommand CliStatusCommand = {
	.name = "status",
	.arguments = "",
	.summary = "show where the database stands against the folder",
	.description =
	"Shows the patch the database stands at and every patch, registered or in\n"
	"the folder: applied or not, drift (\"!\": its registered text changed since\n"
	"it was applied), and how it compares with the folder; then what is in the\n"
	"folder and not applied, what is applied and not in the folder, what\n"
	"changed in the folder since it was applied, and the latest deployments.\n"
	"The folder is the one -C names, or the current directory when it holds\n"
	"build/; status reads it and registers nothing.",
	.options = ZD_OPT_JSON,
	.run = run_status
};

static int
run_status(const CliOptions *options, int nargs, char **args)
{
	CliSession *session;
	CliFolder  *folder = NULL;
	CliJson    *doc = CliOutputDocument();
	StatusRow  *rows;
	bool		text = !options->json;
	bool		folder_ok;
	NumberList	pending;
	NumberList	missing;
	NumberList	unregister;
	NumberList	changed;
	NumberList	drifted;
	int			nrows;
	int			current;
	int			i;

	CliCheckArguments("status", nargs, args, 0);
	folder_ok = read_folder(options, &folder);

	session = CliOpen(options, false, false);
	if (session == NULL)
		return ZD_EXIT_FAILURE;

	current = CliReadVersion(session);
	if (current < 0 || (rows = read_rows(session, folder, &nrows)) == NULL)
		return CliClose(session, ZD_EXIT_FAILURE);

	list_init(&pending, "pending");
	list_init(&missing, "applied_not_in_folder");
	list_init(&unregister, "registered_not_in_folder");
	list_init(&changed, "changed_in_folder");
	list_init(&drifted, "drift");
	for (i = 0; i < nrows; i++)
	{
		const StatusRow *row = &rows[i];

		if (folder != NULL && row->file != NULL && !row->applied)
			list_add(&pending, row->number);
		if (folder != NULL && row->file == NULL && row->applied)
			list_add(&missing, row->number);
		if (folder != NULL && row->file == NULL && row->registered && !row->applied)
			list_add(&unregister, row->number);
		if (row->file != NULL && row->applied && row->changed)
			list_add(&changed, row->number);
		if (row->drift)
			list_add(&drifted, row->number);
	}

	if (doc)
	{
		CliJsonSet(doc, "database_at", CliJsonInteger(current));
		CliJsonSet(doc, "folder", CliJsonString(folder ? folder->path : NULL));
		CliJsonSet(doc, "patches", rows_json(rows, nrows, folder != NULL));
		CliJsonSet(doc, "pending", pending.json);
		CliJsonSet(doc, "applied_not_in_folder", missing.json);
		CliJsonSet(doc, "registered_not_in_folder", unregister.json);
		CliJsonSet(doc, "changed_in_folder", changed.json);
		CliJsonSet(doc, "drift", drifted.json);
		CliJsonSet(doc, "deployments", CliJsonArray());
	}

	if (text)
	{
		printf("zd: database at patch %d\n", current);
		if (folder != NULL)
			printf("zd: folder \"%s\": %s\n", folder->path,
				   folder->npatches == 0 ? "no patches" :
				   folder->npatches == 1 ?
				   psprintf("patch %d", folder->patches[0].number) :
				   psprintf("patches %d to %d", folder->patches[0].number,
							folder->patches[folder->npatches - 1].number));
		if (nrows == 0)
			printf("zd: no patches registered\n");
		else
			print_rows(rows, nrows, folder != NULL);
	}
	if (!print_deployments(session, ZD_STATUS_DEPLOYMENTS))
		return CliClose(session, ZD_EXIT_FAILURE);

	/* the summary, as sqitch status gives it */
	if (text && folder != NULL)
	{
		if (pending.n > 0)
			printf("zd: in the folder and not applied: %s (\"zd align\" builds %s)\n",
				   list_text(&pending), pending.n == 1 ? "it" : "them");
		if (missing.n > 0)
			printf("zd: applied and not in the folder: %s\n",
				   list_text(&missing));
		if (unregister.n > 0)
			printf("zd: registered, not applied and not in the folder: %s (the next align, plan, check or deploy unregisters %s)\n",
				   list_text(&unregister), unregister.n == 1 ? "it" : "them");
		if (pending.n == 0 && missing.n == 0 && unregister.n == 0 &&
			changed.n == 0 && drifted.n == 0)
			printf("zd: the database is aligned with the folder\n");
	}
	fflush(stdout);
	for (i = 0; i < nrows; i++)
		if (rows[i].drift)
			CliWarning("patch %d \"%s\" has changed since it was applied",
					   rows[i].number, rows[i].name);
	if (drifted.n > 0)
		CliWarningHint("Applied patches are immutable: restore the text they were applied with (see the view zerodown.status), and make changes in new patches.");
	if (changed.n > 0)
	{
		CliWarning("the folder's files of applied %s differ from what was applied",
				   list_text(&changed));
		CliWarningDetail("align, plan, check and deploy refuse to register them.");
		CliWarningHint("Restore those files, and make changes in new patches.");
	}
	if (missing.n > 0)
	{
		CliWarning("applied %s %s no longer in the folder",
				   list_text(&missing), missing.n == 1 ? "is" : "are");
		CliWarningHint("Restore the files, or align below them with --no-register before removing them.");
	}
	return CliClose(session, folder_ok ? ZD_EXIT_OK : ZD_EXIT_FAILURE);
}

/*
 * The folder to compare with: -C, or the current directory when it holds
 * build/.  *folder stays NULL without one.  False after reporting a folder
 * that cannot be read; status goes on without it.
 */
static bool
read_folder(const CliOptions *options, CliFolder **folder)
{
	struct stat st;

	*folder = NULL;
	if (!options->register_patches)
		return true;
	if (!options->directory_given &&
		stat(psprintf("%s/build", options->directory), &st) != 0)
		return true;
	*folder = pg_malloc0(sizeof(CliFolder));
	if (CliReadFolder(options->directory, *folder))
		return true;
	free(*folder);
	*folder = NULL;
	CliWarning("the database is shown without comparing it with the folder");
	return false;
}

/*
 * Every registered patch, and every patch of the folder that is not
 * registered, in number order.  NULL after reporting an error.
 */
static StatusRow *
read_rows(CliSession *session, const CliFolder *folder, int *nrows)
{
	PGresult   *res;
	StatusRow  *rows;
	int			nregistered;
	int			n = 0;
	int			f = 0;
	int			i = 0;

	res = CliQuery(session,
				   "SELECT s.number, s.name, s.applied,"
				   " pg_catalog.to_char(s.applied_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				   " s.drift, s.reversible, s.transactional,"
				   " p.build_sql, p.rollback_sql, p.verify_sql"
				   " FROM zerodown.status s"
				   " JOIN zerodown.patches p ON p.number = s.number"
				   " ORDER BY s.number",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return NULL;
	nregistered = PQntuples(res);
	rows = pg_malloc0(sizeof(StatusRow) *
					  (nregistered + (folder ? folder->npatches : 0) + 1));

	/* merge the registered patches and the folder's, both in number order */
	while (i < nregistered || (folder != NULL && f < folder->npatches))
	{
		int			reg = i < nregistered ? atoi(PQgetvalue(res, i, 0)) : -1;
		const CliFolderPatch *file = folder != NULL && f < folder->npatches ?
			&folder->patches[f] : NULL;
		StatusRow  *row = &rows[n++];

		if (i < nregistered && (file == NULL || reg <= file->number))
		{
			row->number = reg;
			row->name = pg_strdup(PQgetvalue(res, i, 1));
			row->registered = true;
			row->applied = strcmp(PQgetvalue(res, i, 2), "t") == 0;
			row->applied_at = PQgetisnull(res, i, 3) ? NULL :
				pg_strdup(PQgetvalue(res, i, 3));
			row->drift = strcmp(PQgetvalue(res, i, 4), "t") == 0;
			row->reversible = strcmp(PQgetvalue(res, i, 5), "t") == 0;
			row->transactional = strcmp(PQgetvalue(res, i, 6), "t") == 0;
			if (file != NULL && file->number == reg)
			{
				row->file = file;
				row->changed =
					strcmp(file->name, row->name) != 0 ||
					!same_text(file->build_sql, PQgetvalue(res, i, 7)) ||
					!same_text(file->rollback_sql,
							   PQgetisnull(res, i, 8) ? NULL : PQgetvalue(res, i, 8)) ||
					!same_text(file->verify_sql,
							   PQgetisnull(res, i, 9) ? NULL : PQgetvalue(res, i, 9));
				f++;
			}
			i++;
		}
		else
		{
			/* in the folder only: what registering it would record */
			row->number = file->number;
			row->name = file->name;
			row->file = file;
			row->reversible = file->rollback_sql != NULL;
			row->transactional = !ZdStartsWithMarker(file->build_sql,
													 ZD_NO_TRANSACTION_MARKER);
			f++;
		}
	}
	PQclear(res);
	*nrows = n;
	return rows;
}

/* equal texts, NULL equal only to NULL */
static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * One line per patch.  The folder column: "same" (the file is the text
 * registered), "changed", "new" (not registered yet) or "missing".
 */
static void
print_rows(const StatusRow *rows, int nrows, bool with_folder)
{
	int			name_width = 4;
	int			i;

	for (i = 0; i < nrows; i++)
		name_width = Max(name_width, (int) strlen(rows[i].name));
	printf("    %5s  %-*s  %-7s  %-22s  %-5s  %-10s  ",
		   "patch", name_width, "name", "applied", "applied at", "drift",
		   "reversible");
	if (with_folder)
		printf("%-13s  %s\n", "transactional", "folder");
	else
		printf("%s\n", "transactional");
	for (i = 0; i < nrows; i++)
	{
		const StatusRow *row = &rows[i];
		const char *transactional = row->transactional ? "yes" : "no";

		printf("  %s %05d  %-*s  %-7s  %-22s  %-5s  %-10s  ",
			   row->drift ? "!" : " ", row->number, name_width, row->name,
			   row->applied ? "yes" : "no",
			   row->applied_at ? row->applied_at : "-",
			   row->drift ? "DRIFT" : row->registered ? "no" : "-",
			   row->reversible ? "yes" : "no");
		if (!with_folder)
			printf("%s\n", transactional);
		else
			printf("%-13s  %s\n", transactional,
				   row->file == NULL ? "missing" :
				   !row->registered ? "new" : row->changed ? "changed" : "same");
	}
}

static CliJson *
rows_json(const StatusRow *rows, int nrows, bool with_folder)
{
	CliJson    *list = CliJsonArray();
	int			i;

	for (i = 0; i < nrows; i++)
	{
		const StatusRow *row = &rows[i];
		CliJson    *entry = CliJsonAppend(list, CliJsonObject());

		CliJsonSet(entry, "number", CliJsonInteger(row->number));
		CliJsonSet(entry, "name", CliJsonString(row->name));
		CliJsonSet(entry, "registered", CliJsonBool(row->registered));
		CliJsonSet(entry, "applied", CliJsonBool(row->applied));
		CliJsonSet(entry, "applied_at", CliJsonString(row->applied_at));
		CliJsonSet(entry, "drift", CliJsonBool(row->drift));
		CliJsonSet(entry, "reversible", CliJsonBool(row->reversible));
		CliJsonSet(entry, "transactional", CliJsonBool(row->transactional));
		CliJsonSet(entry, "folder",
				   !with_folder ? CliJsonNull() :
				   CliJsonString(row->file == NULL ? "missing" :
								 !row->registered ? "new" :
								 row->changed ? "changed" : "same"));
	}
	return list;
}

static void
list_init(NumberList *list, const char *key)
{
	initPQExpBuffer(&list->text);
	list->json = CliJsonArray();
	list->n = 0;
	list->run_start = list->run_end = -1;
}

/* numbers come in order; runs print as "4 to 7" */
static void
list_add(NumberList *list, int number)
{
	CliJsonAppend(list->json, CliJsonInteger(number));
	list->n++;
	if (list->run_end >= 0 && number == list->run_end + 1)
	{
		list->run_end = number;
		return;
	}
	(void) list_text(list);
	list->run_start = list->run_end = number;
}

/* "patch 4", "patches 4 to 7, 9" */
static const char *
list_text(NumberList *list)
{
	if (list->run_start >= 0)
	{
		if (list->text.len > 0)
			appendPQExpBufferStr(&list->text, ", ");
		if (list->run_start == list->run_end)
			appendPQExpBuffer(&list->text, "%d", list->run_start);
		else
			appendPQExpBuffer(&list->text, "%d to %d", list->run_start,
							  list->run_end);
		list->run_start = list->run_end = -1;
	}
	return psprintf("%s %s", list->n == 1 ? "patch" : "patches",
					list->text.data);
}

/*
 * The latest deployments, oldest of them first, when the table exists (an
 * older zerodown has none).  False after reporting an error.
 */
static bool
print_deployments(CliSession *session, int limit)
{
	char	   *limit_text = psprintf("%d", limit);
	Oid			types[1] = {INT4OID};
	const char *params[1] = {limit_text};
	CliJson    *list = CliJsonGet(CliOutputDocument(), "deployments");
	bool		text = !session->options->json;
	PGresult   *res;
	bool		exists;
	int			i;

	res = CliQuery(session,
				   "SELECT pg_catalog.to_regclass('zerodown.deployments') IS NOT NULL",
				   0, NULL, NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists)
		return true;

	res = CliQuery(session,
				   "SELECT d.id, d.target, d.state, d.from_version, d.to_version,"
				   " pg_catalog.to_char(d.requested_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				   " pg_catalog.to_char(d.finished_at, 'YYYY-MM-DD HH24:MI:SSOF'),"
				   " pg_catalog.split_part(d.error, E'\\n', 1), d.error"
				   " FROM (SELECT * FROM zerodown.deployments"
				   "        ORDER BY id DESC LIMIT $1) d"
				   " ORDER BY d.id",
				   1, types, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return false;
	if (text && PQntuples(res) > 0)
	{
		printf("zd: latest deployments\n");
		printf("  %6s  %6s  %-11s  %4s  %4s  %-22s  %s\n",
			   "id", "target", "state", "from", "to", "requested at",
			   "finished at");
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		if (list)
		{
			CliJson    *entry = CliJsonAppend(list, CliJsonObject());

			CliJsonSet(entry, "id", CliJsonNumber(PQgetvalue(res, i, 0)));
			CliJsonSet(entry, "target", CliJsonNumber(PQgetvalue(res, i, 1)));
			CliJsonSet(entry, "state", CliJsonString(PQgetvalue(res, i, 2)));
			CliJsonSet(entry, "from", CliJsonNumber(PQgetvalue(res, i, 3)));
			CliJsonSet(entry, "to", CliJsonNumber(PQgetvalue(res, i, 4)));
			CliJsonSet(entry, "requested_at", CliJsonString(PQgetvalue(res, i, 5)));
			CliJsonSet(entry, "finished_at",
					   CliJsonString(PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6)));
			CliJsonSet(entry, "error",
					   CliJsonString(PQgetisnull(res, i, 8) ? NULL : PQgetvalue(res, i, 8)));
		}
		if (!text)
			continue;
		printf("  %6s  %6s  %-11s  %4s  %4s  %-22s  %s\n",
			   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			   PQgetvalue(res, i, 2),
			   PQgetisnull(res, i, 3) ? "-" : PQgetvalue(res, i, 3),
			   PQgetisnull(res, i, 4) ? "-" : PQgetvalue(res, i, 4),
			   PQgetvalue(res, i, 5),
			   PQgetisnull(res, i, 6) ? "-" : PQgetvalue(res, i, 6));
		if (!PQgetisnull(res, i, 7))
			printf("          error: %s\n", PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return true;
}

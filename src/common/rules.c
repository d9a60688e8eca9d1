/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  The rules of patch names, patch files and migrations folders.
 *
 * A migrations folder holds build/NNNNN_name.sql, the matching
 * rollback/NNNNN_name.sql and, optionally, verify/NNNNN_name.sql.  A
 * rollback file may be empty (a rollback that does nothing) or start with
 * "-- zerodown:irreversible" (the patch has no rollback).  Numbers are
 * unique and follow each other.  The server's zd_load and the zd client
 * both read folders by these rules; each reports the problems found, the
 * one with the lowest patch number first.
 *
 * This file is compiled into the extension and into zd (FRONTEND), as
 * PostgreSQL's src/common is: it uses only palloc, psprintf and libc, which
 * both sides have.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <ctype.h>
#include <limits.h>

#include "rules.h"

static const char *skip_blank_lines(const char *p);
static int	number_key(const char *file);
static int	compare_names(const void *a, const void *b);
static int	compare_problems(const void *a, const void *b);

/* letters, digits, underscores and hyphens, 1 to ZD_MAX_NAME_LEN of them */
bool
ZdValidPatchName(const char *name)
{
	const char *p;

	if (*name == '\0' || strlen(name) > ZD_MAX_NAME_LEN)
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
			return false;
	return true;
}

/*
 * NNNNN_name.sql: a number of at least five digits, zero-padded to five and
 * from 1, an underscore, a patch name, ".sql".  Sets *number and *name
 * (allocated) when the file name follows the rule.
 */
bool
ZdParsePatchFileName(const char *file, int *number, char **name)
{
	const char *p = file;
	size_t		len = strlen(file);
	long		value = 0;
	char	   *candidate;

	while (*p >= '0' && *p <= '9' && value <= INT_MAX)
		value = value * 10 + (*p++ - '0');

	/* five digits at least, and no zero padding beyond five */
	if (p - file < 5 || (p - file > 5 && file[0] == '0'))
		return false;
	if (*p != '_' || len < 4 || strcmp(file + len - 4, ".sql") != 0 ||
		value <= 0 || value > INT_MAX || p + 1 > file + len - 4)
		return false;

	candidate = pnstrdup(p + 1, len - 4 - (p + 1 - file));
	if (!ZdValidPatchName(candidate))
	{
		pfree(candidate);
		return false;
	}
	*number = (int) value;
	*name = candidate;
	return true;
}

/*
 * Does the text start, after blank lines, with the marker on a line of its
 * own (the marker, then white space or the end of the line)?
 */
bool
ZdStartsWithMarker(const char *text, const char *marker)
{
	const char *p;

	if (text == NULL)
		return false;
	p = skip_blank_lines(text);
	if (strncmp(p, marker, strlen(marker)) != 0)
		return false;
	p += strlen(marker);
	return *p == '\0' || isspace((unsigned char) *p);
}

/*
 * A rollback file that starts with ZD_IRREVERSIBLE_MARKER declares its
 * patch irreversible.  What follows the marker may only be comments, which
 * say why; a statement there would be a rollback that never runs.
 */
ZdRollbackKind
ZdClassifyRollback(const char *text)
{
	const char *p;

	if (!ZdStartsWithMarker(text, ZD_IRREVERSIBLE_MARKER))
		return ZD_ROLLBACK_STATEMENTS;
	p = skip_blank_lines(text) + strlen(ZD_IRREVERSIBLE_MARKER);
	while (*p && *p != '\n')
		p++;
	p = ZdSkipComments(p);
	return *p == '\0' ? ZD_ROLLBACK_IRREVERSIBLE : ZD_ROLLBACK_IRREVERSIBLE_TEXT;
}

/*
 * Past white space, -- comments and nested block comments: the start of the
 * first token, or the end of the text.
 */
const char *
ZdSkipComments(const char *p)
{
	for (;;)
	{
		if (isspace((unsigned char) *p))
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (p[0] == '/' && p[1] == '*')
				{
					depth++;
					p += 2;
				}
				else if (p[0] == '*' && p[1] == '/')
				{
					depth--;
					p += 2;
				}
				else
					p++;
			}
		}
		else
			return p;
	}
}

/* is name one of the n names? */
bool
ZdHasFileName(char **names, int n, const char *name)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * What a folder reader does with a rollback file's text: a patch declared
 * irreversible gets no rollback (*rollback_sql = NULL); statements after the
 * marker are a problem of the folder.
 */
void
ZdApplyRollbackMarker(ZdFolderProblems *problems, int number,
					  const char *file, char **rollback_sql)
{
	switch (ZdClassifyRollback(*rollback_sql))
	{
		case ZD_ROLLBACK_STATEMENTS:
			break;
		case ZD_ROLLBACK_IRREVERSIBLE:
			*rollback_sql = NULL;
			break;
		case ZD_ROLLBACK_IRREVERSIBLE_TEXT:
			ZdAddFolderProblem(problems, ZD_FOLDER_IRREVERSIBLE_TEXT, number,
							   "rollback", file, NULL, 0);
			break;
	}
}

void
ZdAddFolderProblem(ZdFolderProblems *problems, ZdFolderFault fault,
				   int number, const char *part, const char *file,
				   const char *other, int previous)
{
	ZdFolderProblem *problem;

	if (problems->n == problems->allocated)
	{
		problems->allocated = Max(problems->allocated * 2, 8);
		if (problems->items == NULL)
			problems->items = palloc(sizeof(ZdFolderProblem) * problems->allocated);
		else
			problems->items = repalloc(problems->items,
									   sizeof(ZdFolderProblem) * problems->allocated);
	}
	problem = &problems->items[problems->n++];
	problem->fault = fault;
	problem->number = number;
	problem->part = part;
	problem->file = file;
	problem->other = other;
	problem->previous = previous;
}

/*
 * Check the file names of a folder's build/, rollback/ and verify/: each
 * follows the rule, every build has its rollback, nothing stands alone, and
 * the builds' numbers are unique and follow each other.  The lists hold file
 * names, in any order; builds is sorted by name on return.
 */
void
ZdCheckFolderNames(ZdFolderProblems *problems,
				   char **builds, int nbuilds,
				   char **rollbacks, int nrollbacks,
				   char **verifies, int nverifies)
{
	static const char *const parts[] = {"build", "rollback", "verify"};
	char	  **lists[] = {builds, rollbacks, verifies};
	int			counts[] = {nbuilds, nrollbacks, nverifies};
	int			previous = 0;
	const char *previous_file = NULL;
	int			i;
	int			p;

	for (p = 0; p < 3; p++)
	{
		for (i = 0; i < counts[p]; i++)
		{
			const char *file = lists[p][i];
			int			number;
			char	   *name;

			if (!ZdParsePatchFileName(file, &number, &name))
			{
				ZdAddFolderProblem(problems, ZD_FOLDER_BAD_NAME,
								   number_key(file), parts[p], file, NULL, 0);
				continue;
			}
			pfree(name);
			if (p == 0 && !ZdHasFileName(rollbacks, nrollbacks, file))
				ZdAddFolderProblem(problems, ZD_FOLDER_NO_ROLLBACK, number,
								   parts[p], file, NULL, 0);
			if (p > 0 && !ZdHasFileName(builds, nbuilds, file))
				ZdAddFolderProblem(problems, ZD_FOLDER_NO_BUILD, number,
								   parts[p], file, NULL, 0);
		}
	}

	/* the numbers of the builds, in order: zero-padded names sort so */
	if (nbuilds > 1)
		qsort(builds, nbuilds, sizeof(char *), compare_names);
	for (i = 0; i < nbuilds; i++)
	{
		int			number;
		char	   *name;

		if (!ZdParsePatchFileName(builds[i], &number, &name))
			continue;
		pfree(name);
		if (previous_file != NULL && number == previous)
			ZdAddFolderProblem(problems, ZD_FOLDER_DUPLICATE, number, "build",
							   builds[i], previous_file, previous);
		else if (previous_file != NULL && number != previous + 1)
			ZdAddFolderProblem(problems, ZD_FOLDER_GAP, previous + 1, "build",
							   builds[i], NULL, previous);
		previous = number;
		previous_file = builds[i];
	}
}

/* lowest patch number first; for one number, in the order of the faults */
void
ZdSortFolderProblems(ZdFolderProblems *problems)
{
	if (problems->n > 1)
		qsort(problems->items, problems->n, sizeof(ZdFolderProblem),
			  compare_problems);
}

/*
 * The message, detail and hint of a problem, for ereport and pg_log_error.
 * nothing_done is the sentence that says nothing happened ("Nothing was
 * registered."); it ends the detail.
 */
void
ZdDescribeFolderProblem(const ZdFolderProblem *problem, const char *dir,
						const char *nothing_done, char **message,
						char **detail, char **hint)
{
	const char *file = problem->file;

	switch (problem->fault)
	{
		case ZD_FOLDER_BAD_NAME:
			*message = psprintf("file name \"%s/%s/%s\" is not NNNNN_name.sql",
								dir, problem->part, file);
			*detail = pstrdup("A patch file is named by its number, zero-padded to five digits and starting at 00001, an underscore, a name of letters, digits, underscores or hyphens, and \".sql\".");
			*hint = pstrdup("Rename it, for example to \"00001_create_table_example_a.sql\".");
			break;
		case ZD_FOLDER_NO_ROLLBACK:
			*message = psprintf("build file \"%s/build/%s\" has no rollback file",
								dir, file);
			*detail = psprintf("In a folder every build needs its rollback/%s. %s",
							   file, nothing_done);
			*hint = psprintf("Write the statements that undo the build in rollback/%s; an empty file is a rollback that does nothing, and a file whose first line is \"%s\" declares the patch irreversible.",
							 file, ZD_IRREVERSIBLE_MARKER);
			break;
		case ZD_FOLDER_NO_BUILD:
			*message = psprintf("%s file \"%s/%s/%s\" has no build file",
								problem->part, dir, problem->part, file);
			*detail = pstrdup(nothing_done);
			*hint = pstrdup("Rename it to match its build file, or remove it.");
			break;
		case ZD_FOLDER_DUPLICATE:
			*message = psprintf("two build files in \"%s/build\" have number %d",
								dir, problem->number);
			*detail = psprintf("Files \"%s\" and \"%s\" both have number %d. %s",
							   problem->other, file, problem->number,
							   nothing_done);
			*hint = pstrdup("Each patch has its own number: renumber one of them.");
			break;
		case ZD_FOLDER_GAP:
			*message = psprintf("patch %d is missing from \"%s/build\"",
								problem->number, dir);
			*detail = psprintf("The folder goes from patch %d to patch %d. %s",
							   problem->previous, number_key(file),
							   nothing_done);
			*hint = pstrdup("Add the missing patch, or renumber the patches so that they follow each other.");
			break;
		case ZD_FOLDER_IRREVERSIBLE_TEXT:
			*message = psprintf("rollback file \"%s/rollback/%s\" declares its patch irreversible but holds statements",
								dir, file);
			*detail = psprintf("After its first line \"%s\", a rollback file may hold only comments: the patch is registered without rollback, and aligning below it is refused. %s",
							   ZD_IRREVERSIBLE_MARKER, nothing_done);
			*hint = pstrdup("Remove the statements to keep the patch irreversible, or remove the marker line to make them its rollback.");
			break;
	}
}

/* white space, then the start of the first line that holds something */
static const char *
skip_blank_lines(const char *p)
{
	while (*p && isspace((unsigned char) *p))
		p++;
	return p;
}

/* the leading digits of a file name, to order problems of any name */
static int
number_key(const char *file)
{
	long		value = 0;

	while (*file >= '0' && *file <= '9' && value <= INT_MAX)
		value = value * 10 + (*file++ - '0');
	return (int) Min(value, INT_MAX);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
compare_problems(const void *a, const void *b)
{
	const ZdFolderProblem *pa = a;
	const ZdFolderProblem *pb = b;
	int			c;

	if (pa->number != pb->number)
		return (pa->number > pb->number) - (pa->number < pb->number);
	if (pa->fault != pb->fault)
		return (pa->fault > pb->fault) - (pa->fault < pb->fault);
	if ((c = strcmp(pa->part, pb->part)) != 0)
		return c;
	return strcmp(pa->file, pb->file);
}

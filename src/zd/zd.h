/*-------------------------------------------------------------------------
 *
 * zd.h
 *	  The zd client: the options of a command line, the exit codes, and the
 *	  command table's entry, which each cmd_*.c file defines for its command.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_H
#define ZERODOWN_ZD_H

#include "fe_utils/connect_utils.h"

/* exit codes */
#define ZD_EXIT_OK				0
#define ZD_EXIT_FAILURE			1	/* connection, folder or patch failed */
#define ZD_EXIT_USAGE			2	/* bad option, command or argument */

/*
 * The options that only some commands take: a command's entry lists them,
 * and zd refuses them elsewhere, so that a mistyped command line does not
 * silently do something else.  The others (connection, -C, -q, -v, -e,
 * --no-register) are accepted by every command.
 */
#define ZD_OPT_LOCK_PLAN		(1 << 0)
#define ZD_OPT_STRICT			(1 << 1)
#define ZD_OPT_WAIT				(1 << 2)
#define ZD_OPT_TIMEOUT			(1 << 3)
#define ZD_OPT_JSON				(1 << 4)

/* what the command line asked for */
typedef struct CliOptions
{
	ConnParams	cparams;		/* -h, -p, -U, -d, -w, -W */
	const char *directory;		/* the migrations folder (-C) */
	bool		directory_given;	/* -C was given */
	bool		register_patches;	/* false with --no-register */
	bool		quiet;
	bool		verbose;
	bool		echo;			/* -e: show the queries sent */
	bool		json;			/* --json: one JSON document on stdout */
	bool		lock_plan;		/* plan --lock-plan: run zd_dry_run too */
	bool		strict;			/* plan --strict: lint findings fail */
	bool		wait;			/* deploy --wait */
	int			timeout;		/* deploy --timeout, in seconds; 0: none */
} CliOptions;

/*
 * One command: its entry in the table of zd.c, which main, "zd --help",
 * "zd help COMMAND" and "zd COMMAND --help" all read.
 */
typedef struct CliCommand
{
	const char *name;			/* "align" */
	const char *arguments;		/* "[TARGET]", or "" */
	const char *summary;		/* one line for zd --help */
	const char *description;	/* what it does, for zd help COMMAND */
	int			options;		/* the ZD_OPT_* it takes */
	/* runs it; returns the exit code (usage errors exit from CliUsageError) */
	int			(*run) (const CliOptions *options, int nargs, char **args);
} CliCommand;

/* the commands, one file each */
extern const CliCommand CliAlignCommand;
extern const CliCommand CliPlanCommand;
extern const CliCommand CliCheckCommand;
extern const CliCommand CliDeployCommand;
extern const CliCommand CliStatusCommand;
extern const CliCommand CliGateCommand;
extern const CliCommand CliNewCommand;

/* zd.c: argument checks shared by the commands */
extern void CliUsageError(const char *command, const char *fmt,...)
			pg_attribute_printf(2, 3) pg_attribute_noreturn();
extern const char *CliPatchNumberArgument(const char *command,
										  const char *what, const char *arg);
extern void CliCheckArguments(const char *command, int nargs, char **args,
							  int max);

#endif							/* ZERODOWN_ZD_H */

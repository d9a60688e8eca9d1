/*-------------------------------------------------------------------------
 *
 * zd.h
 *	  The zd client: options and exit codes shared by its files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_H
#define ZERODOWN_ZD_H

/* exit codes */
#define ZD_EXIT_OK				0
#define ZD_EXIT_FAILURE			1	/* connection, folder or patch failed */
#define ZD_EXIT_USAGE			2	/* bad option, command or argument */

/* the advisory lock zd_align takes per transaction, held by zd per session */
#define ZD_LOCK_CLASS			"2053468783"	/* 0x7A65726F, "zero" */
#define ZD_LOCK_ALIGN			"2"

/* the channel the worker notifies with "ID STATE" on each state change */
#define ZD_NOTIFY_CHANNEL		"zerodown_deployment"

/* -w, -W, or neither */
typedef enum ZdPrompt
{
	ZD_PROMPT_DEFAULT,
	ZD_PROMPT_NEVER,
	ZD_PROMPT_ALWAYS
} ZdPrompt;

/* what the command line asked for */
typedef struct ZdOptions
{
	const char *host;
	const char *port;
	const char *username;
	const char *dbname;
	ZdPrompt	prompt;
	const char *directory;		/* the migrations folder (-C) */
	bool		register_patches;	/* false with --no-register */
	bool		quiet;
	bool		verbose;
	bool		lock_plan;		/* plan --lock-plan: run zd_dry_run too */
	bool		strict;			/* plan --strict: lint findings fail */
	bool		wait;			/* deploy --wait */
	int			timeout;		/* deploy --timeout, in seconds; 0: none */
} ZdOptions;

#endif							/* ZERODOWN_ZD_H */

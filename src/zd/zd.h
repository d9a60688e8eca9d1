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
} ZdOptions;

#endif							/* ZERODOWN_ZD_H */

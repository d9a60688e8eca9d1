/*-------------------------------------------------------------------------
 *
 * session.h
 *	  The zd client's database session: connecting (libpgfeutils), queries
 *	  with --echo and Ctrl-C, errors, and the steps every command that talks
 *	  to the database shares (lock, register the folder, read the plan).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_SESSION_H
#define ZERODOWN_ZD_SESSION_H

#include "libpq-fe.h"

#include "folder.h"
#include "zd.h"

/* one connection to the database being aligned */
typedef struct CliSession
{
	PGconn	   *conn;
	const CliOptions *options;
	char	   *schema;			/* the extension's schema, quoted */
	CliFolder  *folder;			/* the folder read, or NULL */
	bool		settings_read;	/* lock settings below are valid */
	char	   *lock_timeout;	/* zerodown.lock_timeout, as set */
	int			lock_retries;	/* zerodown.lock_retries */
	int			lock_retry_delay;	/* zerodown.lock_retry_delay, in ms */
} CliSession;

/* one row of zd_plan() */
typedef struct CliPlanStep
{
	int			step;
	int			number;
	char	   *name;
	bool		rollback;
	bool		transactional;
	int			statements;
	char	   *file;
} CliPlanStep;

/* the patch number the database stands at once the step is done */
#define CLI_STEP_REACHES(s)	((s)->rollback ? (s)->number - 1 : (s)->number)

extern CliSession *CliConnect(const CliOptions *options);
extern void CliDisconnect(CliSession *session);
extern PGresult *CliQuery(CliSession *session, const char *sql, int nparams,
						  const Oid *types, const char *const *params,
						  ExecStatusType expected);
extern bool CliExec(CliSession *session, const char *sql);
extern char *CliFunction(CliSession *session, const char *name);
extern int	CliReadVersion(CliSession *session);
extern void CliReportError(CliSession *session, const PGresult *res,
						   const char *prefix, const char *detail,
						   const char *hint);
extern void CliReportVersion(CliSession *session);
extern bool CliCancelled(void);
extern void CliEcho(CliSession *session, const char *sql);

extern CliSession *CliOpen(const CliOptions *options, bool lock,
						   bool register_patches);
extern int	CliClose(CliSession *session, int code);
extern bool CliReadPlan(CliSession *session, const char *target,
						CliPlanStep **steps, int *n);

#endif							/* ZERODOWN_ZD_SESSION_H */

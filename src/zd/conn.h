/*-------------------------------------------------------------------------
 *
 * conn.h
 *	  The zd client's database session: connecting, running queries and
 *	  reporting the server's errors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_CONN_H
#define ZERODOWN_ZD_CONN_H

#include "libpq-fe.h"

#include "zd.h"

/* one connection to the database being aligned */
typedef struct ZdSession
{
	PGconn	   *conn;
	const ZdOptions *options;
	char	   *schema;			/* the extension's schema, quoted */
	bool		settings_read;	/* lock settings below are valid */
	char	   *lock_timeout;	/* zerodown.lock_timeout, as set */
	int			lock_retries;	/* zerodown.lock_retries */
	int			lock_retry_delay;	/* zerodown.lock_retry_delay, in ms */
} ZdSession;

extern ZdSession *ZdConnect(const ZdOptions *options);
extern void ZdDisconnect(ZdSession *session);
extern PGresult *ZdQuery(ZdSession *session, const char *sql, int nparams,
						 const Oid *types, const char *const *params,
						 ExecStatusType expected);
extern bool ZdCommand(ZdSession *session, const char *sql);
extern char *ZdFunction(ZdSession *session, const char *name);
extern int	ZdReadVersion(ZdSession *session);
extern void ZdReportError(ZdSession *session, const PGresult *res,
						  const char *prefix, const char *detail,
						  const char *hint);

#endif							/* ZERODOWN_ZD_CONN_H */

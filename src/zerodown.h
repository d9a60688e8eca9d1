/*-------------------------------------------------------------------------
 *
 * zerodown.h
 *	  Names, lock keys and settings shared by every zerodown module.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZERODOWN_H
#define ZERODOWN_ZERODOWN_H

/* zerodown's own schema and tables */
#define ZD_SCHEMA				"zerodown"
#define ZD_PATCHES_TABLE		"zerodown.patches"
#define ZD_APPLIED_TABLE		"zerodown.applied"
#define ZD_HISTORY_TABLE		"zerodown.history"
#define ZD_VARS_TABLE			"zerodown.vars"
#define ZD_DEPLOYMENTS_TABLE	"zerodown.deployments"
#define ZD_DEPLOYER_ROLE		"zerodown_deployer"
#define ZD_JOB_ROLE				"zerodown_job"	/* may hold the gate as a job */

/*
 * The search_path zerodown's own statements run under: nothing of the
 * caller's search_path can stand in for a pg_catalog function or operator.
 */
#define ZD_CATALOG_SEARCH_PATH	"pg_catalog, pg_temp"

/*
 * Advisory locks use the two-key form: a fixed class ("zero" in ASCII) and
 * one key per purpose, so they cannot collide with an application's
 * single-key locks and are easy to spot in pg_locks.
 */
#define ZD_LOCK_CLASS			0x7A65726F
#define ZD_LOCK_GATE			1
#define ZD_LOCK_ALIGN			2

/* the channel the worker notifies with "id state" when a deployment moves */
#define ZD_NOTIFY_CHANNEL		"zerodown_deployment"

/* the marker that makes a patch file run outside a transaction */
#define ZD_NO_TRANSACTION_MARKER	"-- zerodown:no-transaction"

/* how much of a failed statement messages show (ZdExcerpt) */
#define ZD_EXCERPT_LINES		30
#define ZD_EXCERPT_BYTES		2000

/* settings (zerodown.c) */
extern int	zerodown_lock_timeout;
extern int	zerodown_lock_retries;
extern int	zerodown_lock_retry_delay;
extern bool zerodown_managed;
extern int	zerodown_gate_timeout;
extern int	zerodown_drain_timeout;
extern char *zerodown_database;

#endif							/* ZERODOWN_ZERODOWN_H */

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
 * Lock keys, the notify channel and the patch file markers, which zd shares
 * (src/common)
 */
#include "common/protocol.h"

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

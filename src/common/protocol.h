/*-------------------------------------------------------------------------
 *
 * protocol.h
 *	  What the extension and the zd client must agree on: advisory lock
 *	  keys, the notification channel, the markers of patch files and the
 *	  limits of patch names.
 *
 * Compiled into both sides (see README.md): the server includes it through
 * zerodown.h, zd directly.  Change a value here and both change together.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_COMMON_PROTOCOL_H
#define ZERODOWN_COMMON_PROTOCOL_H

/*
 * Advisory locks use the two-key form: a fixed class ("zero" in ASCII) and
 * one key per purpose, so they cannot collide with an application's
 * single-key locks and are easy to spot in pg_locks.  zd takes the align
 * lock at session level for a whole run; zd_align takes it per transaction.
 */
#define ZD_LOCK_CLASS			0x7A65726F
#define ZD_LOCK_GATE			1
#define ZD_LOCK_ALIGN			2

/* the channel the worker notifies with "ID STATE" when a deployment moves */
#define ZD_NOTIFY_CHANNEL		"zerodown_deployment"

/* the first line of a patch file that runs outside a transaction */
#define ZD_NO_TRANSACTION_MARKER	"-- zerodown:no-transaction"

/*
 * The first line of a rollback file that declares its patch irreversible:
 * the folder readers register the patch without rollback, as zd_register
 * does with NULL, so aligning below it is refused.
 */
#define ZD_IRREVERSIBLE_MARKER	"-- zerodown:irreversible"

/* a patch name: 1 to this many letters, digits, underscores or hyphens */
#define ZD_MAX_NAME_LEN			200

/* the longest pause between two attempts to get a lock, in milliseconds */
#define ZD_MAX_RETRY_DELAY_MS	60000

#endif							/* ZERODOWN_COMMON_PROTOCOL_H */

/*-------------------------------------------------------------------------
 *
 * output.h
 *	  What zd reports: errors, warnings and notices on stderr, and with
 *	  --json one JSON document on stdout.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZERODOWN_ZD_OUTPUT_H
#define ZERODOWN_ZD_OUTPUT_H

#include <stdio.h>

/* a JSON value under construction */
typedef struct CliJson CliJson;

extern CliJson *CliJsonObject(void);
extern CliJson *CliJsonArray(void);
extern CliJson *CliJsonString(const char *value);
extern CliJson *CliJsonInteger(long value);
extern CliJson *CliJsonNumber(const char *text);
extern CliJson *CliJsonBool(bool value);
extern CliJson *CliJsonNull(void);
extern CliJson *CliJsonSet(CliJson *object, const char *key, CliJson *value);
extern CliJson *CliJsonAppend(CliJson *array, CliJson *value);
extern CliJson *CliJsonGet(CliJson *object, const char *key);
extern void CliJsonPrint(FILE *out, const CliJson *value);

/* the document of this run: NULL unless --json */
extern CliJson *CliOutputDocument(void);
extern void CliOutputBegin(const char *command, bool json);
extern void CliOutputEnd(int exit_code);
extern bool CliOutputJson(void);

/* on stderr as pg_log_* prints them, and in the document */
extern void CliError(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliErrorDetail(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliErrorHint(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliErrorSqlstate(const char *sqlstate);
extern void CliWarning(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliWarningDetail(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliWarningHint(const char *fmt,...) pg_attribute_printf(1, 2);
extern void CliNotice(const char *severity, const char *message,
					  const char *detail, const char *hint);

#endif							/* ZERODOWN_ZD_OUTPUT_H */

/*-------------------------------------------------------------------------
 *
 * patch.c
 *	  Patch text: checksums, ${placeholders}, the no-transaction marker and
 *	  splitting into statements.
 *
 * Splitting uses the server's own parser, so dollar-quoted bodies, nested
 * comments and quoted identifiers are read exactly as PostgreSQL reads them,
 * and each statement keeps the line it starts on for error messages.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "common/rules.h"
#include "patch.h"
#include "zerodown.h"

static void checksum_part(pg_cryptohash_ctx *ctx, const char *part);
static bool is_wrapper(List *raw);
static int	line_of_offset(const char *sql, int offset);
static int	line_of_char(const char *sql, int charpos);
static int	original_line(const int *linemap, int line);
static int *map_line(int *map, int line, int original);
static bool is_placeholder_start(char c);
static bool is_placeholder_char(char c);
static ZdVar *find_var(List *vars, const char *name, int len);
static const char *format_value(ZdVar *var, const char *format, int len,
								const char *file, int line);
static char *var_names(List *vars);

/*
 * SHA-256 of everything that makes a patch, as hex.  NULL and empty text
 * differ: a patch without rollback is irreversible, an empty rollback does
 * nothing.
 */
char *
ZdChecksum(const char *name, const char *build_sql,
		   const char *rollback_sql, const char *verify_sql)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;
	int			i;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context");
	checksum_part(ctx, name);
	checksum_part(ctx, build_sql);
	checksum_part(ctx, rollback_sql);
	checksum_part(ctx, verify_sql);
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize SHA-256 digest");
	pg_cryptohash_free(ctx);

	hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + i * 2, "%02x", digest[i]);
	return hex;
}

static void
checksum_part(pg_cryptohash_ctx *ctx, const char *part)
{
	const uint8 null_tag = 'N';
	const uint8 text_tag = 'T';
	const uint8 separator = 0x1f;

	if (part == NULL)
		pg_cryptohash_update(ctx, &null_tag, 1);
	else
	{
		pg_cryptohash_update(ctx, &text_tag, 1);
		pg_cryptohash_update(ctx, (const uint8 *) part, strlen(part));
	}
	pg_cryptohash_update(ctx, &separator, 1);
}

/*
 * Does the text start (after blank lines) with "-- zerodown:no-transaction"?
 */
bool
ZdIsNoTransaction(const char *sql)
{
	return ZdStartsWithMarker(sql, ZD_NO_TRANSACTION_MARKER);
}

/*
 * Replace every ${name} by its value.  Placeholders are replaced everywhere
 * in the text, as Flyway and Sqitch do.  ${name} puts the value in as
 * written; ${name:literal} puts it in as a quoted string literal and
 * ${name:ident} as a quoted identifier, so that a value cannot end the
 * statement it is in.  An unknown name or format is an error, raised
 * before anything runs because plans substitute every step first.
 *
 * *linemap gets, for each line of the result (from 1), the line of the text
 * as written, so that messages name the line in the file even when a value
 * spans several lines.  When used is not NULL, the variables the text uses
 * are added to *used (once each), for the record of an applied patch.
 */
char *
ZdSubstitute(const char *sql, List *vars, const char *file, int **linemap,
			 List **used)
{
	StringInfoData out;
	const char *p = sql;
	int			in_line = 1;
	int			out_line = 1;
	int		   *map;

	initStringInfo(&out);
	map = palloc(sizeof(int) * 16);
	map[0] = 16;
	map[1] = 1;
	while (*p)
	{
		if (p[0] == '$' && p[1] == '{' && is_placeholder_start(p[2]))
		{
			const char *name = p + 2;
			const char *end = name;
			const char *format = NULL;
			int			format_len = 0;

			while (is_placeholder_char(*end))
				end++;
			if (*end == ':')
			{
				format = end + 1;
				while (isalpha((unsigned char) format[format_len]))
					format_len++;
				if (format[format_len] != '}')
					format = NULL;	/* not a placeholder: left alone */
			}
			if (*end == '}' || format != NULL)
			{
				ZdVar	   *var = find_var(vars, name, end - name);
				const char *value;

				if (var == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("unknown placeholder \"${%.*s}\" in %s",
									(int) (end - name), name, file),
							 errdetail("Line %d uses it; the variables set are: %s.",
									   line_of_offset(sql, p - sql),
									   var_names(vars)),
							 errhint("Set it with SELECT zd_set_var('%.*s', '...'), or remove it from the patch.",
									 (int) (end - name), name)));
				value = format_value(var, format, format_len, file,
									 line_of_offset(sql, p - sql));
				if (used != NULL && !list_member_ptr(*used, var))
					*used = lappend(*used, var);
				appendStringInfoString(&out, value);
				for (; *value; value++)
					if (*value == '\n')
						map = map_line(map, ++out_line, in_line);
				p = format != NULL ? format + format_len + 1 : end + 1;
				continue;
			}
		}
		appendStringInfoChar(&out, *p);
		if (*p == '\n')
			map = map_line(map, ++out_line, ++in_line);
		p++;
	}
	*linemap = map;
	return out.data;
}

/* a variable's value as the placeholder's format asks for it */
static const char *
format_value(ZdVar *var, const char *format, int len, const char *file,
			 int line)
{
	if (format == NULL)
		return var->value;
	if (len == 7 && strncmp(format, "literal", 7) == 0)
		return quote_literal_cstr(var->value);
	if (len == 5 && strncmp(format, "ident", 5) == 0)
		return quote_identifier(var->value);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown placeholder format \"%.*s\" in \"${%s:%.*s}\" in %s",
					len, format, var->name, len, format, file),
			 errdetail("Line %d uses it.", line),
			 errhint("Write ${%s} for the value as written, ${%s:literal} for a quoted string literal, or ${%s:ident} for a quoted identifier.",
					 var->name, var->name, var->name)));
	return NULL;				/* keep compiler quiet */
}

/* map[line] = original, growing the map (map[0] holds its size) */
static int *
map_line(int *map, int line, int original)
{
	if (line >= map[0])
	{
		int			size = Max(line + 1, map[0] * 2);

		map = repalloc(map, sizeof(int) * size);
		map[0] = size;
	}
	map[line] = original;
	return map;
}

static bool
is_placeholder_start(char c)
{
	return isalpha((unsigned char) c) || c == '_';
}

static bool
is_placeholder_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '.';
}

static ZdVar *
find_var(List *vars, const char *name, int len)
{
	ListCell   *lc;

	foreach(lc, vars)
	{
		ZdVar	   *var = lfirst(lc);

		if (strlen(var->name) == (size_t) len && strncmp(var->name, name, len) == 0)
			return var;
	}
	return NULL;
}

static char *
var_names(List *vars)
{
	StringInfoData buf;
	ListCell   *lc;

	if (vars == NIL)
		return "none";
	initStringInfo(&buf);
	foreach(lc, vars)
	{
		ZdVar	   *var = lfirst(lc);

		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", var->name);
	}
	return buf.data;
}

/*
 * Split a patch into statements with the server's parser.  A syntax error is
 * reported with the file and line; transaction control is refused, since
 * zerodown owns the transactions -- except, when unwrap is set, a plain
 * BEGIN first and COMMIT last around the whole file, as patches written for
 * tools that run files with psql have: zerodown's own transaction does what
 * they ask, so they are left out.
 */
List *
ZdSplitStatements(const char *sql, const char *file, const int *linemap,
				  bool unwrap)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ErrorContextCallback *save_context = error_context_stack;
	List	   *raw = NIL;
	List	   *result = NIL;
	ListCell   *lc;

	/*
	 * Without the caller's error context: when zd_align is called through
	 * SPI (PL/pgSQL, the worker), SPI's callback would move the position of
	 * a syntax error to the caller's query.
	 */
	error_context_stack = NULL;
	PG_TRY();
	{
		raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		error_context_stack = save_context;
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("%s at line %d of %s", edata->message,
						original_line(linemap, line_of_char(sql, edata->cursorpos)),
						file),
				 errhint("Fix the patch file and register it again; nothing was run.")));
	}
	PG_END_TRY();
	error_context_stack = save_context;

	if (unwrap && is_wrapper(raw))
		raw = list_delete_first(list_delete_last(raw));

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		ZdStatement *stmt = palloc0(sizeof(ZdStatement));
		int			len = rs->stmt_len > 0 ? rs->stmt_len :
			(int) strlen(sql) - rs->stmt_location;
		const char *start = ZdSkipComments(sql + rs->stmt_location);

		len -= start - (sql + rs->stmt_location);
		stmt->line = original_line(linemap, line_of_offset(sql, start - sql));
		stmt->sql = pnstrdup(start, Max(len, 0));
		stmt->parsetree = rs->stmt;

		if (IsA(rs->stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("transaction control statement at line %d of %s",
							stmt->line, file),
					 errdetail("Statement: %s", ZdAbbreviate(stmt->sql, 200)),
					 errhint("zerodown runs each patch in its own transaction: remove BEGIN, COMMIT and ROLLBACK from the patch.")));
		result = lappend(result, stmt);
	}
	return result;
}

/*
 * Do the statements start with a plain BEGIN (or START TRANSACTION, without
 * options) and end with COMMIT (or END, without AND CHAIN), with no other
 * transaction control between?
 */
static bool
is_wrapper(List *raw)
{
	TransactionStmt *first;
	TransactionStmt *last;
	ListCell   *lc;

	if (list_length(raw) < 2 ||
		!IsA(linitial_node(RawStmt, raw)->stmt, TransactionStmt) ||
		!IsA(llast_node(RawStmt, raw)->stmt, TransactionStmt))
		return false;
	first = (TransactionStmt *) linitial_node(RawStmt, raw)->stmt;
	last = (TransactionStmt *) llast_node(RawStmt, raw)->stmt;
	if ((first->kind != TRANS_STMT_BEGIN && first->kind != TRANS_STMT_START) ||
		first->options != NIL ||
		last->kind != TRANS_STMT_COMMIT || last->chain)
		return false;
	for_each_from(lc, raw, 1)
	{
		if (lnext(raw, lc) != NULL &&
			IsA(lfirst_node(RawStmt, lc)->stmt, TransactionStmt))
			return false;
	}
	return true;
}

/* the line (from 1) of a byte offset */
static int
line_of_offset(const char *sql, int offset)
{
	int			line = 1;
	int			i;

	for (i = 0; i < offset && sql[i]; i++)
		if (sql[i] == '\n')
			line++;
	return line;
}

/* the line in the file as written, through the placeholder line map */
static int
original_line(const int *linemap, int line)
{
	if (linemap == NULL || line < 1 || line >= linemap[0])
		return line;
	return linemap[line];
}

/*
 * Statements PostgreSQL refuses inside a transaction block: NULL, or what
 * to call them in a message.
 */
const char *
ZdNeedsNoTransaction(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			foreach(lc, ((ReindexStmt *) parsetree)->params)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") == 0)
					return "REINDEX CONCURRENTLY";
			return NULL;
		case T_VacuumStmt:
			return ((VacuumStmt *) parsetree)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		default:
			return NULL;
	}
}

/* the line of a character position (from 1) as the parser reports it */
static int
line_of_char(const char *sql, int charpos)
{
	const char *p = sql;
	int			c;

	for (c = 1; c < charpos && *p; c++)
		p += pg_mblen(p);
	return line_of_offset(sql, p - sql);
}

/* the first line of a statement, cut to maxlen bytes, for messages */
char *
ZdAbbreviate(const char *sql, int maxlen)
{
	int			len = 0;

	while (sql[len] && sql[len] != '\n' && len < maxlen)
		len += pg_mblen(sql + len);
	if (sql[len] == '\0')
		return pstrdup(sql);
	return psprintf("%.*s...", len, sql);
}

/*
 * A statement as a failure shows it: whole, so that the user sees what ran,
 * but bounded, so that a long function body does not bury the message: at
 * most maxlines lines and maxbytes bytes, then how many lines were left
 * out.  Trailing blanks are dropped.
 */
char *
ZdExcerpt(const char *sql, int maxlines, int maxbytes)
{
	int			len = strlen(sql);
	int			cut = 0;
	int			lines = 1;
	int			left = 0;
	const char *p;

	while (len > 0 && isspace((unsigned char) sql[len - 1]))
		len--;
	/* cut after the last whole line that fits both bounds */
	while (cut < len)
	{
		const char *nl = memchr(sql + cut, '\n', len - cut);
		int			end = nl ? (int) (nl - sql) : len;

		if (end > maxbytes || lines > maxlines)
			break;
		cut = nl ? end + 1 : len;
		lines++;
	}
	if (cut >= len)
		return pnstrdup(sql, len);
	if (cut == 0)				/* one long first line: cut inside it */
		cut = pg_mbcliplen(sql, len, maxbytes);
	for (p = sql + cut; p < sql + len; p++)
		if (*p == '\n')
			left++;
	while (cut > 0 && isspace((unsigned char) sql[cut - 1]))
		cut--;
	return psprintf("%.*s\n... (%d more line%s)", cut, sql, left + 1,
					left == 0 ? "" : "s");
}

/*
 * The line of the file where an error inside a statement was found: the
 * statement's first line plus the lines before the error's position, when
 * the error points into this statement's text (query), else the statement's
 * first line.  charpos counts characters from 1, as error positions do.
 */
int
ZdStatementErrorLine(const ZdStatement *statement, const char *query, int charpos)
{
	if (charpos <= 0 || query == NULL || strcmp(query, statement->sql) != 0)
		return statement->line;
	return statement->line + line_of_char(statement->sql, charpos) - 1;
}

/*
 * Where a statement of a patch failed, for a message's detail: the file and
 * line, then the statement (ZdExcerpt).  A one-line statement follows on the
 * same line; a longer one starts on a line of its own.  error_line is the
 * line the error points at, when it is inside the statement.
 */
char *
ZdDescribeStatement(const char *file, const ZdStatement *statement, int error_line)
{
	char	   *text = ZdExcerpt(statement->sql, ZD_EXCERPT_LINES, ZD_EXCERPT_BYTES);
	char	   *where;

	if (error_line > statement->line)
		where = psprintf("%s, line %d, in the statement from line %d",
						 file, error_line, statement->line);
	else
		where = psprintf("%s, line %d", file, statement->line);
	if (strchr(text, '\n') == NULL)
		return psprintf("%s: %s", where, text);
	return psprintf("%s:\n%s", where, text);
}

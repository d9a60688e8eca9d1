/*-------------------------------------------------------------------------
 *
 * output.c
 *	  What zd reports: errors, warnings and notices on stderr, and with
 *	  --json one JSON document on stdout.
 *
 * Errors and warnings always go to stderr, in PostgreSQL's frontend style
 * ("zd: error: ...", "zd: detail: ...").  With --json they also go into the
 * run's document, which the command fills with what it found and did, and
 * which main prints on stdout when the command ends, success or not:
 *
 *	{"zd": "0.2.0", "command": "status", "ok": true, "exit_code": 0, ...,
 *	 "errors": [], "warnings": [], "notices": []}
 *
 * The keys of each command are in the README ("zd --json").  Values are
 * built in memory as a small tree, so a command that fails half way still
 * prints a whole document.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"

#include "output.h"
#include "zd.h"

typedef enum JsonKind
{
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,				/* text as written: an integer or a decimal */
	JSON_BOOL,
	JSON_NULL
} JsonKind;

struct CliJson
{
	JsonKind	kind;
	char	   *text;			/* STRING, NUMBER; BOOL: "true"/"false" */
	int			n;				/* OBJECT, ARRAY: members */
	int			allocated;
	char	  **keys;			/* OBJECT */
	CliJson   **values;			/* OBJECT, ARRAY */
};

/* the run's document, and the error or warning the next detail goes with */
static CliJson *document = NULL;
static CliJson *last_message = NULL;
static bool printed = false;

static CliJson *new_value(JsonKind kind, const char *text);
static void add_member(CliJson *container, const char *key, CliJson *value);
static void print_value(FILE *out, const CliJson *value, int depth);
static void print_string(FILE *out, const char *s);
static CliJson *record(const char *list, const char *message);
static void record_field(const char *key, const char *value);
static char *vpsprintf_alloc(const char *fmt, va_list args, int saved_errno) pg_attribute_printf(1, 0);
static void print_at_exit(void);
static void move_to_end(CliJson *object, const char *key);

CliJson *
CliJsonObject(void)
{
	return new_value(JSON_OBJECT, NULL);
}

CliJson *
CliJsonArray(void)
{
	return new_value(JSON_ARRAY, NULL);
}

/* a string; NULL is null */
CliJson *
CliJsonString(const char *value)
{
	return value == NULL ? CliJsonNull() : new_value(JSON_STRING, value);
}

CliJson *
CliJsonInteger(long value)
{
	return new_value(JSON_NUMBER, psprintf("%ld", value));
}

/* a number as the server wrote it ("42", "1.5"); NULL or "" is null */
CliJson *
CliJsonNumber(const char *text)
{
	if (text == NULL || text[0] == '\0')
		return CliJsonNull();
	return new_value(JSON_NUMBER, text);
}

CliJson *
CliJsonBool(bool value)
{
	return new_value(JSON_BOOL, value ? "true" : "false");
}

CliJson *
CliJsonNull(void)
{
	return new_value(JSON_NULL, NULL);
}

/* object[key] = value, replacing a value the key had; returns value */
CliJson *
CliJsonSet(CliJson *object, const char *key, CliJson *value)
{
	int			i;

	Assert(object->kind == JSON_OBJECT);
	for (i = 0; i < object->n; i++)
	{
		if (strcmp(object->keys[i], key) == 0)
		{
			object->values[i] = value;
			return value;
		}
	}
	add_member(object, key, value);
	return value;
}

/* appends value to the array; returns value */
CliJson *
CliJsonAppend(CliJson *array, CliJson *value)
{
	Assert(array->kind == JSON_ARRAY);
	add_member(array, NULL, value);
	return value;
}

/* object[key], or NULL */
CliJson *
CliJsonGet(CliJson *object, const char *key)
{
	int			i;

	for (i = 0; object != NULL && i < object->n; i++)
		if (strcmp(object->keys[i], key) == 0)
			return object->values[i];
	return NULL;
}

void
CliJsonPrint(FILE *out, const CliJson *value)
{
	print_value(out, value, 0);
	fputc('\n', out);
}

CliJson *
CliOutputDocument(void)
{
	return document;
}

bool
CliOutputJson(void)
{
	return document != NULL;
}

/* start the document of a command run with --json */
void
CliOutputBegin(const char *command, bool json)
{
	if (!json)
		return;
	document = CliJsonObject();
	CliJsonSet(document, "zd", CliJsonString(ZD_VERSION));
	CliJsonSet(document, "command", CliJsonString(command));
	CliJsonSet(document, "ok", CliJsonBool(false));
	CliJsonSet(document, "exit_code", CliJsonInteger(ZD_EXIT_FAILURE));
	CliJsonSet(document, "errors", CliJsonArray());
	CliJsonSet(document, "warnings", CliJsonArray());
	CliJsonSet(document, "notices", CliJsonArray());
	atexit(print_at_exit);
}

/* print the document, if there is one */
void
CliOutputEnd(int exit_code)
{
	if (document == NULL || printed)
		return;
	printed = true;
	CliJsonSet(document, "ok", CliJsonBool(exit_code == 0));
	CliJsonSet(document, "exit_code", CliJsonInteger(exit_code));
	/* what went wrong last, after what the command found */
	move_to_end(document, "errors");
	move_to_end(document, "warnings");
	move_to_end(document, "notices");
	fflush(stderr);
	CliJsonPrint(stdout, document);
	fflush(stdout);
}

/* format a message; %m is the errno at entry */
#define FORMAT_MESSAGE(fmt, message) \
	do { \
		int			errno_ = errno; \
		va_list		ap_; \
		va_start(ap_, fmt); \
		message = vpsprintf_alloc(fmt, ap_, errno_); \
		va_end(ap_); \
	} while (0)

/* vsnprintf into an allocated string */
static char *
vpsprintf_alloc(const char *fmt, va_list args, int saved_errno)
{
	size_t		len = 128;

	for (;;)
	{
		char	   *buf = pg_malloc(len);
		va_list		copy;
		size_t		needed;

		va_copy(copy, args);
		errno = saved_errno;
		needed = pvsnprintf(buf, len, fmt, copy);
		va_end(copy);
		if (needed < len)
			return buf;
		free(buf);
		len = needed;
	}
}

void
CliError(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_error("%s", message);
	last_message = record("errors", message);
}

void
CliErrorDetail(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_error_detail("%s", message);
	record_field("detail", message);
}

void
CliErrorHint(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_error_hint("%s", message);
	record_field("hint", message);
}

/* the SQLSTATE of the last error, in the document only */
void
CliErrorSqlstate(const char *sqlstate)
{
	if (sqlstate != NULL)
		record_field("sqlstate", sqlstate);
}

void
CliWarning(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_warning("%s", message);
	last_message = record("warnings", message);
}

void
CliWarningDetail(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_warning_detail("%s", message);
	record_field("detail", message);
}

void
CliWarningHint(const char *fmt,...)
{
	char	   *message;

	FORMAT_MESSAGE(fmt, message);
	pg_log_warning_hint("%s", message);
	record_field("hint", message);
}

/* a notice or warning the server sent, in the document only */
void
CliNotice(const char *severity, const char *message, const char *detail,
		  const char *hint)
{
	CliJson    *notice;

	if (document == NULL)
		return;
	notice = CliJsonAppend(CliJsonGet(document, "notices"), CliJsonObject());
	CliJsonSet(notice, "severity", CliJsonString(severity));
	CliJsonSet(notice, "message", CliJsonString(message));
	CliJsonSet(notice, "detail", CliJsonString(detail));
	CliJsonSet(notice, "hint", CliJsonString(hint));
}

/*
 * A fatal error (pg_fatal: the connection failed, memory ran out) exits
 * without returning to main: the document is still printed, and says so.
 */
static void
print_at_exit(void)
{
	if (document == NULL || printed)
		return;
	if (CliJsonGet(document, "errors")->n == 0)
		(void) record("errors", "zd stopped on a fatal error, reported on standard error");
	CliOutputEnd(ZD_EXIT_FAILURE);
}

static CliJson *
record(const char *list, const char *message)
{
	CliJson    *entry;

	if (document == NULL)
		return NULL;
	entry = CliJsonAppend(CliJsonGet(document, list), CliJsonObject());
	CliJsonSet(entry, "message", CliJsonString(message));
	return entry;
}

/* a detail, hint or SQLSTATE of the last error or warning */
static void
record_field(const char *key, const char *value)
{
	CliJson    *previous;

	if (last_message == NULL)
		return;
	previous = CliJsonGet(last_message, key);
	if (previous != NULL && previous->kind == JSON_STRING)
		value = psprintf("%s\n%s", previous->text, value);
	CliJsonSet(last_message, key, CliJsonString(value));
}

static void
move_to_end(CliJson *object, const char *key)
{
	int			i;

	for (i = 0; i < object->n; i++)
	{
		if (strcmp(object->keys[i], key) == 0)
		{
			char	   *k = object->keys[i];
			CliJson    *v = object->values[i];

			memmove(&object->keys[i], &object->keys[i + 1],
					sizeof(char *) * (object->n - i - 1));
			memmove(&object->values[i], &object->values[i + 1],
					sizeof(CliJson *) * (object->n - i - 1));
			object->keys[object->n - 1] = k;
			object->values[object->n - 1] = v;
			return;
		}
	}
}

static CliJson *
new_value(JsonKind kind, const char *text)
{
	CliJson    *value = pg_malloc0(sizeof(CliJson));

	value->kind = kind;
	value->text = text ? pg_strdup(text) : NULL;
	return value;
}

static void
add_member(CliJson *container, const char *key, CliJson *value)
{
	if (container->n == container->allocated)
	{
		container->allocated = Max(container->allocated * 2, 8);
		container->keys = pg_realloc(container->keys,
									 sizeof(char *) * container->allocated);
		container->values = pg_realloc(container->values,
									   sizeof(CliJson *) * container->allocated);
	}
	container->keys[container->n] = key ? pg_strdup(key) : NULL;
	container->values[container->n] = value;
	container->n++;
}

/* two spaces per level; empty containers on one line */
static void
print_value(FILE *out, const CliJson *value, int depth)
{
	int			i;

	switch (value->kind)
	{
		case JSON_OBJECT:
		case JSON_ARRAY:
			{
				bool		object = value->kind == JSON_OBJECT;

				if (value->n == 0)
				{
					fputs(object ? "{}" : "[]", out);
					break;
				}
				fputs(object ? "{\n" : "[\n", out);
				for (i = 0; i < value->n; i++)
				{
					fprintf(out, "%*s", (depth + 1) * 2, "");
					if (object)
					{
						print_string(out, value->keys[i]);
						fputs(": ", out);
					}
					print_value(out, value->values[i], depth + 1);
					fputs(i + 1 < value->n ? ",\n" : "\n", out);
				}
				fprintf(out, "%*s%s", depth * 2, "", object ? "}" : "]");
			}
			break;
		case JSON_STRING:
			print_string(out, value->text);
			break;
		case JSON_NUMBER:
		case JSON_BOOL:
			fputs(value->text, out);
			break;
		case JSON_NULL:
			fputs("null", out);
			break;
	}
}

/* a JSON string: quotes, backslashes and control characters escaped */
static void
print_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs("\\\\", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			default:
				if (*p < 0x20)
					fprintf(out, "\\u%04x", *p);
				else
					fputc(*p, out);
		}
	}
	fputc('"', out);
}

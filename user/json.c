// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - a small streaming JSON writer: one document per line, strings
 * escaped per RFC 8259 (quotes, backslashes and every control character;
 * bytes >= 0x80 pass through, so UTF-8 stays UTF-8).
 */
#include <stdlib.h>

#include "vstubctl.h"

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

struct json *json_new(FILE *f)
{
	struct json *js = calloc(1, sizeof(*js));

	if (!js)
		return NULL;
	js->f = f;
	js->first[0] = true;
	return js;
}

void json_free(struct json *js)
{
	free(js);
}

void json_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Comma and key before a value. */
static void json_pre(struct json *js, const char *key)
{
	if (!js->first[js->depth])
		fputc(',', js->f);
	js->first[js->depth] = false;
	if (key) {
		json_escape(js->f, key);
		fputc(':', js->f);
	}
}

static void json_open(struct json *js, const char *key, char c)
{
	json_pre(js, key);
	fputc(c, js->f);
	if (js->depth < JSON_MAX_DEPTH - 1)
		js->depth++;
	js->first[js->depth] = true;
}

static void json_close(struct json *js, char c)
{
	fputc(c, js->f);
	if (js->depth > 0)
		js->depth--;
}

void json_obj_begin(struct json *js, const char *key)
{
	json_open(js, key, '{');
}

void json_obj_end(struct json *js)
{
	json_close(js, '}');
}

void json_arr_begin(struct json *js, const char *key)
{
	json_open(js, key, '[');
}

void json_arr_end(struct json *js)
{
	json_close(js, ']');
}

void json_str(struct json *js, const char *key, const char *val)
{
	json_pre(js, key);
	json_escape(js->f, val);
}

void json_int(struct json *js, const char *key, long long val)
{
	json_pre(js, key);
	fprintf(js->f, "%lld", val);
}

void json_bool(struct json *js, const char *key, bool val)
{
	json_pre(js, key);
	fputs(val ? "true" : "false", js->f);
}

void json_null(struct json *js, const char *key)
{
	json_pre(js, key);
	fputs("null", js->f);
}

void json_done(struct json *js)
{
	fputc('\n', js->f);
	fflush(js->f);
	js->depth = 0;
	js->first[0] = true;
}

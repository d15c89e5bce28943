/*
 * parse_corpus.c: parses every message of one or more corpus indexes
 * (lines "spam PATH" / "ham PATH", paths relative to the index's folder)
 * and checks what a user of the parser relies on:
 *   - every message parses (no error),
 *   - every message with a non-empty text part yields non-empty text,
 *   - all text is well-formed UTF-8 and the JSON serialisation succeeds.
 * Run under ASan/UBSan this also proves no crash, no undefined behaviour
 * and no leak. Prints one line per failure and a summary; exits 1 on any.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "util/file.h"
#include "util/utf8.h"

typedef struct totals {
	size_t messages, bytes, failures, with_text, urls;
} totals;

/* A plain-text part of more than a few bytes: it must yield text. (An HTML
 * part may legitimately show no text: images only.) */
static int has_text_part(const ss_message *m)
{
	for (size_t i = 0; i < m->nparts; i++)
		if ((m->parts[i].flags & SS_PART_TEXT) && m->parts[i].decoded_size > 16)
			return 1;
	return 0;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			return 0;
	return 1;
}

/* Returns a failure reason or NULL. */
static const char *check_message(const ss_message *m, totals *t)
{
	char *text = NULL, *json = NULL;
	size_t tlen = 0, jlen = 0;
	const char *why = NULL;

	if (ss_message_text(m, &text, &tlen) || ss_message_json(m, &json, &jlen))
		why = "serialisation failed";
	else if (!utf8_valid(text, tlen) || !utf8_valid(json, jlen))
		why = "output is not valid UTF-8";
	else if (has_text_part(m) && is_blank(text, tlen) && !ss_message_has_fact(m, "limit_parts"))
		why = "a text part with content, but no text";
	if (tlen)
		t->with_text++;
	t->urls += m->nurls;
	free(text);
	free(json);
	return why;
}

static void run_one(const char *path, totals *t)
{
	size_t len = 0;
	char *buf = NULL;
	ss_message *m = NULL;
	const char *why = NULL;
	int err;

	t->messages++;
	if (ss_read_file_at(AT_FDCWD, path, 0, &buf, &len)) {
		printf("FAIL %s: cannot read\n", path);
		t->failures++;
		return;
	}
	t->bytes += len;
	err = ss_parse(buf, len, NULL, &m);
	if (err)
		why = ss_strerror(err);
	else
		why = check_message(m, t);
	if (why) {
		printf("FAIL %s: %s\n", path, why);
		t->failures++;
	}
	ss_message_free(m);
	free(buf);
}

static int run_index(const char *index, totals *t)
{
	FILE *f = fopen(index, "r");
	char line[4096], path[8192];
	const char *slash = strrchr(index, '/');
	int dirlen = slash ? (int)(slash - index) : 1;

	if (!f) {
		printf("FAIL %s: cannot open index\n", index);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		line[strcspn(line, "\r\n")] = '\0';
		if (!sp || !sp[1])
			continue;
		snprintf(path, sizeof(path), "%.*s/%s", dirlen, slash ? index : ".", sp + 1);
		run_one(path, t);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	totals t = {0};
	int bad = 0;

	for (int i = 1; i < argc; i++)
		if (run_index(argv[i], &t))
			bad = 1;
	printf("corpus: %zu messages, %.1f MB, %zu with text, %zu URLs, %zu failures\n", t.messages,
	       (double)t.bytes / 1e6, t.with_text, t.urls, t.failures);
	printf("%zu passed, %zu failed\n", t.messages - t.failures, t.failures);
	return bad || t.failures ? 1 : 0;
}

/*
 * msgsrc.c: the messages named by a command-line PATH (see cli.h): a file
 * holding one message, an mbox (split on "From " lines, ">From " unquoted),
 * a directory of message files (walked recursively, in name order), or a
 * Maildir (its cur/ and new/), or "-" for standard input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/buf.h"

#define MAX_DEPTH 8

static int is_mbox(const char *buf, size_t len)
{
	return len > 5 && !memcmp(buf, "From ", 5);
}

/* The '\n' in [p, end) that ends the line before the next "From " line,
 * or NULL; sets *quoted when a ">From " line comes before it. A walk by
 * memchr, several times cheaper than memmem on mail's short lines. */
static const char *next_from(const char *p, const char *end, int *quoted)
{
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		size_t left = (size_t)(end - p) - 1;
		if (left >= 5 && !memcmp(p + 1, "From ", 5))
			return p;
		if (left >= 6 && p[1] == '>' && !memcmp(p + 2, "From ", 5))
			*quoted = 1;
		p++;
	}
	return NULL;
}

/* Calls cb for each message of an mbox held in buf (NUL-terminated at len).
 * A lone message with no quoted ">From " line to undo (one message per
 * file, as in the corpora) is passed in place, not copied. */
static int each_mbox(const char *path, const char *buf, size_t len, msg_cb cb, void *ctx)
{
	size_t i = 0, n = 0;
	int rc = 0, quoted = 0;
	const char *next = next_from(buf, buf + len, &quoted);
	int several = next != NULL;

	while (!rc && i < len) {
		const char *body = memchr(buf + i, '\n', len - i), *end;
		size_t start, stop;
		sbuf m = SBUF_INIT;
		char label[4200];
		if (!body)
			break;
		start = (size_t)(body - buf) + 1;
		if (!several && !quoted)
			return cb(ctx, path, buf + start, len - start);
		end =
		    next && next >= buf + start ? next : next_from(buf + start, buf + len, &quoted);
		stop = end ? (size_t)(end - buf) + 1 : len;
		/* Unquote ">From " (mboxrd/mboxo) line by line. */
		for (size_t k = start; k < stop;) {
			const char *nl = memchr(buf + k, '\n', stop - k);
			size_t e = nl ? (size_t)(nl - buf) + 1 : stop, skip = 0;
			if (e - k > 5 && buf[k] == '>' && !memcmp(buf + k + 1, "From ", 5))
				skip = 1;
			if (sbuf_add(&m, buf + k + skip, e - k - skip)) {
				sbuf_release(&m);
				return -1;
			}
			k = e;
		}
		if (several)
			snprintf(label, sizeof(label), "%s#%zu", path, ++n);
		else
			snprintf(label, sizeof(label), "%s", path);
		rc = cb(ctx, label, m.p ? m.p : "", m.len);
		sbuf_release(&m);
		i = stop;
		next = NULL;
	}
	return rc;
}

static int each_file(const char *path, msg_cb cb, void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (cli_read_file(path, &buf, &len))
		return cb(ctx, path, NULL, 0); /* reported; the command counts it */
	rc = is_mbox(buf, len) ? each_mbox(path, buf, len, cb, ctx) : cb(ctx, path, buf, len);
	free(buf);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int each_path(const char *path, msg_cb cb, void *ctx, int depth);

static int each_dir(const char *path, msg_cb cb, void *ctx, int depth)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, by_name), rc = 0;

	if (n < 0) {
		fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		return cb(ctx, path, NULL, 0);
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];
		const char *name = ents[i]->d_name;
		/* Maildir's tmp/ holds messages still being delivered: skip it. */
		if (!rc && name[0] != '.' && strcmp(name, "tmp")) {
			snprintf(sub, sizeof(sub), "%s/%s", path, name);
			rc = each_path(sub, cb, ctx, depth + 1);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int each_path(const char *path, msg_cb cb, void *ctx, int depth)
{
	struct stat st;

	if (!strcmp(path, "-"))
		return each_file(path, cb, ctx);
	if (stat(path, &st)) {
		fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		return cb(ctx, path, NULL, 0);
	}
	if (S_ISDIR(st.st_mode))
		return depth < MAX_DEPTH ? each_dir(path, cb, ctx, depth) : 0;
	return each_file(path, cb, ctx);
}

int cli_each_message(const char *path, msg_cb cb, void *ctx)
{
	return each_path(path, cb, ctx, 0);
}

/*
 * msgsrc.c: the messages named by a command-line PATH (see cli.h): a file
 * holding one message, an mbox (split on "From " lines, ">From " unquoted),
 * a directory of message files (walked recursively, in name order), or a
 * Maildir (its cur/ and new/), or "-" for standard input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mime/mbox.h"

#define MAX_DEPTH 8

int cli_walk_quiet;

/* What mbox_each's messages go to: the command's callback, each message
 * named by its file, and by FILE#N when the file holds several. */
typedef struct mbox_to {
	const char *path;
	msg_cb cb;
	void *ctx;
} mbox_to;

static int on_mbox_msg(void *ctx, size_t index, const char *msg, size_t len)
{
	mbox_to *to = ctx;
	char label[4200];

	if (!index)
		return to->cb(to->ctx, to->path, msg, len);
	snprintf(label, sizeof(label), "%s#%zu", to->path, index);
	return to->cb(to->ctx, label, msg, len);
}

/* The message(s) of file `name` in directory `dirfd` (AT_FDCWD: the
 * current one), called `path`. */
static int each_file(int dirfd, const char *name, const char *path, msg_cb cb, void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (cli_read_file_at(dirfd, name, path, &buf, &len))
		return cb(ctx, path, NULL, 0); /* reported; the command counts it */
	if (mbox_is(buf, len)) {
		mbox_to to = {path, cb, ctx};
		rc = mbox_each(buf, len, on_mbox_msg, &to);
	} else {
		rc = cb(ctx, path, buf, len);
	}
	free(buf);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int each_path(const char *path, msg_cb cb, void *ctx, int depth);
static int each_dir(const char *path, msg_cb cb, void *ctx, int depth);

/* Path of type `type` (readdir's d_type): a directory is walked, anything
 * else read as a message; DT_UNKNOWN or a link (what a file system may
 * say of an entry) goes through each_path's stat(). So a directory
 * entry costs no stat() of its own when d_type says what it is. */
static int each_entry(int dirfd, const char *name, const char *path, unsigned char type, msg_cb cb,
                      void *ctx, int depth)
{
	if (type == DT_DIR)
		return depth < MAX_DEPTH ? each_dir(path, cb, ctx, depth) : 0;
	if (type == DT_UNKNOWN || type == DT_LNK)
		return each_path(path, cb, ctx, depth);
	return each_file(dirfd, name, path, cb, ctx);
}

static int each_dir(const char *path, msg_cb cb, void *ctx, int depth)
{
	struct dirent **ents;
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	int n = dirfd < 0 ? -1 : scandirat(dirfd, ".", &ents, NULL, by_name);

	if (n < 0) {
		if (!cli_walk_quiet)
			fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		return cb(ctx, path, NULL, 0);
	}
	for (int i = 0; i < n; i++) {
		char sub[4096];
		const char *name = ents[i]->d_name;
		/* Maildir's tmp/ holds messages still being delivered: skip it. */
		if (!rc && name[0] != '.' && strcmp(name, "tmp")) {
			snprintf(sub, sizeof(sub), "%s/%s", path, name);
			rc = each_entry(dirfd, name, sub, ents[i]->d_type, cb, ctx, depth + 1);
		}
		free(ents[i]);
	}
	free(ents);
	close(dirfd);
	return rc;
}

static int each_path(const char *path, msg_cb cb, void *ctx, int depth)
{
	struct stat st;

	if (!strcmp(path, "-"))
		return each_file(AT_FDCWD, path, path, cb, ctx);
	if (stat(path, &st)) {
		if (!cli_walk_quiet)
			fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		return cb(ctx, path, NULL, 0);
	}
	return each_entry(AT_FDCWD, path, path, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG, cb, ctx,
	                  depth);
}

int cli_each_message(const char *path, msg_cb cb, void *ctx)
{
	return each_path(path, cb, ctx, 0);
}

/*
 * load.c: rule files and directories from disk, the embedded defaults,
 * and rules_build() that does the whole (see load.h).
 */
#include "rules/load.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_RULE_FILE (16u << 20) /* bytes of one rule file */
#define MAX_DIR_FILES 10000

int rules_load_defaults(ruleset *rs, rules_error *err)
{
	int e = 0;

	for (size_t i = 0; !e && i < rules_default_nfiles; i++)
		e = rules_parse(rs, rules_default_files[i].name, rules_default_files[i].text,
		                strlen(rules_default_files[i].text), err);
	return e;
}

static int io_error(rules_error *err, const char *path, const char *why)
{
	snprintf(err->msg, sizeof(err->msg), "%s: %s", path, why);
	return SS_EIO;
}

static int load_file(ruleset *rs, const char *path, rules_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int e;

	if (!f)
		return io_error(err, path, strerror(errno));
	if (!(buf = malloc(MAX_RULE_FILE + 1))) {
		fclose(f);
		return io_error(err, path, "out of memory");
	}
	n = fread(buf, 1, MAX_RULE_FILE + 1, f);
	if (ferror(f) || n > MAX_RULE_FILE)
		e = io_error(err, path, ferror(f) ? strerror(errno) : "larger than 16 MiB");
	else
		e = rules_parse(rs, path, buf, n, err);
	fclose(f);
	free(buf);
	return e;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_rules_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 6 && !strcmp(name + n - 6, ".rules");
}

/* The *.rules names of directory `path`, sorted, malloc'ed. */
static int list_dir(const char *path, char ***names, size_t *n, rules_error *err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v;
	int e = 0;

	*n = 0;
	if (!d)
		return io_error(err, path, strerror(errno));
	if (!(v = calloc(MAX_DIR_FILES, sizeof(*v))))
		e = io_error(err, path, "out of memory");
	while (!e && (de = readdir(d)))
		if (is_rules_file(de->d_name)) {
			if (*n == MAX_DIR_FILES || !(v[*n] = strdup(de->d_name)))
				e = io_error(err, path, "too many files");
			else
				(*n)++;
		}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof(*v), by_name);
	*names = v;
	return e;
}

static int load_dir(ruleset *rs, const char *path, rules_error *err)
{
	char **names = NULL, full[4200];
	size_t n = 0;
	int e = list_dir(path, &names, &n, err);

	for (size_t i = 0; !e && i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		e = load_file(rs, full, err);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return e;
}

int rules_load_path(ruleset *rs, const char *path, rules_error *err)
{
	struct stat st;

	err->msg[0] = 0;
	if (stat(path, &st))
		return io_error(err, path, strerror(errno));
	return S_ISDIR(st.st_mode) ? load_dir(rs, path, err) : load_file(rs, path, err);
}

const char *rules_cache_dir(char *out, size_t len)
{
	const char *v = getenv("SPAMSIFT_CACHE_DIR");
	int n;

	if (v)
		n = snprintf(out, len, "%s", v);
	else if ((v = getenv("XDG_CACHE_HOME")) && *v == '/')
		n = snprintf(out, len, "%s/spamsift", v);
	else if ((v = getenv("HOME")) && *v == '/')
		n = snprintf(out, len, "%s/.cache/spamsift", v);
	else
		return NULL;
	return n > 0 && (size_t)n < len ? out : NULL;
}

int rules_build(const char *const *paths, size_t npaths, int no_defaults, ruleset **out,
                rules_error *err)
{
	ruleset *rs = rules_new();
	char cache[4096];
	int e = 0;

	*out = NULL;
	err->msg[0] = 0;
	if (!rs || rules_set_cache_dir(rs, rules_cache_dir(cache, sizeof(cache)))) {
		rules_free(rs);
		snprintf(err->msg, sizeof(err->msg), "rules: out of memory");
		return SS_ENOMEM;
	}
	if (!no_defaults)
		e = rules_load_defaults(rs, err);
	for (size_t i = 0; !e && i < npaths; i++)
		e = rules_load_path(rs, paths[i], err);
	if (!e)
		e = rules_compile(rs, err);
	if (e) {
		rules_free(rs);
		return e;
	}
	*out = rs;
	return 0;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static uint64_t mix_stat(uint64_t h, const char *path)
{
	struct stat st;
	int64_t v[5] = {0};

	h = mix(h, path, strlen(path) + 1);
	if (!stat(path, &st)) {
		v[0] = (int64_t)st.st_size;
		v[1] = (int64_t)st.st_mtim.tv_sec;
		v[2] = (int64_t)st.st_mtim.tv_nsec;
		v[3] = (int64_t)st.st_ino;
		v[4] = (int64_t)st.st_mode;
	}
	return mix(h, v, sizeof(v));
}

uint64_t rules_fingerprint(const char *const *paths, size_t npaths)
{
	uint64_t h = 14695981039346656037ull;
	char **names, full[4200];
	rules_error err;
	struct stat st;
	size_t n;

	for (size_t i = 0; i < npaths; i++) {
		h = mix_stat(h, paths[i]);
		if (stat(paths[i], &st) || !S_ISDIR(st.st_mode))
			continue;
		names = NULL;
		list_dir(paths[i], &names, &n, &err);
		for (size_t j = 0; j < n; j++) {
			snprintf(full, sizeof(full), "%s/%s", paths[i], names[j]);
			h = mix_stat(h, full);
			free(names[j]);
		}
		free(names);
	}
	return h;
}

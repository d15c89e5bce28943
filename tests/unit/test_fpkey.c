/*
 * test_fpkey.c: fpc_key_load() (fpd/client.h), the one reader of keys
 * files used by the engine, `spamsift report`, the tests' fpcli and the
 * load bench: it picks a key by name or the first, and refuses a missing
 * file, a bad line (with its number), a file without keys, an absent name
 * and an oversized file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpd/client.h"
#include "harness.h"
#include "spamsift.h"

#define KEY_A "alice rw AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "bob ro HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4= rate=5/s"

/* Writes text (len bytes) to a new temporary file; its path in path[64]. */
static int write_tmp(char path[64], const char *text, size_t len)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/ss-fpkey-XXXXXX");
	if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fwrite(text, 1, len, f);
	return fclose(f);
}

static int load_text(const char *text, const char *name, fpp_key *k, unsigned *line)
{
	char path[64];
	int rc;

	if (write_tmp(path, text, strlen(text)))
		return 99;
	rc = fpc_key_load(path, name, k, line);
	unlink(path);
	return rc;
}

TEST(fpkey_picks_the_first_or_the_named_key)
{
	fpp_key k;
	unsigned line = 7;

	CHECK(load_text("# keys\n\n" KEY_A "\n" KEY_B "\n", NULL, &k, &line) == 0);
	CHECK(!strcmp(k.name, "alice") && !k.read_only && k.rate == 0 && k.secret[1] == 1);
	CHECK(line == 0);
	CHECK(load_text(KEY_A "\n" KEY_B, "bob", &k, NULL) == 0);
	CHECK(!strcmp(k.name, "bob") && k.read_only && k.rate == 5 && k.secret[0] == 0x1f);
}

TEST(fpkey_refuses_bad_files_with_the_line)
{
	fpp_key k;
	unsigned line = 0;

	CHECK(fpc_key_load("/nonexistent/ss-keys", NULL, &k, &line) == SS_EIO);
	CHECK(load_text(KEY_A "\nbob rw notbase64\n", NULL, &k, &line) == SS_ESYNTAX && line == 2);
	CHECK(load_text("# only a comment\n\n", NULL, &k, &line) == SS_ESYNTAX && line == 0);
	CHECK(load_text("", NULL, &k, &line) == SS_ESYNTAX);
	CHECK(load_text(KEY_A "\n" KEY_A "\n", NULL, &k, &line) == SS_ESYNTAX && line == 2);
	CHECK(load_text(KEY_A "\n", "carol", &k, &line) == SS_EINVAL && line == 0);
}

TEST(fpkey_refuses_a_file_over_its_limit)
{
	size_t len = FPC_KEYS_FILE_MAX + 1;
	char *text = malloc(len), path[64];
	fpp_key k;

	CHECK(text != NULL);
	if (!text)
		return;
	memset(text, '\n', len);
	memcpy(text, KEY_A, strlen(KEY_A)); /* a good key first: the size alone refuses it */
	CHECK(write_tmp(path, text, len) == 0);
	CHECK(fpc_key_load(path, NULL, &k, NULL) == SS_ESYNTAX);
	unlink(path);
	CHECK(write_tmp(path, text, len - 1) == 0);
	CHECK(fpc_key_load(path, NULL, &k, NULL) == 0 && !strcmp(k.name, "alice"));
	unlink(path);
	free(text);
}

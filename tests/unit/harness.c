/*
 * harness.c: runs the registered unit tests (see harness.h).
 */
#include "harness.h"

#include <stdlib.h>

#define MAX_TESTS 2048

static struct {
	const char *name;
	test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static int current_failed;

void test_register(const char *name, test_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void test_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what);
	current_failed = 1;
}

void test_check_slice(const char *file, int line, const char *expr, const char *p, size_t len,
                      const char *want)
{
	char m[512];

	if (len == strlen(want) && (len == 0 || (p && memcmp(p, want, len) == 0)))
		return;
	snprintf(m, sizeof(m), "%s == \"%s\" (got \"%.*s\")", expr, want,
	         (int)(len > 200 ? 200 : len), p ? p : "");
	test_fail(file, line, m);
}

const char *test_data_dir(void)
{
	const char *d = getenv("SS_TEST_DATA");

	return d ? d : "tests/data";
}

char *test_read_data(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", test_data_dir(), name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "harness: cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "harness: cannot read %s\n", path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		current_failed = 0;
		tests[i].fn();
		if (current_failed) {
			fprintf(stderr, "FAIL %s\n", tests[i].name);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

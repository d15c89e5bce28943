/*
 * harness.h: the in-tree unit test harness.
 *
 * Each tests/unit/test_<module>.c defines tests with TEST(name) { ... };
 * they register themselves and tests/unit/harness.c runs them all (or those
 * whose name contains argv[1]) and ends with the line "N passed, N failed".
 * A CHECK that fails prints file:line and the expression and marks the test
 * failed; the test goes on so one run shows every broken assertion.
 */
#ifndef SS_TEST_HARNESS_H
#define SS_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *what);
/* Directory of the project's test data (tests/data), no trailing slash. */
const char *test_data_dir(void);
/* Reads tests/data/<name> into a malloc'ed buffer; aborts the run if absent. */
char *test_read_data(const char *name, size_t *len);

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, #cond);                                      \
	} while (0)

/* Compares a slice (p, len) with a C string. */
void test_check_slice(const char *file, int line, const char *expr, const char *p, size_t len,
                      const char *want);
#define CHECK_SLICE(p, len, want) test_check_slice(__FILE__, __LINE__, #p, (p), (len), (want))

#define CHECK_STR(s, want) test_check_slice(__FILE__, __LINE__, #s, (s).p, (s).len, (want))

/* Checks that C string or slice `hay` contains `needle`. */
#define CHECK_CONTAINS(hay, hlen, needle)                                                          \
	do {                                                                                       \
		if (!memmem((hay), (hlen), (needle), strlen(needle))) {                            \
			char m_[512];                                                              \
			snprintf(m_, sizeof(m_), "\"%s\" in \"%.*s\"", (needle),                   \
			         (int)((hlen) > 300 ? 300 : (hlen)), (const char *)(hay));         \
			test_fail(__FILE__, __LINE__, m_);                                         \
		}                                                                                  \
	} while (0)

#endif

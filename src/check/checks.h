/*
 * checks.h: what the built-in checks are configured with, shared between
 * the rule-file parser (which fills it from directives, see
 * docs/RULES.md) and the checks that use it (phishing signs, DNS lists).
 *
 * Everything here is plain data owned by whoever built it (the rule set);
 * the checks only read it, from any number of threads at once.
 */
#ifndef SS_CHECK_CHECKS_H
#define SS_CHECK_CHECKS_H

#include <stddef.h>
#include <stdint.h>

/* What kind of key a DNS list is queried with. */
typedef enum ss_dnslist_kind {
	SS_DNSLIST_IP = 0,     /* DNSBL: reversed IPv4 octets / IPv6 nibbles */
	SS_DNSLIST_DOMAIN = 1, /* URIBL/SURBL: a URL's registrable domain */
} ss_dnslist_kind;

/* One meaning of an answer of a DNS list: the answer (an IPv4 address,
 * host order) means `symbol` when (answer & mask) == value for an exact
 * or ranged code, or, when bits is set, when (answer & value) != 0 (the
 * SURBL/URIBL bitmask style). */
typedef struct ss_dnslist_code {
	uint32_t value;
	uint32_t mask;
	int bits;
	const char *symbol;
} ss_dnslist_code;

/* One DNS list. An answer that matches no code (or any answer when there
 * are no codes) is reported as `symbol` itself, with the answer as detail,
 * as long as it is inside 127.0.0.0/8 (anything else is a list error and
 * ignored). */
typedef struct ss_dnslist {
	const char *symbol; /* e.g. "RBL_EXAMPLE" */
	const char *zone;   /* e.g. "zen.example.org" */
	ss_dnslist_kind kind;
	const ss_dnslist_code *codes;
	size_t ncodes;
} ss_dnslist;

/* The configuration of the built-in checks. */
typedef struct ss_checks_config {
	const ss_dnslist *dnslists;
	size_t ndnslists;
	const char *const *brands; /* domains whose look-alikes are phishing */
	size_t nbrands;
	const char *const *shorteners; /* URL shortener hosts */
	size_t nshorteners;
} ss_checks_config;

#endif

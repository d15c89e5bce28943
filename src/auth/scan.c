/*
 * scan.c: prefetched and sequential DNS lookups of one authentication
 * scan, and the record of what timed out (see scan.h).
 */
#include "auth/scan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void auth_scan_init(auth_scan *s, dns_client *dns, int64_t deadline, ss_arena *a)
{
	memset(s, 0, sizeof(*s));
	s->dns = dns;
	s->deadline = deadline;
	s->a = a;
}

const char *auth_type_name(int type)
{
	switch (type) {
	case 1:
		return "A";
	case 12:
		return "PTR";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	default:
		return "?";
	}
}

/* Whether two names are the same, ignoring case and a final dot. */
static int same_name(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);

	if (nx && x[nx - 1] == '.')
		nx--;
	if (ny && y[ny - 1] == '.')
		ny--;
	return nx == ny && strncasecmp(x, y, nx) == 0;
}

static dns_query *find_pre(auth_scan *s, const char *name, int type)
{
	for (size_t i = 0; i < s->npre; i++)
		if (s->pre[i]->type == type && same_name(s->pre[i]->name, name))
			return s->pre[i];
	return NULL;
}

int auth_scan_prefetch(auth_scan *s, const char *name, int type)
{
	dns_query *q;

	if (!s->dns || find_pre(s, name, type))
		return 0;
	if (arena_grow(s->a, (void **)&s->pre, &s->precap, s->npre, sizeof(*s->pre)))
		return SS_ENOMEM;
	if (!(q = arena_calloc(s->a, 1, sizeof(*q))))
		return SS_ENOMEM;
	if (dns_submit(s->dns, q, name, type, s->a))
		return SS_ENOMEM;
	s->pre[s->npre++] = q;
	return 0;
}

void auth_scan_note(auth_scan *s, const dns_query *q)
{
	char what[300];

	if (q->status != DNS_TEMPFAIL || !q->why || strcmp(q->why, "timeout"))
		return;
	snprintf(what, sizeof(what), "%s %s", auth_type_name(q->type), q->name);
	for (size_t i = 0; i < s->ntimedout; i++)
		if (!strcmp(s->timedout[i], what))
			return;
	if (arena_grow(s->a, (void **)&s->timedout, &s->tocap, s->ntimedout, sizeof(*s->timedout)))
		return;
	if ((s->timedout[s->ntimedout] = arena_strndup(s->a, what, strlen(what))))
		s->ntimedout++;
}

const dns_query *auth_scan_lookup(auth_scan *s, const char *name, int type)
{
	static const dns_query oom = {.status = DNS_TEMPFAIL, .why = "out of memory"};
	dns_query *q = find_pre(s, name, type);

	if (q && q->status != DNS_PENDING) {
		auth_scan_note(s, q);
		return q;
	}
	if (!s->dns || !(q = arena_calloc(s->a, 1, sizeof(*q))))
		return &oom;
	dns_lookup(s->dns, q, name, type, s->deadline, s->a);
	auth_scan_note(s, q);
	return q;
}

/*
 * arhdr.c: the Authentication-Results field value (see arhdr.h).
 */
#include "auth/arhdr.h"

#include <stdio.h>
#include <string.h>

#include "util/buf.h"

const char *auth_res_name(auth_res r)
{
	static const char *names[] = {"none",    "pass",      "fail",     "softfail",
	                              "neutral", "temperror", "permerror"};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

/* Whether c may appear unquoted in a property value: RFC 5322 atext,
 * '.' and '@' (RFC 8601 pvalue allows local-part "@" domain). */
static int value_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~.@", c));
}

/* Appends value v, as a quoted string when it needs it (control bytes
 * dropped). */
static int add_value(sbuf *b, const char *v)
{
	int plain = *v != '\0';
	int err;

	for (const char *p = v; *p && plain; p++)
		plain = value_char((unsigned char)*p);
	if (plain)
		return sbuf_adds(b, v);
	err = sbuf_addc(b, '"');
	for (const char *p = v; !err && *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < ' ' || c == 127)
			continue;
		if (c == '"' || c == '\\')
			err = sbuf_addc(b, '\\');
		if (!err)
			err = sbuf_addc(b, (char)c);
	}
	return err ? err : sbuf_addc(b, '"');
}

/* Appends " key=value". */
static int add_prop(sbuf *b, const char *key, const char *v)
{
	int err = sbuf_addf(b, " %s=", key);

	return err ? err : add_value(b, v);
}

/* Appends " (comment)" without parentheses, backslashes or control bytes. */
static int add_comment(sbuf *b, const char *text)
{
	int err = sbuf_adds(b, " (");

	for (const char *p = text; !err && *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= ' ' && c != 127 && c != '(' && c != ')' && c != '\\')
			err = sbuf_addc(b, (char)c);
	}
	return err ? err : sbuf_addc(b, ')');
}

/* Appends "; method=result". */
static int add_method(sbuf *b, const char *method, auth_res res)
{
	return sbuf_addf(b, "; %s=%s", method, auth_res_name(res));
}

static int add_spf(sbuf *b, const ar_spf *s)
{
	int err = add_method(b, "spf", s->res);

	if (!err && s->why)
		err = add_comment(b, s->why);
	if (!err && s->mail_from)
		err = add_prop(b, "smtp.mailfrom", s->mail_from);
	if (!err && s->helo && *s->helo)
		err = add_prop(b, "smtp.helo", s->helo);
	return err;
}

static int add_dkim(sbuf *b, const ar_dkim *d)
{
	int err = add_method(b, "dkim", d->res);

	if (!err && d->why)
		err = add_comment(b, d->why);
	if (!err && d->d)
		err = add_prop(b, "header.d", d->d);
	if (!err && d->s)
		err = add_prop(b, "header.s", d->s);
	if (!err && d->b && *d->b)
		err = add_prop(b, "header.b", d->b);
	return err;
}

static int add_dmarc(sbuf *b, const ar_dmarc *d)
{
	int err = add_method(b, "dmarc", d->res);

	if (!err && d->policy) {
		char p[32];
		snprintf(p, sizeof(p), "p=%s", d->policy);
		err = add_comment(b, p);
	}
	if (!err && d->from)
		err = add_prop(b, "header.from", d->from);
	return err;
}

const char *ar_format(ss_arena *a, const char *authserv_id, const ar_results *r)
{
	sbuf b = SBUF_INIT;
	const char *out = NULL;
	int err = add_value(&b, authserv_id && *authserv_id ? authserv_id : "localhost");

	if (!err && r->spf.checked)
		err = add_spf(&b, &r->spf);
	for (size_t i = 0; !err && i < r->ndkim; i++)
		err = add_dkim(&b, &r->dkim[i]);
	if (!err && r->ndkim == 0)
		err = add_method(&b, "dkim", AUTH_NONE);
	if (!err && r->dmarc.checked)
		err = add_dmarc(&b, &r->dmarc);
	if (!err)
		out = arena_strndup(a, b.p, b.len);
	sbuf_release(&b);
	return out;
}

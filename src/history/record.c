/*
 * record.c: one scan to a history record (see history.h): the summary the
 * list shows, the text the search reads, the detail and the raw bytes.
 */
#include "history/history.h"

#include <stdlib.h>
#include <string.h>

#include "mime/encword.h"
#include "mime/header.h"
#include "report/evidence.h"
#include "util/arena.h"
#include "util/json.h"

void history_rec_free(history_rec *r)
{
	if (!r)
		return;
	free(r->search);
	free(r->summary);
	free(r->detail);
	free(r->raw);
	free(r->user);
	free(r);
}

/* The first field of kind `kind` (HK_SUBJECT, HK_FROM), unfolded and
 * decoded to UTF-8, cut to max bytes on a character boundary, into out. */
static int decoded_field(const char *msg, size_t len, int kind, size_t max, sbuf *out)
{
	size_t pos = 0;
	unsigned facts = 0, flags = 0;
	hdr_field f;
	sbuf scratch = SBUF_INIT;
	ss_arena a;
	int err = 0, cut = 0;

	arena_init(&a);
	while (hdr_next(msg, len, &pos, &f, &facts)) {
		if (hdr_kind(f.name, f.name_len) != kind)
			continue;
		ss_str v = hdr_unfold(&a, f.value, f.value_len, max * 2, &cut);
		if (v.p)
			err = ew_decode(out, &scratch, v.p, v.len, &flags);
		break;
	}
	if (!err && out->len > max) {
		size_t n = max;
		while (n > 0 && ((unsigned char)out->p[n] & 0xC0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
		out->len = n;
		out->p[n] = 0;
	}
	sbuf_release(&scratch);
	arena_release(&a);
	return err;
}

/* "key":"value" (cut to HISTORY_MAX_FIELD) or "key":null, after a comma. */
static int field(sbuf *b, const char *key, const char *v)
{
	int err = sbuf_addc(b, ',');
	size_t n = v ? strnlen(v, HISTORY_MAX_FIELD) : 0;

	if (!err && n)
		return json_kv_str(b, key, v, n);
	return err ? err : sbuf_addf(b, "\"%s\":null", key);
}

static int envelope_json(sbuf *b, const history_scan *s)
{
	const engine_envelope *e = s->env;
	int err = field(b, "ip", e ? e->client_ip : NULL);

	if (!err)
		err = field(b, "helo", e ? e->helo : NULL);
	if (!err)
		err = field(b, "from", e ? e->mail_from : NULL);
	if (!err)
		err = sbuf_adds(b, ",\"rcpt\":[");
	for (size_t i = 0; !err && e && i < e->nrcpts && i < 32; i++) {
		if (i)
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_str(b, e->rcpts[i], strnlen(e->rcpts[i], HISTORY_MAX_FIELD));
	}
	return err ? err : sbuf_addc(b, ']');
}

static int symbols_json(sbuf *b, const engine_result *res)
{
	int err = sbuf_adds(b, ",\"symbols\":[");

	for (size_t i = 0; !err && i < res->nsymbols; i++) {
		const engine_symbol *y = &res->symbols[i];
		err = sbuf_adds(b, i ? ",{" : "{");
		if (!err)
			err = json_kv_str(b, "name", y->name, strlen(y->name));
		if (!err)
			err = sbuf_addf(b, ",\"score\":%.4f}", y->score);
	}
	return err ? err : sbuf_addc(b, ']');
}

static int summary_json(sbuf *b, const history_scan *s, const sbuf *subject, const sbuf *hfrom,
                        const char *digest)
{
	int err = sbuf_addf(b, "{\"time\":%lld,\"score\":%.4f,\"action\":\"%s\",\"scan_ms\":%.3f",
	                    (long long)s->time_ms, s->res->score,
	                    engine_action_name(s->res->action), s->scan_ms);

	if (!err)
		err = field(b, "door", s->door);
	if (!err)
		err = field(b, "user", s->user);
	if (!err)
		err = envelope_json(b, s);
	if (!err)
		err = sbuf_adds(b, ",\"subject\":");
	if (!err)
		err = json_str(b, subject->p ? subject->p : "", subject->len);
	if (!err)
		err = sbuf_adds(b, ",\"header_from\":");
	if (!err)
		err = json_str(b, hfrom->p ? hfrom->p : "", hfrom->len);
	if (!err)
		err = sbuf_addf(b, ",\"size\":%zu,\"digest\":\"%s\"", s->len, digest);
	if (!err)
		err = symbols_json(b, s->res);
	return err ? err : sbuf_addc(b, '}');
}

/* subject \n From field \n envelope from \n ip \x01 SYM SYM... (what q=
 * and the stats read). */
static int search_text(sbuf *b, const history_scan *s, const sbuf *subject, const sbuf *hfrom)
{
	const engine_envelope *e = s->env;
	int err = sbuf_add(b, subject->p ? subject->p : "", subject->len);

	if (!err)
		err = sbuf_addf(b, "\n%.*s", (int)hfrom->len, hfrom->p ? hfrom->p : "");
	if (!err)
		err = sbuf_addf(b, "\n%.*s\n%.*s\x01", HISTORY_MAX_FIELD,
		                e && e->mail_from ? e->mail_from : "", 64,
		                e && e->client_ip ? e->client_ip : "");
	for (size_t i = 0; !err && i < s->res->nsymbols; i++)
		err = sbuf_addf(b, "%s%s", i ? " " : "", s->res->symbols[i].name);
	return err;
}

static char *dup_n(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		if (n)
			memcpy(d, p, n);
		d[n] = 0;
	}
	return d;
}

history_rec *history_rec_make(const history_scan *s)
{
	history_rec *r = calloc(1, sizeof(*r));
	sbuf subject = SBUF_INIT, hfrom = SBUF_INIT, sum = SBUF_INIT, search = SBUF_INIT,
	     det = SBUF_INIT;
	char digest[65];
	int err = !r;

	if (!err)
		err = decoded_field(s->msg, s->len, HK_SUBJECT, HISTORY_MAX_SUBJECT, &subject);
	if (!err)
		err = decoded_field(s->msg, s->len, HK_FROM, HISTORY_MAX_FIELD, &hfrom);
	evidence_sha256(s->msg, s->len, digest);
	if (!err)
		err = summary_json(&sum, s, &subject, &hfrom, digest);
	if (!err)
		err = search_text(&search, s, &subject, &hfrom);
	if (!err)
		err = engine_result_json(s->res, NULL, &det);
	if (err)
		goto fail;
	r->time_ms = s->time_ms;
	r->score = s->res->score;
	r->scan_ms = s->scan_ms;
	r->action = (int)s->res->action;
	r->summary = sbuf_detach(&sum, &r->summary_len);
	r->search = sbuf_detach(&search, &r->search_len);
	r->detail = sbuf_detach(&det, &r->detail_len);
	if (s->len <= s->raw_cap && !(r->raw = dup_n(s->msg, s->len)))
		goto fail;
	r->raw_len = r->raw ? s->len : 0;
	if (s->user && *s->user && !(r->user = dup_n(s->user, strnlen(s->user, HISTORY_MAX_USER))))
		goto fail;
	if (!r->summary || !r->search || !r->detail)
		goto fail;
	sbuf_release(&subject);
	sbuf_release(&hfrom);
	return r;
fail:
	sbuf_release(&subject);
	sbuf_release(&hfrom);
	sbuf_release(&sum);
	sbuf_release(&search);
	sbuf_release(&det);
	history_rec_free(r);
	return NULL;
}

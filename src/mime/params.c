/*
 * params.c: MIME parameter parsing with RFC 2231 (see params.h).
 */
#include "mime/params.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mime/encword.h"
#include "text/charset.h"

#define PARAMS_MAX_SEGMENTS 64

/* One raw parameter as written. */
typedef struct param_raw {
	const char *name;
	size_t name_len;
	const char *val;
	size_t val_len;
	int quoted;
} param_raw;

/* Skips white space and (nested) comments from v[i]. */
static size_t skip_cfws(const char *v, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		char c = v[i];
		if (depth) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth = 1;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			break;
		}
	}
	return i < len ? i : len;
}

ss_str params_token(ss_arena *a, const char *v, size_t len)
{
	size_t i = skip_cfws(v, len, 0), j = i;
	ss_str r;
	char *p;

	while (j < len && v[j] != ';' && v[j] != ' ' && v[j] != '\t' && v[j] != '(' &&
	       v[j] != '\r' && v[j] != '\n' && v[j] != '"' && v[j] != ',')
		j++;
	r = arena_str(a, v + i, j - i);
	for (p = (char *)r.p; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

/* Length of an unquoted value without a trailing "(comment)" and spaces. */
static size_t trim_comment(const char *s, size_t n)
{
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n && s[n - 1] == ')') {
		const char *open = memrchr(s, '(', n);
		if (open)
			n = (size_t)(open - s);
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Reads a quoted string value starting after the opening quote. */
static size_t read_quoted(const char *v, size_t len, size_t i, param_raw *p)
{
	size_t j = i;

	while (j < len && v[j] != '"') {
		if (v[j] == '\\' && j + 1 < len)
			j++;
		j++;
	}
	p->val = v + i;
	p->val_len = j - i;
	p->quoted = 1;
	return j < len ? j + 1 : len;
}

/* Reads the next "name=value" from v[*i]; returns 0 at the end. */
static int next_param(const char *v, size_t len, size_t *i, param_raw *p)
{
	size_t j;

	for (;;) {
		j = skip_cfws(v, len, *i);
		if (j >= len)
			return 0;
		if (v[j] != ';')
			break;
		*i = j + 1;
	}
	p->name = v + j;
	while (j < len && v[j] != '=' && v[j] != ';' && v[j] != ' ' && v[j] != '\t')
		j++;
	p->name_len = (size_t)(v + j - p->name);
	j = skip_cfws(v, len, j);
	p->val = "";
	p->val_len = 0;
	p->quoted = 0;
	if (j < len && v[j] == '=') {
		j = skip_cfws(v, len, j + 1);
		if (j < len && v[j] == '"') {
			j = read_quoted(v, len, j + 1, p);
		} else {
			size_t s = j;
			while (j < len && v[j] != ';')
				j++;
			p->val = v + s;
			p->val_len = trim_comment(v + s, j - s);
		}
	}
	*i = j > *i ? j : *i + 1;
	return 1;
}

/* Splits "name", "name*", "name*N", "name*N*"; returns 1 when the base is
 * `want`, with *seg (-1 for none) and *ext (encoded). */
static int param_match(const param_raw *p, const char *want, int *seg, int *ext)
{
	size_t wl = strlen(want), k;

	if (p->name_len < wl || strncasecmp(p->name, want, wl))
		return 0;
	*seg = -1;
	*ext = 0;
	k = wl;
	if (k == p->name_len)
		return 1;
	if (p->name[k] != '*')
		return 0;
	k++;
	if (k < p->name_len && isdigit((unsigned char)p->name[k])) {
		*seg = 0;
		while (k < p->name_len && isdigit((unsigned char)p->name[k]) && *seg < 1000)
			*seg = *seg * 10 + (p->name[k++] - '0');
		if (k < p->name_len && p->name[k] == '*') {
			*ext = 1;
			k++;
		}
	} else {
		*ext = 1;
	}
	return k == p->name_len;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends a segment's bytes: percent-decoded when extended, unescaped when
 * quoted. */
static int seg_append(sbuf *b, const param_raw *p, int ext)
{
	if (!ext && !p->quoted)
		return sbuf_add(b, p->val, p->val_len);
	for (size_t i = 0; i < p->val_len; i++) {
		char c = p->val[i];
		int h, l;
		if (ext && c == '%' && i + 2 < p->val_len && (h = hexv(p->val[i + 1])) >= 0 &&
		    (l = hexv(p->val[i + 2])) >= 0) {
			c = (char)(h << 4 | l);
			i += 2;
		} else if (p->quoted && c == '\\' && i + 1 < p->val_len) {
			c = p->val[++i];
		}
		if (sbuf_addc(b, c))
			return SS_ENOMEM;
	}
	return 0;
}

typedef struct param_acc {
	param_raw segs[PARAMS_MAX_SEGMENTS];
	unsigned char ext[PARAMS_MAX_SEGMENTS];
	unsigned char have[PARAMS_MAX_SEGMENTS];
	param_raw plain;
	int have_plain;
	int any_seg;
} param_acc;

static void collect(const char *v, size_t len, const char *name, param_acc *acc)
{
	size_t i = 0;
	param_raw p;
	int seg, ext;

	/* segs[], ext[] and plain are read only where have[] or have_plain
	 * says they were written: clearing those is enough (the whole
	 * struct is some 3 KiB, and this runs for every parameter asked) */
	memset(acc->have, 0, sizeof(acc->have));
	acc->have_plain = 0;
	acc->any_seg = 0;
	/* skip the leading token */
	while (i < len && v[i] != ';')
		i++;
	while (next_param(v, len, &i, &p)) {
		if (!param_match(&p, name, &seg, &ext))
			continue;
		if (seg < 0 && !ext) {
			if (!acc->have_plain)
				acc->plain = p;
			acc->have_plain = 1;
			continue;
		}
		if (seg < 0)
			seg = 0;
		if (seg < PARAMS_MAX_SEGMENTS && !acc->have[seg]) {
			acc->segs[seg] = p;
			acc->ext[seg] = (unsigned char)ext;
			acc->have[seg] = 1;
			acc->any_seg = 1;
		}
	}
}

/* Takes "charset'lang'" off the front of the first extended segment. */
static void split_charset(param_raw *p, const char **cs, size_t *cs_len)
{
	const char *q1 = memchr(p->val, '\'', p->val_len), *q2;

	*cs = NULL;
	*cs_len = 0;
	if (!q1)
		return;
	q2 = memchr(q1 + 1, '\'', p->val_len - (size_t)(q1 + 1 - p->val));
	if (!q2)
		return;
	*cs = p->val;
	*cs_len = (size_t)(q1 - p->val);
	p->val_len -= (size_t)(q2 + 1 - p->val);
	p->val = q2 + 1;
}

static int decode_final(ss_arena *a, sbuf *bytes, sbuf *tmp, const char *cs, size_t cs_len,
                        ss_str *out)
{
	const char *used;
	unsigned fl = 0;
	int err;

	sbuf_reset(tmp);
	if (cs_len)
		err = cs_to_utf8(tmp, bytes->p ? bytes->p : "", bytes->len, cs, cs_len, &used, &fl);
	else if (ew_needed(bytes->p ? bytes->p : "", bytes->len)) {
		sbuf scratch = SBUF_INIT;
		err = ew_decode(tmp, &scratch, bytes->p, bytes->len, &fl);
		sbuf_release(&scratch);
	} else
		err = sbuf_add(tmp, bytes->p ? bytes->p : "", bytes->len);
	if (err)
		return err;
	*out = arena_str(a, tmp->p ? tmp->p : "", tmp->len);
	return out->p ? 1 : SS_ENOMEM;
}

int params_get(ss_arena *a, const char *v, size_t len, const char *name, sbuf *bytes, sbuf *tmp,
               ss_str *out)
{
	param_acc acc;
	const char *cs = NULL;
	size_t cs_len = 0;
	int err = 0;

	collect(v, len, name, &acc);
	if (!acc.have_plain && !acc.any_seg)
		return 0;
	sbuf_reset(bytes);
	if (!acc.any_seg) {
		err = seg_append(bytes, &acc.plain, 0);
	} else {
		if (acc.have[0] && acc.ext[0])
			split_charset(&acc.segs[0], &cs, &cs_len);
		for (int s = 0; s < PARAMS_MAX_SEGMENTS && acc.have[s] && !err; s++)
			err = seg_append(bytes, &acc.segs[s], acc.ext[s]);
	}
	if (err)
		return err;
	return decode_final(a, bytes, tmp, cs, cs_len, out);
}

/*
 * modelfile.c: the model export's parser (see modelfile.h).
 *
 * Each line is matched against the record formats with sscanf; anything
 * else, a number out of range or a weight that is not finite, is a bad
 * line, so that no export however damaged puts a NaN into a model.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "spamsift.h"
#include "store/modelfile.h"

int mf_magic(const char *line)
{
	if (!strcmp(line, MF_MAGIC) || !strcmp(line, MF_MAGIC_3))
		return 0;
	return strncmp(line, MF_MAGIC, sizeof(MF_MAGIC) - 3) ? -1 : 1;
}

void mf_import_init(mf_import *im, store *s)
{
	memset(im, 0, sizeof(*im));
	im->s = s;
}

/* n bytes from 2n hex digits that end s; -1 when s is not that. */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] ? -1 : 0;
}

/* The "ppm BITS" line: takes the target's table when it has one of that
 * size, else notes that the table is left out. */
static int ppm_start(mf_import *im, unsigned bits)
{
	store *s = im->s;
	int rc = s->ops->ppm ? s->ops->ppm(s, 1, &im->pv) : 0;

	if (rc < 0)
		return rc;
	im->ppm_seen = 1;
	if (!rc || im->pv->bits != bits) {
		im->ppm_left_out = rc ? MF_PPM_SIZE : MF_PPM_NONE;
		im->pv = NULL;
	}
	return 0;
}

/* A "pd" or "pl" line into the table; 1 when bad. */
static int ppm_piece(mf_import *im, int dense, unsigned long at, const char *hex)
{
	uint8_t b[MF_PIECE];
	size_t n = strlen(hex) / 2;
	ppm_line *ch;

	if (!im->ppm_seen || !n || n > (dense ? MF_PIECE : sizeof(ppm_line)) ||
	    parse_hex(hex, b, n))
		return 1;
	if (!im->pv)
		return 0;
	if (dense) {
		if (at > sizeof(ppm_dense) || n > sizeof(ppm_dense) - at)
			return 1;
		memcpy((uint8_t *)im->pv->wd + at, b, n);
		return 0;
	}
	if (n != sizeof(ppm_line) || at >= 1ul << im->pv->bits)
		return 1;
	if (!(ch = im->pv->wchunk(im->pv->ctx, (uint32_t)(at / PPM_CHUNK))))
		return SS_ENOMEM;
	memcpy(&ch[at % PPM_CHUNK], b, n);
	return 0;
}

/* The change that takes a total from cur to want, when an int holds it. */
static int total_step(uint64_t want, uint64_t cur, int *step)
{
	if (want >= cur ? want - cur > INT_MAX : cur - want > INT_MAX)
		return 1;
	*step = want >= cur ? (int)(want - cur) : -(int)(cur - want);
	return 0;
}

/* "user ID NAME SPAM HAM": the user (created when new) and its totals. */
static int user_line(mf_import *im, unsigned u, const char *name, uint64_t spam, uint64_t ham)
{
	store *s = im->s;
	uint32_t id = 0;
	clf_totals cur;
	int ds, dh, rc;

	if (u >= MF_USERS)
		return 1;
	if (u && (rc = s->ops->user_id(s, name, 1, &id)) < 0)
		return rc;
	if ((rc = s->ops->totals(s, id, &cur)))
		return rc;
	if (total_step(spam, cur.spam, &ds) || total_step(ham, cur.ham, &dh))
		return 1;
	im->map[u] = id;
	return s->ops->add_totals(s, id, ds, dh);
}

int mf_import_line(mf_import *im, const char *line)
{
	char big[2 * MF_PIECE + 2], name[256], hex[64];
	unsigned long at;
	unsigned u, v1, v2, v3;
	unsigned long long k, t1, t2;
	float w, w2;
	long long tm;
	int end = 0; /* %n: where the fields end; only blanks may follow them */
	store *s = im->s;

	if (sscanf(line, "user %u %255s %llu %llu %n", &u, name, &t1, &t2, &end) == 4 && !line[end])
		return user_line(im, u, name, t1, t2);
	if (sscanf(line, "f %u %llx %u %u %g %u %n", &u, &k, &v1, &v2, &w, &v3, &end) == 6 &&
	    !line[end]) {
		feat_stat st = {v1, v2, w, v3};
		if (u >= MF_USERS || !isfinite(w))
			return 1;
		return s->ops->put_feat(s, im->map[u], (uint64_t)k, &st);
	}
	if (sscanf(line, "m %u %63s %u %u %g %g %lld %n", &u, hex, &v1, &v2, &w, &w2, &tm, &end) ==
	        7 &&
	    !line[end]) {
		uint8_t d[STORE_DIGEST];
		msg_rec r = {
		    .is_spam = (uint8_t)(v1 != 0), .nfeat = v2, .step = w, .gstep = w2, .time = tm};
		if (u >= MF_USERS || !isfinite(w) || !isfinite(w2) ||
		    parse_hex(hex, d, STORE_DIGEST))
			return 1;
		return s->ops->put_msg(s, im->map[u], d, &r);
	}
	if (sscanf(line, "ppm %u %n", &u, &end) == 1 && !line[end])
		return im->ppm_seen ? 1 : ppm_start(im, u);
	if (sscanf(line, "pd %lu %513s %n", &at, big, &end) == 2 && !line[end])
		return ppm_piece(im, 1, at, big);
	if (sscanf(line, "pl %lu %513s %n", &at, big, &end) == 2 && !line[end])
		return ppm_piece(im, 0, at, big);
	return 1;
}

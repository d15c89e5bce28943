/*
 * mem.c: the in-memory store (see store.h): open-addressing hash tables that
 * grow by doubling. Used by `eval` (a fresh model per run) and tests;
 * transactions are no-ops. The user id is mixed into every key.
 */
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "store/store.h"

typedef struct fslot {
	uint64_t key;  /* 0 = empty; the user is mixed in (see ukey) */
	uint64_t orig; /* the feature's own key */
	uint32_t user;
	feat_stat st;
} fslot;

typedef struct mslot {
	uint8_t key[STORE_DIGEST + 4]; /* digest + user; all zero = empty */
	int used;
	msg_rec rec;
} mslot;

#define MAX_USERS 4096

typedef struct mem_store {
	store base;
	fslot *f;
	size_t fcap, fn;
	mslot *m;
	size_t mcap, mn;
	clf_totals tot[MAX_USERS];
	char *users[MAX_USERS];
	uint32_t nusers;
	ppm_line *lines; /* the compression table, made on first use */
	void *lines_mem; /* its allocation (lines is aligned within it) */
	ppm_dense *dense;
	const ppm_line **chunk;
	ppm_view pv;
} mem_store;

static uint64_t ukey(uint32_t user, uint64_t key)
{
	uint64_t k = key ^ ((uint64_t)user * 0x9E3779B97F4A7C15ULL);

	return k ? k : 1;
}

static fslot *ffind(mem_store *ms, uint64_t k)
{
	size_t i = (k * 0xff51afd7ed558ccdULL >> 20) & (ms->fcap - 1);

	while (ms->f[i].key && ms->f[i].key != k)
		i = (i + 1) & (ms->fcap - 1);
	return &ms->f[i];
}

static int fgrow(mem_store *ms)
{
	fslot *old = ms->f;
	size_t oldcap = ms->fcap;

	ms->fcap = oldcap ? oldcap * 2 : 1 << 16;
	if (!(ms->f = calloc(ms->fcap, sizeof(fslot)))) {
		ms->f = old;
		ms->fcap = oldcap;
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*ffind(ms, old[i].key) = old[i];
	free(old);
	return 0;
}

static int mem_lookup(store *s, uint32_t user, const uint64_t *keys, size_t n, size_t ntok,
                      feat_stat *out)
{
	mem_store *ms = (mem_store *)s;

	(void)ntok; /* the n-gram slots are keys like any other here */
	for (size_t i = 0; i < n; i++) {
		fslot *sl = ms->fcap ? ffind(ms, ukey(user, keys[i])) : NULL;
		out[i] = sl && sl->key ? sl->st : (feat_stat){0, 0, 0, 0};
	}
	return 0;
}

static int mem_update(store *s, uint32_t user, const uint64_t *keys, size_t n, int dspam, int dham,
                      const float *dw, uint32_t day)
{
	mem_store *ms = (mem_store *)s;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = ukey(user, keys[i]);
		fslot *sl;
		if ((ms->fn + 1) * 2 > ms->fcap && fgrow(ms))
			return SS_ENOMEM;
		sl = ffind(ms, k);
		if (!sl->key && (dspam < 0 || dham < 0))
			continue; /* unlearning what is not there: nothing to take */
		if (!sl->key) {
			sl->key = k;
			sl->orig = keys[i];
			sl->user = user;
			ms->fn++;
		}
		sl->st.spam =
		    dspam < 0 && sl->st.spam < (uint32_t)-dspam ? 0 : sl->st.spam + (uint32_t)dspam;
		sl->st.ham =
		    dham < 0 && sl->st.ham < (uint32_t)-dham ? 0 : sl->st.ham + (uint32_t)dham;
		sl->st.w += dw[i];
		if (dspam || dham) /* a weight-only change (an n-gram slot) dates nothing */
			sl->st.day = day;
	}
	return 0;
}

static int mem_totals(store *s, uint32_t user, clf_totals *t)
{
	mem_store *ms = (mem_store *)s;

	*t = user < MAX_USERS ? ms->tot[user] : (clf_totals){0, 0};
	return 0;
}

static int mem_add_totals(store *s, uint32_t user, int dspam, int dham)
{
	mem_store *ms = (mem_store *)s;

	if (user >= MAX_USERS)
		return SS_EINVAL;
	ms->tot[user].spam += (uint64_t)(int64_t)dspam;
	ms->tot[user].ham += (uint64_t)(int64_t)dham;
	return 0;
}

static mslot *mfind(mem_store *ms, const uint8_t *key)
{
	uint64_t h;
	size_t i;

	memcpy(&h, key, sizeof(h));
	for (i = h & (ms->mcap - 1); ms->m[i].used; i = (i + 1) & (ms->mcap - 1))
		if (!memcmp(ms->m[i].key, key, sizeof(ms->m[i].key)))
			break;
	return &ms->m[i];
}

static void mkey(uint8_t *key, uint32_t user, const uint8_t *digest)
{
	memcpy(key, digest, STORE_DIGEST);
	memcpy(key + STORE_DIGEST, &user, 4);
}

static int mgrow(mem_store *ms)
{
	mslot *old = ms->m;
	size_t oldcap = ms->mcap;

	ms->mcap = oldcap ? oldcap * 2 : 1024;
	if (!(ms->m = calloc(ms->mcap, sizeof(mslot)))) {
		ms->m = old;
		ms->mcap = oldcap;
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used == 1)
			*mfind(ms, old[i].key) = old[i];
	free(old);
	return 0;
}

/* The live record of (user, digest), or NULL. */
static mslot *mlive(mem_store *ms, uint32_t user, const uint8_t *digest)
{
	uint8_t key[STORE_DIGEST + 4];
	mslot *sl;

	if (!ms->mcap)
		return NULL;
	mkey(key, user, digest);
	sl = mfind(ms, key);
	return sl->used == 1 ? sl : NULL;
}

static int mem_get_msg(store *s, uint32_t user, const uint8_t *digest, msg_rec *r)
{
	mslot *sl = mlive((mem_store *)s, user, digest);

	if (sl)
		*r = sl->rec;
	return sl != NULL;
}

static int mem_put_msg(store *s, uint32_t user, const uint8_t *digest, const msg_rec *r)
{
	mem_store *ms = (mem_store *)s;
	uint8_t key[STORE_DIGEST + 4];
	mslot *sl;

	if ((ms->mn + 1) * 2 > ms->mcap && mgrow(ms))
		return SS_ENOMEM;
	mkey(key, user, digest);
	sl = mfind(ms, key);
	if (!sl->used)
		ms->mn++;
	memcpy(sl->key, key, sizeof(key));
	sl->used = 1;
	sl->rec = *r;
	return 0;
}

/* Deleted slots stay as tombstones (used = 2) so probe chains hold. */
static int mem_del_msg(store *s, uint32_t user, const uint8_t *digest)
{
	mslot *sl = mlive((mem_store *)s, user, digest);

	if (sl)
		sl->used = 2;
	return 0;
}

static int mem_user_id(store *s, const char *name, int create, uint32_t *id)
{
	mem_store *ms = (mem_store *)s;

	for (uint32_t i = 1; i <= ms->nusers; i++)
		if (!strcmp(ms->users[i], name)) {
			*id = i;
			return 1;
		}
	if (!create)
		return 0;
	if (ms->nusers + 1 >= MAX_USERS)
		return SS_EINVAL;
	if (!(ms->users[ms->nusers + 1] = strdup(name)))
		return SS_ENOMEM;
	*id = ++ms->nusers;
	return 1;
}

static int mem_put_feat(store *s, uint32_t user, uint64_t key, const feat_stat *st)
{
	mem_store *ms = (mem_store *)s;
	uint64_t k = ukey(user, key);
	fslot *sl;

	if ((ms->fn + 1) * 2 > ms->fcap && fgrow(ms))
		return SS_ENOMEM;
	sl = ffind(ms, k);
	ms->fn += !sl->key;
	*sl = (fslot){k, key, user, *st};
	return 0;
}

static int mem_walk(store *s, const store_walker *w)
{
	mem_store *ms = (mem_store *)s;
	int rc = 0;

	for (uint32_t u = 0; !rc && w->user && u <= ms->nusers; u++)
		rc = w->user(w->ctx, u, u ? ms->users[u] : "", &ms->tot[u]);
	for (size_t i = 0; !rc && w->feat && i < ms->fcap; i++)
		if (ms->f[i].key)
			rc = w->feat(w->ctx, ms->f[i].user, ms->f[i].orig, &ms->f[i].st);
	for (size_t i = 0; !rc && w->msg && i < ms->mcap; i++) {
		uint32_t user;
		if (ms->m[i].used != 1)
			continue;
		memcpy(&user, ms->m[i].key + STORE_DIGEST, 4);
		rc = w->msg(w->ctx, user, ms->m[i].key, &ms->m[i].rec);
	}
	return rc;
}

static int mem_begin(store *s, int write)
{
	return 0;
}

static int mem_end(store *s, int commit)
{
	return 0;
}

static ppm_line *mem_ppm_chunk(void *ctx, uint32_t k)
{
	mem_store *ms = ctx;

	return ms->lines + (size_t)k * PPM_CHUNK;
}

/* The table, one array of lines (chunk k at line k * PPM_CHUNK). */
static int mem_ppm(store *s, int write, ppm_view **v)
{
	mem_store *ms = (mem_store *)s;
	uint32_t nch = ppm_nchunks(PPM_BITS);
	size_t bytes = (size_t)nch * PPM_CHUNK * sizeof(ppm_line);

	(void)write;
	if (!ms->lines) {
		/* calloc, not aligned_alloc and memset: a table this size comes
		 * as fresh pages, zero until touched. */
		if (!(ms->lines_mem = calloc(1, bytes + 63)) ||
		    !(ms->dense = calloc(1, sizeof(*ms->dense))) ||
		    !(ms->chunk = malloc(nch * sizeof(*ms->chunk)))) {
			free(ms->lines_mem);
			free(ms->dense);
			ms->lines_mem = NULL;
			ms->dense = NULL;
			return SS_ENOMEM;
		}
		ms->lines = (ppm_line *)(((uintptr_t)ms->lines_mem + 63) & ~(uintptr_t)63);
		for (uint32_t k = 0; k < nch; k++)
			ms->chunk[k] = ms->lines + (size_t)k * PPM_CHUNK;
		ms->pv = (ppm_view){ms->dense, ms->chunk, PPM_BITS, ms->dense, mem_ppm_chunk, ms};
	}
	*v = &ms->pv;
	return 1;
}

static void mem_close(store *s)
{
	mem_store *ms = (mem_store *)s;

	free(ms->lines_mem);
	free(ms->dense);
	free(ms->chunk);

	for (uint32_t i = 1; i <= ms->nusers; i++)
		free(ms->users[i]);
	free(ms->f);
	free(ms->m);
	free(ms);
}

static const store_ops mem_ops = {
    mem_close,      mem_begin,   mem_end,     mem_lookup,  mem_update,  mem_totals,
    mem_add_totals, mem_get_msg, mem_put_msg, mem_del_msg, mem_user_id, mem_put_feat,
    mem_walk,       NULL,        NULL,        NULL,        mem_ppm};

store *store_mem_new(void)
{
	mem_store *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	ms->base.ops = &mem_ops;
	return &ms->base;
}

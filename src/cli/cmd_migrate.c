/*
 * cmd_migrate.c: `spamsift migrate --from DIR|URL --to DIR|URL`: copies a
 * model between the embedded store (a folder) and Redis (a redis:// URL),
 * either way: every user with its totals, every feature and every message
 * record, as they are, so that scores are the same after. The target must
 * be empty (a copy is not a merge).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "spamsift.h"

static const char migrate_usage[] =
    "usage: spamsift migrate --from DIR|URL --to DIR|URL [--redis-password-file FILE]\n"
    "  Copies the model from the embedded store in folder DIR or from Redis at\n"
    "  URL (redis://[:PASSWORD@]HOST[:PORT][/DB]) to the other; the target must\n"
    "  be empty.\n";

#define MAX_USERS (1u << 20)

typedef struct copy {
	store *to;
	uint32_t *map; /* source user id -> target id (0 = not seen, but for 0) */
	size_t users, feats, msgs;
	int err;
} copy;

static int copy_user(void *ctx, uint32_t id, const char *name, const clf_totals *t)
{
	copy *c = ctx;
	uint32_t nid = 0;
	int rc;

	if (id >= MAX_USERS)
		return c->err = SS_EINVAL;
	if (id && (rc = c->to->ops->user_id(c->to, name, 1, &nid)) <= 0)
		return c->err = rc ? rc : SS_EINVAL;
	c->map[id] = nid;
	c->users++;
	if ((rc = c->to->ops->add_totals(c->to, nid, (int)t->spam, (int)t->ham)))
		c->err = rc;
	return rc;
}

/* The target id of source user u; SS_EINVAL when it was not walked first. */
static int mapped(copy *c, uint32_t u, uint32_t *out)
{
	if (u >= MAX_USERS || (u && !c->map[u]))
		return c->err = SS_EINVAL;
	*out = c->map[u];
	return 0;
}

static int copy_feat(void *ctx, uint32_t user, uint64_t key, const feat_stat *st)
{
	copy *c = ctx;
	uint32_t u;
	int rc = mapped(c, user, &u);

	c->feats++;
	return rc ? rc : (c->err = c->to->ops->put_feat(c->to, u, key, st));
}

static int copy_msg(void *ctx, uint32_t user, const uint8_t *d, const msg_rec *r)
{
	copy *c = ctx;
	uint32_t u;
	int rc = mapped(c, user, &u);

	c->msgs++;
	return rc ? rc : (c->err = c->to->ops->put_msg(c->to, u, d, r));
}

static int any_feat(void *ctx, uint32_t user, uint64_t key, const feat_stat *st)
{
	return *(int *)ctx = 1;
}

static int any_user(void *ctx, uint32_t id, const char *name, const clf_totals *t)
{
	return *(int *)ctx = id || t->spam || t->ham;
}

/* Whether s holds anything (1), nothing (0), or an error. */
static int not_empty(store *s)
{
	int found = 0;
	store_walker w = {&found, any_user, any_feat, NULL};
	int rc;

	if ((rc = s->ops->begin(s, 0)))
		return rc;
	rc = s->ops->walk(s, &w);
	s->ops->end(s, 0);
	return found ? 1 : rc;
}

/* Opens where (a redis:// URL or a folder) as the model of command cmd. */
static int open_model(const char *where, const char *pwfile, int ro, store **out)
{
	model_args a;

	memset(&a, 0, sizeof(a));
	a.cmd = "migrate";
	if (!strncmp(where, "redis://", 8) || !strncmp(where, "rediss://", 9) ||
	    !strncmp(where, "redis+sentinel://", 17) || !strncmp(where, "rediss+sentinel://", 18)) {
		a.redis = where;
		a.redis_password_file = pwfile;
	} else {
		a.db = where;
	}
	return cli_open_store(&a, ro, out);
}

static int run(store *from, store *to, copy *c)
{
	store_walker w = {c, copy_user, copy_feat, copy_msg};
	int err, e2;

	if ((err = from->ops->begin(from, 0)))
		return err;
	if ((err = to->ops->begin(to, 1))) {
		from->ops->end(from, 0);
		return err;
	}
	err = from->ops->walk(from, &w);
	err = c->err ? c->err : err;
	e2 = to->ops->end(to, !err);
	from->ops->end(from, 0);
	return err ? err : e2;
}

int cmd_migrate(int argc, char **argv)
{
	const char *src = NULL, *dst = NULL, *pw = NULL;
	store *from = NULL, *to = NULL;
	copy c = {0};
	int err = 0, rc = CLI_USAGE;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--from"))
			src = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--to"))
			dst = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--redis-password-file"))
			pw = argv[++i];
		else
			return fputs(migrate_usage, stderr), CLI_USAGE;
	}
	if (!src || !dst)
		return fputs(migrate_usage, stderr), CLI_USAGE;
	if (open_model(src, pw, 1, &from) || open_model(dst, pw, 0, &to))
		goto out;
	if ((err = not_empty(to))) {
		fprintf(stderr, "spamsift migrate: %s: %s\n", dst,
		        err > 0 ? "the target already holds a model (migrate copies into an "
		                  "empty one)"
		                : ss_strerror(err));
		goto out;
	}
	c.to = to;
	if (!(c.map = calloc(MAX_USERS, sizeof(*c.map))) || (err = run(from, to, &c))) {
		fprintf(stderr, "spamsift migrate: %s\n", ss_strerror(c.map ? err : SS_ENOMEM));
		goto out;
	}
	fprintf(stderr, "migrate: %zu users, %zu features, %zu messages copied\n",
	        c.users ? c.users - 1 : 0, c.feats, c.msgs);
	rc = CLI_OK;
out:
	free(c.map);
	store_close(from);
	store_close(to);
	return rc;
}

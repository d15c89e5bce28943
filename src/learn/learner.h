/*
 * learner.h: checking, learning and unlearning messages against a store.
 *
 * Ties together feature extraction (features.h), the classifier's arithmetic
 * (classify.h) and a model store (store.h). A per-user model is an
 * adaptation added on top of the global one: a feature's counts and weight
 * are the global ones plus the user's, so a user who never trained gets
 * exactly the global verdict, and each report of theirs moves only their
 * own model.
 *
 * Learning is idempotent per message: a message is known by a digest of its
 * Message-ID, Subject and visible text (not of headers that relays add), and
 * learning it again as the same class changes nothing, while learning it as
 * the other class first undoes the earlier learning. Unlearning removes the
 * message's counts exactly and subtracts the weight step it applied.
 * The caller runs these inside a store transaction. No I/O of its own.
 */
#ifndef SS_LEARN_LEARNER_H
#define SS_LEARN_LEARNER_H

#include "learn/classify.h"
#include "learn/features.h"
#include "store/store.h"

typedef struct learner learner;

/* One feature behind a verdict. */
typedef struct lrn_reason {
	const char *ns;     /* namespace prefix ("w", "subj", "url"...) */
	const char *tok;    /* the feature's token */
	double weight;      /* log-odds push: > 0 towards spam */
	uint32_t spam, ham; /* messages of each class seen with it */
} lrn_reason;

typedef struct lrn_verdict {
	clf_result r;
	int is_spam;
	size_t nfeat;
	lrn_reason *top; /* strongest features first (in the caller's arena) */
	size_t ntop;
} lrn_verdict;

/* What learn/unlearn did. */
enum { LRN_UNCHANGED = 0, LRN_LEARNED = 1, LRN_MOVED = 2, LRN_UNLEARNED = 3 };

/* Returns a new learner over store s (not owned), or NULL. */
learner *learner_new(store *s, const clf_params *p, size_t max_features);
void learner_free(learner *l);

/* Scores m for `user` (0: global). With ntop > 0, fills v->top with up to
 * ntop strongest features (allocated in a). Returns 0 or an SS_E* code. */
int learner_check(learner *l, const ss_message *m, uint32_t user, size_t ntop, ss_arena *a,
                  lrn_verdict *v);

/* Learns m as spam or ham in `user`'s model; *what gets an LRN_* code.
 * user_name is the user's name (NULL or "" for the global model): the
 * store is told it with what the writes mean (store_ops.intent), so that
 * a store that journals them can redo the report later, even for a user
 * it could not give an id yet. When the store cannot tell whether m was
 * learned (its server is down), m is taken as new: *what is LRN_LEARNED
 * and the redo moves it if need be. */
int learner_learn(learner *l, const ss_message *m, uint32_t user, const char *user_name,
                  int is_spam, ss_arena *a, int *what);

/* Undoes the learning of m in `user`'s model (LRN_UNCHANGED when it was
 * never learned there). When the store cannot tell (its server is down),
 * *what is LRN_UNLEARNED and the store's journal redoes it. */
int learner_unlearn(learner *l, const ss_message *m, uint32_t user, const char *user_name,
                    ss_arena *a, int *what);

/* The digest m is known by in the store (STORE_DIGEST bytes into out):
 * of its Message-ID, Subject and visible text. */
void learner_digest(const ss_message *m, uint8_t *out);

/* Redoes a journaled report (a store_redo_fn, see store.h): in one write
 * transaction on h, finds (learn: creates) in->user_name's id, reads the
 * message's record and learns, moves or unlearns as in->action says, from
 * in's feature keys, against the model as it is now; a report already
 * applied changes nothing. Uses l's parameters only, so it may run on
 * another thread while l is in use. Returns 0 or an SS_E* code (the
 * transaction is ended either way). */
int learner_redo(learner *l, store *h, const store_intent *in);

/* Scores and then learns m with its gold class in one pass (for eval: the
 * features are extracted once). */
int learner_check_learn(learner *l, const ss_message *m, int is_spam, ss_arena *a, lrn_verdict *v);

#endif

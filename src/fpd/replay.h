/*
 * replay.h: the replay cache of spamsift-fpd: the nonces of requests
 * accepted within the timestamp window.
 *
 * Two generations of a hash set of 64-bit keyed hashes of nonces; the
 * older is dropped every 2 * FPP_WINDOW seconds, so a nonce is remembered
 * for at least that long, as long as its timestamp can be accepted.
 */
#ifndef SS_FPD_REPLAY_H
#define SS_FPD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct replay replay;

/* A new, empty cache; NULL when out of memory. */
replay *replay_new(void);

/* Frees the cache; NULL is fine. */
void replay_free(replay *r);

/* Records `nonce` (FPP_NONCE bytes) at time `now`: returns 1 if it was
 * seen already (a replay), 0 if new, SS_ENOMEM. */
int replay_check(replay *r, const uint8_t *nonce, uint64_t now);

#endif

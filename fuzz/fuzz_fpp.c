/*
 * fuzz_fpp.c: libFuzzer target for the fingerprint protocol: envelopes,
 * plaintext messages (a decoded message re-encodes to the same bytes)
 * and keys-file lines never crash or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fpp_envelope env;
	fpp_msg m;
	fpp_key keys[4];
	uint8_t out[FPP_MAX_PACKET], secret[FPP_SECRET] = {0};
	size_t n;
	unsigned line;

	if (!fpp_envelope_parse(data, size, &env))
		(void)fpp_open(&env, secret, &m);
	if (!fpp_msg_decode(data, size, &m)) {
		int len = fpp_msg_encode(&m, out, sizeof(out));
		if (len < 0 || (size_t)len != size || memcmp(out, data, size))
			abort();
	}
	(void)fpp_keys_parse((const char *)data, size, keys, 4, &n, &line);
	return 0;
}

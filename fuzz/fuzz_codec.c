/*
 * fuzz_codec.c: libFuzzer target for the transfer decoders (base64,
 * quoted-printable in body and header mode, uuencode): no overrun, and the
 * output is never larger than the input allows.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mime/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	sbuf b = SBUF_INIT;
	unsigned fl = 0;
	size_t pos = 0;
	uu_block blk;

	codec_base64(&b, in, size, &fl);
	if (b.len > size / 4 * 3 + 3)
		abort();
	sbuf_reset(&b);
	codec_qp(&b, in, size, 0, &fl);
	if (b.len > size)
		abort();
	sbuf_reset(&b);
	codec_qp(&b, in, size, 1, &fl);
	sbuf_reset(&b);
	while (codec_uu_find(in, size, pos, &blk)) {
		if (blk.end <= blk.start || blk.end > size)
			abort();
		codec_uu_decode(&b, in, &blk, &fl);
		pos = blk.end;
	}
	sbuf_release(&b);
	return 0;
}

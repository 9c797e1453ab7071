/**
 * @file fuzz_repl.c  libFuzzer harness for the replication frames'
 * payloads (src/ha/repl_codec.c): the first byte picks the frame type,
 * the rest is its payload.
 *
 * Properties beyond "no crash": a position, FULLRESYNC, SNAP_END, ACK or
 * u64 payload that decodes encodes back to the same bytes; a SNAP's data
 * lies inside the payload; a STREAM that decodes is whole turns to its
 * last byte (jnl_turn_check walks it exactly) and one that does not says
 * why in err.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ha/repl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jnl_wbuf out;

static void same(const uint8_t *p, size_t len)
{
	if (out.len != len || memcmp(out.p, p, len))
		abort();
}

static void stream(const uint8_t *p, size_t len)
{
	struct repl_stream s;
	char err[256] = "";
	size_t at = 0, used;

	if (repl_stream_decode(&s, p, len, err, sizeof(err))) {
		if (!err[0])
			abort();
		return;
	}
	if (s.turns != p + 8 || s.len != len - 8 || !s.len)
		abort();
	while (at < s.len) {
		if (jnl_turn_check(s.turns + at, s.len - at, &used, NULL) || !used)
			abort();
		at += used;
	}
	if (at != s.len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t len = size ? size - 1 : 0;
	struct repl_pos pos;
	struct repl_full f;
	struct repl_snap sn;
	struct repl_snap_end se;
	struct repl_ack a;
	uint64_t v;

	if (!size)
		return 0;
	out.len = 0;
	switch (data[0] % 8) {
	case 0:
		if (!repl_pos_decode(&pos, p, len) && !repl_pos_encode(&out, pos.replid, pos.offset))
			same(p, len);
		break;
	case 1:
		if (!repl_full_decode(&f, p, len) && !repl_full_encode(&out, &f))
			same(p, len);
		break;
	case 2:
		if (!repl_snap_decode(&sn, p, len) &&
		    (sn.data != p + 9 || sn.len != len - 9 || sn.db >= REPL_DB_COUNT))
			abort();
		break;
	case 3:
		if (!repl_snap_end_decode(&se, p, len) && !repl_snap_end_encode(&out, &se))
			same(p, len);
		break;
	case 4:
		if (!repl_ack_decode(&a, p, len) && !repl_ack_encode(&out, &a))
			same(p, len);
		break;
	case 5:
		if (!repl_u64_decode(&v, p, len) && !repl_u64_encode(&out, v))
			same(p, len);
		break;
	default:
		stream(p, len);
		break;
	}
	return 0;
}

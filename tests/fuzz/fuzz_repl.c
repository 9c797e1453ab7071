/**
 * @file fuzz_repl.c  libFuzzer harness for the replication frames'
 * payloads (src/ha/repl_codec.c): the first byte picks the frame type,
 * the rest is its payload.
 *
 * Properties beyond "no crash": a position, FULLRESYNC, SNAP_END, ACK or
 * u64 payload that decodes encodes back to the same bytes; a SNAP's data
 * lies inside the payload; a STREAM that decodes is whole turns to its
 * last byte (jnl_turn_check walks it exactly) and one that does not says
 * why in err; the full resync's FILE_LIST entries that decode are sorted,
 * inside their area (jnl_relpath_ok) and under FM_SIZE_MAX, FILE_WANT
 * indexes increase inside the manifest, a FILE_DATA that decodes (but
 * CHUNK) encodes back to the same bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ha/file_manifest.h"
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

static void file_list(const uint8_t *p, size_t len)
{
	struct fm_list l = { 0 };
	char err[1400] = "";
	bool last;

	if (fm_list_decode(&l, p, len, &last, err, sizeof(err)) == EBADMSG && !err[0])
		abort();
	for (size_t i = 0; i < l.n; i++) {
		struct pl r = jnl_pl(l.v[i].rel);

		if (l.v[i].area >= FM_AREAS || !jnl_relpath_ok(&r) || l.v[i].size > FM_SIZE_MAX ||
		    (i && fm_cmp(l.v[i - 1].area, l.v[i - 1].rel, l.v[i].area, l.v[i].rel) >= 0))
			abort();
	}
	fm_list_free(&l);
}

static void file_want(const uint8_t *p, size_t len)
{
	uint32_t *idx = NULL;
	size_t n = 0;
	char err[256];
	bool last;

	if (!fm_want_decode(&idx, &n, 1000, p, len, &last, err, sizeof(err)))
		for (size_t i = 0; i < n; i++)
			if (idx[i] >= 1000 || (i && idx[i] <= idx[i - 1]))
				abort();
	free(idx);
}

static void file_data(const uint8_t *p, size_t len)
{
	struct fm_data d;

	if (fm_data_decode(&d, p, len))
		return;
	if (d.kind == FM_DATA_CHUNK) {
		if (d.data != p + 13 || d.len != len - 13 || !d.len)
			abort();
		return;
	}
	if (fm_data_encode(&out, &d))
		abort();
	if (d.kind == FM_DATA_BEGIN && (d.mode & ~07777u)) /* the mode is masked */
		abort();
	if (d.kind != FM_DATA_BEGIN)
		same(p, len);
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
	switch (data[0] % 11) {
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
	case 8:
		file_list(p, len);
		break;
	case 9:
		file_want(p, len);
		break;
	case 10:
		file_data(p, len);
		break;
	default:
		stream(p, len);
		break;
	}
	return 0;
}

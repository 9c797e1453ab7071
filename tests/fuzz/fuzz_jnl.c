/**
 * @file fuzz_jnl.c  libFuzzer harness for the replication stream's parsers:
 * journal entries (jnl_entry_decode, jnl_turn_check, the list and TLV
 * walkers) and the link's own frame payloads (HELLO, PING, PONG, ERROR).
 *
 * Each input is also tried with its length and CRC rewritten (sealed()),
 * or the mutations would hardly get past the checksum.
 *
 * Properties beyond "no crash": an entry that decodes encodes back to the
 * same bytes, every list a decoded entry holds can be walked to its end,
 * a relpath the decoder accepted passes jnl_relpath_ok(), and a call
 * snapshot the decoder accepted encodes back and decodes to the same call.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ha/crc32c.h"
#include "ha/jnl_codec.h"
#include "ha/link.h"
#include "pbx/call_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jnl_wbuf out;
static struct call_snap snap;
static struct call_setup_snap setup;

static void walk(const struct jnl_entry *e)
{
	struct pl list, a, b;
	uint16_t tag;
	unsigned n = 0;

	switch (e->type) {
	case JNL_MEMBERS:
		list = e->u.members.list;
		while (jnl_members_next(&list, &a, &b))
			n++;
		if (list.l || n != e->u.members.n)
			abort();
		break;
	case JNL_CDR_SPOOL_DONE:
		list = e->u.spool_done.list;
		while (jnl_strlist_next(&list, &a))
			n++;
		if (list.l || n != e->u.spool_done.n)
			abort();
		break;
	case JNL_CALL_SNAP:
	case JNL_CALL_UPD:
		list = e->u.call.tlv;
		while (jnl_tlv_next(&list, &tag, &a))
			;
		if (list.l)
			abort();
		/* the standby's decoder of the snapshot (call_codec.c): what it
		 * accepts encodes and decodes again to the same call */
		if (call_snap_decode(&snap, e->u.call.tlv) == 0) {
			struct jnl_wbuf w = { 0 };
			struct call_snap again;
			if (call_snap_encode(&w, &snap) ||
			    call_snap_decode(&again, pl_of((const char *)w.p, w.len)))
				abort();
			if (strcmp(again.cdr.uniqueid, snap.cdr.uniqueid) ||
			    again.rtp[0].out_ssrc != snap.rtp[0].out_ssrc ||
			    strcmp(again.adlg->callid, snap.adlg->callid))
				abort();
			call_snap_clear(&again);
			call_snap_clear(&snap);
			jnl_wbuf_free(&w);
		}
		/* a call in setup's (call_setup_codec.c): the same */
		if (call_setup_decode(&setup, e->u.call.tlv) == 0) {
			struct jnl_wbuf w = { 0 };
			struct call_setup_snap again;
			if (call_setup_encode(&w, &setup) ||
			    call_setup_decode(&again, pl_of((const char *)w.p, w.len)))
				abort();
			if (strcmp(again.uniqueid, setup.uniqueid) || again.nlegs != setup.nlegs ||
			    again.invlen != setup.invlen || memcmp(again.inv, setup.inv, setup.invlen))
				abort();
			call_setup_clear(&again);
			call_setup_clear(&setup);
			jnl_wbuf_free(&w);
		}
		break;
	case JNL_FILE_BEGIN:
		if (!jnl_relpath_ok(&e->u.fbegin.relpath) || e->u.fbegin.area >= JNL_AREA_COUNT)
			abort();
		break;
	case JNL_FILE_DEL:
		if (!jnl_relpath_ok(&e->u.fdel.relpath))
			abort();
		break;
	case JNL_FILE_RENAME:
		if (!jnl_relpath_ok(&e->u.frename.from) || !jnl_relpath_ok(&e->u.frename.to))
			abort();
		break;
	case JNL_FILE_CHUNK:
		if (e->u.fchunk.data.l > JNL_CHUNK_MAX)
			abort();
		break;
	}
}

static void entries(const uint8_t *data, size_t size)
{
	struct jnl_entry e;
	size_t off = 0, used;
	int rc;

	while (off < size) {
		rc = jnl_entry_decode(&e, data + off, size - off, &used);
		if (rc == EAGAIN) {
			if (used && used <= size - off)
				abort();
			return;
		}
		if (rc) {
			if (rc != EBADMSG)
				abort();
			return;
		}
		if (used < JNL_ENTRY_MIN || used > size - off || used != e.len)
			abort();
		walk(&e);
		out.len = 0;
		if (jnl_entry_encode(&out, &e) || out.len != used ||
		    memcmp(out.p, data + off, used))
			abort();
		off += used;
	}
}

static void frames(const uint8_t *data, size_t size)
{
	struct ha_link_hello h;
	struct ha_link_ping pg;
	struct ha_link_pos pos;
	uint16_t code;
	struct pl text;

	if (ha_hello_decode(&h, data, size) == 0) {
		memset(&pos, 0, sizeof(pos));
		pos.epoch = h.epoch;
		pos.role = h.role;
		memcpy(pos.replid, h.replid, sizeof(pos.replid));
		memcpy(pos.replid2, h.replid2, sizeof(pos.replid2));
		pos.offset = h.offset;
		pos.offset2 = h.offset2;
		out.len = 0;
		if (h.proto == HA_LINK_PROTO &&
		    (ha_hello_encode(&out, h.cluster, h.node, &pos, h.conf_sha256) ||
		     out.len != size || memcmp(out.p, data, size)))
			abort();
	}
	for (int pong = 0; pong < 2; pong++)
		if (ha_ping_decode(&pg, pong, data, size) == 0 && size != (pong ? 23u : 19u))
			abort();
	if (ha_error_decode(&code, &text, data, size) == 0 && text.l + 4 != size)
		abort();
}

/* The input as one entry with its length and CRC made right, so that the
 * mutations reach the payload decoder instead of dying at the CRC. */
static void sealed(const uint8_t *data, size_t size)
{
	static uint8_t buf[JNL_ENTRY_MAX];
	uint32_t crc;

	if (size < JNL_ENTRY_MIN || size > sizeof(buf))
		return;
	memcpy(buf, data, size);
	for (int i = 0; i < 4; i++)
		buf[i] = (uint8_t)(size >> (8 * i));
	buf[6] = buf[7] = 0;
	crc = crc32c(0, buf, size - 4);
	for (int i = 0; i < 4; i++)
		buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	entries(buf, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used;
	uint64_t turn;

	entries(data, size);
	sealed(data, size);
	if (jnl_turn_check(data, size, &used, &turn) == 0 && (used > size || used < JNL_ENTRY_MIN))
		abort();
	frames(data, size);
	return 0;
}

/**
 * @file call_setup_codec.c  A call still in setup as the standby keeps it
 * (docs/design/cluster.md 9, "calls in setup"): CALL_SNAP's payload is
 * then one T_SETUP TLV (a tag the bridged call's codec does not know and
 * skips) holding what a new active needs to give the caller a final
 * response to its INVITE and to CANCEL each ringing callee leg: the
 * INVITEs as received and as sent, the To tag we answered with, where
 * each came from or went.
 *
 * Decoding treats the bytes as hostile: lengths and ranges checked,
 * unknown tags skipped, a snapshot without its uniqueid, the caller's
 * INVITE or its address refused; at most CALL_SETUP_LEGS legs kept (the
 * rest skipped). The INVITEs themselves are parsed at promotion
 * (sip_strans_restore, sip_ctrans_restore_cancel), which refuse garbage.
 */
#include <stdlib.h>
#include <string.h>

#include "ha/tlv_val.h"
#include "pbx/call_codec.h"

#define T_SETUP  60          /* the whole snapshot, nested */
#define REQ_MAX  16384       /* an INVITE as kept: larger ones are refused */

enum { S_KEY = 1, S_CALLER, S_EXTEN, S_TOTAG, S_INV, S_ASRC_ADDR, S_ASRC_LOCAL, S_ASRC_TP,
       S_TAKEN, S_LEG };
enum { L_INV = 1, L_DST_ADDR, L_DST_LOCAL, L_DST_TP };

static int put_src(struct jnl_wbuf *b, uint16_t taddr, const struct sip_src *s)
{
	int e = tlv_put_sa(b, taddr, &s->addr);

	e = e ? e : tlv_put_sa(b, taddr + 1, &s->local);
	return e ? e : tlv_put_u64(b, taddr + 2, (uint64_t)s->tp);
}

static int put_nested(struct jnl_wbuf *b, uint16_t tag, struct jnl_wbuf *in, int e)
{
	e = e ? e : jnl_tlv_add(b, tag, pl_of((const char *)in->p, in->len));
	jnl_wbuf_free(in);
	return e;
}

int call_setup_encode(struct jnl_wbuf *b, const struct call_setup_snap *s)
{
	struct jnl_wbuf in = { 0 };
	int e;

	if (!s->inv || !s->invlen || s->invlen > REQ_MAX)
		return EINVAL;
	e = tlv_put_str(&in, S_KEY, s->uniqueid);
	e = e ? e : tlv_put_str(&in, S_CALLER, s->caller);
	e = e ? e : tlv_put_str(&in, S_EXTEN, s->exten);
	e = e ? e : tlv_put_str(&in, S_TOTAG, s->totag);
	e = e ? e : jnl_tlv_add(&in, S_INV, pl_of(s->inv, s->invlen));
	e = e ? e : put_src(&in, S_ASRC_ADDR, &s->asrc);
	e = e ? e : tlv_put_u64(&in, S_TAKEN, (uint64_t)s->taken_ms);
	for (unsigned i = 0; !e && i < s->nlegs && i < CALL_SETUP_LEGS; i++) {
		struct jnl_wbuf l = { 0 };
		const struct call_setup_leg *g = &s->legs[i];
		int le = (!g->inv || !g->invlen || g->invlen > REQ_MAX) ? EINVAL : 0;

		le = le ? le : jnl_tlv_add(&l, L_INV, pl_of(g->inv, g->invlen));
		le = le ? le : put_src(&l, L_DST_ADDR, &g->dst);
		e = put_nested(&in, S_LEG, &l, le);
	}
	return put_nested(b, T_SETUP, &in, e);
}

static int get_bytes(const struct pl *v, char **out, size_t *len)
{
	int err;

	if (!v->l || v->l > REQ_MAX)
		return EBADMSG;
	if (!(err = tlv_dup(v, out)))
		*len = v->l;
	return err;
}

static int get_src(struct sip_src *s, uint16_t off, const struct pl *v)
{
	uint64_t x;
	int e;

	switch (off) {
	case 0: return tlv_get_sa(v, &s->addr);
	case 1: return tlv_get_sa(v, &s->local);
	default:
		if (!(e = tlv_get_uint(v, SIP_TRANSP_TCP, &x)))
			s->tp = (enum sip_transp)x;
		return e;
	}
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

static void src_done(struct sip_src *s)
{
	s->fd = -1;
	s->alen = sa_len(&s->addr);
}

static int leg_get(struct pl tlv, struct call_setup_leg *g)
{
	uint16_t tag;
	struct pl v;
	int e = 0;

	while (!e && jnl_tlv_next(&tlv, &tag, &v)) {
		if (tag == L_INV)
			e = get_bytes(&v, &g->inv, &g->invlen);
		else if (tag >= L_DST_ADDR && tag <= L_DST_TP)
			e = get_src(&g->dst, tag - L_DST_ADDR, &v);
	}
	if (!e && (tlv.l || !g->inv || (g->dst.addr.ss_family != AF_INET &&
					g->dst.addr.ss_family != AF_INET6)))
		e = EBADMSG;
	src_done(&g->dst);
	return e;
}

static int field(struct call_setup_snap *s, uint16_t tag, const struct pl *v)
{
	uint64_t x;
	int e;

	switch (tag) {
	case S_KEY:    return tlv_get_str(v, s->uniqueid, sizeof(s->uniqueid));
	case S_CALLER: return tlv_get_str(v, s->caller, sizeof(s->caller));
	case S_EXTEN:  return tlv_get_str(v, s->exten, sizeof(s->exten));
	case S_TOTAG:  return tlv_get_str(v, s->totag, sizeof(s->totag));
	case S_INV:    return get_bytes(v, &s->inv, &s->invlen);
	case S_ASRC_ADDR: case S_ASRC_LOCAL: case S_ASRC_TP:
		return get_src(&s->asrc, tag - S_ASRC_ADDR, v);
	case S_TAKEN:
		if (!(e = tlv_get_uint(v, INT64_MAX, &x)))
			s->taken_ms = (int64_t)x;
		return e;
	case S_LEG:
		if (s->nlegs >= CALL_SETUP_LEGS)
			return 0;    /* more than we send: skipped */
		if ((e = leg_get(*v, &s->legs[s->nlegs])))
			return e;
		s->nlegs++;
		return 0;
	default:
		return 0;    /* unknown: skipped */
	}
}

int call_setup_decode(struct call_setup_snap *s, struct pl tlv)
{
	struct pl v, in = { 0 };
	uint16_t tag;
	bool found = false;
	int e = 0;

	memset(s, 0, sizeof(*s));
	while (jnl_tlv_next(&tlv, &tag, &v))
		if (tag == T_SETUP) {
			in = v;
			found = true;
		}
	if (tlv.l)
		return EBADMSG;
	if (!found)
		return ENOENT;
	while (!e && jnl_tlv_next(&in, &tag, &v))
		e = field(s, tag, &v);
	if (!e && (in.l || !s->uniqueid[0] || !s->inv || !s->totag[0] ||
		   (s->asrc.addr.ss_family != AF_INET && s->asrc.addr.ss_family != AF_INET6)))
		e = EBADMSG;
	if (e) {
		call_setup_clear(s);
		return e;
	}
	src_done(&s->asrc);
	return 0;
}

void call_setup_clear(struct call_setup_snap *s)
{
	free(s->inv);
	for (unsigned i = 0; i < CALL_SETUP_LEGS; i++)
		free(s->legs[i].inv);
	memset(s, 0, sizeof(*s));
}

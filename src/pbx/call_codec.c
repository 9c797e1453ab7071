/**
 * @file call_codec.c  CALL_SNAP's payload (docs/design/cluster.md 9): a
 * bridged call as TLVs (u16 tag, u32 length, value) and back.
 *
 * Plain fields go through two tables (strings into fixed arrays, integers
 * as 8-byte little-endian values with a maximum), so encoder and decoder
 * cannot drift apart; the dialogs (dialog_codec.c), each relay leg and
 * each negotiation are nested TLVs. Decoding treats the bytes as hostile:
 * lengths and ranges checked, strings without NUL and shorter than their
 * array, unknown tags skipped (a newer node's fields), a call without its
 * two dialogs, its uniqueid or its relay refused.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ha/tlv_val.h"
#include "media/codec.h"
#include "pbx/call_codec.h"

/* The tripwire: a field added to the snapshot must be added to the
 * tables or nested encoders below, then N updated. */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(struct call_snap) == 5872, "add the field to call_codec.c");
#endif

enum {
	/* nested */
	T_ADLG = 1, T_BDLG, T_RTP_A, T_RTP_B, T_A_CAP, T_B_OFF, T_B_NEG,
	T_ASRC_ADDR, T_ASRC_LOCAL, T_BDST_ADDR, T_BDST_LOCAL, T_FROM_HDR, T_RURI,
	/* strings: 100 + */
	/* integers: 200 + */
};

#define S(tag, field) { tag, offsetof(struct call_snap, field), \
			sizeof(((struct call_snap *)0)->field) }
static const struct sfield { uint16_t tag; size_t off, size; } strs[] = {
	S(100, caller), S(101, callerid), S(102, exten), S(103, context), S(104, cidname),
	S(105, cidnum), S(106, channel), S(107, apeer), S(108, bpeer),
	S(110, b.peer), S(111, b.channel), S(112, b.callid),
	S(120, cdr.clid), S(121, cdr.src), S(122, cdr.dst), S(123, cdr.dcontext),
	S(124, cdr.channel), S(125, cdr.dstchannel), S(126, cdr.lastapp),
	S(127, cdr.lastdata), S(128, cdr.accountcode), S(129, cdr.peeraccount),
	S(130, cdr.userfield), S(131, cdr.uniqueid), S(132, cdr.linkedid),
};

#define I(tag, field, max) { tag, offsetof(struct call_snap, field), \
			     sizeof(((struct call_snap *)0)->field), max }
static const struct ifield { uint16_t tag; size_t off, w; uint64_t max; } ints[] = {
	I(200, taken_ms, INT64_MAX), I(201, start, INT64_MAX), I(202, answered, INT64_MAX),
	I(203, asrc.tp, SIP_TRANSP_TCP),
	I(204, a_origin.id, UINT64_MAX), I(205, a_origin.ver, UINT64_MAX),
	I(206, a_origin.digest, UINT64_MAX),
	I(207, b_origin.id, UINT64_MAX), I(208, b_origin.ver, UINT64_MAX),
	I(209, b_origin.digest, UINT64_MAX),
	I(210, b.cseq, UINT32_MAX), I(211, b.dst.tp, SIP_TRANSP_TCP), I(212, b.status, 699),
	I(220, cdr.start_us, INT64_MAX), I(221, cdr.answer_us, INT64_MAX),
	I(222, cdr.disposition, CDR_DISP_CONGESTION), I(223, cdr.amaflags, CDR_AMA_DOCUMENTATION),
	I(224, cdr.sequence, UINT64_MAX),
};

static uint64_t int_get(const void *base, const struct ifield *f)
{
	const char *p = (const char *)base + f->off;
	uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;

	switch (f->w) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static void int_set(void *base, const struct ifield *f, uint64_t v)
{
	char *p = (char *)base + f->off;
	uint8_t u8 = (uint8_t)v; uint16_t u16 = (uint16_t)v; uint32_t u32 = (uint32_t)v;

	switch (f->w) {
	case 1: memcpy(p, &u8, 1); break;
	case 2: memcpy(p, &u16, 2); break;
	case 4: memcpy(p, &u32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* ------------------------------------------------------------ nested */

/* A nested TLV list: built in its own buffer, added as one value. */
static int nest(struct jnl_wbuf *b, uint16_t tag, const struct jnl_wbuf *in)
{
	return jnl_tlv_add(b, tag, pl_of((const char *)in->p, in->len));
}

/* pts as pairs (pt, codec); te_pt + 1; dir; ptime */
enum { N_PTS = 1, N_TE, N_DIR, N_PTIME, N_RTP, N_RTCP, N_COMEDIA, N_LOCAL, N_SRC_RTP,
       N_SRC_RTCP, N_LATCHED, N_RTCP_LATCHED, N_SSRC, N_OUT_INIT, N_OUT_SEQ, N_OUT_TS,
       N_OUT_WALL, N_RX_WALL };

static int pts_put(struct jnl_wbuf *b, const struct sdp_pt *pts, size_t n)
{
	uint8_t p[2 * SDP_FMT_MAX];

	for (size_t i = 0; i < n && i < SDP_FMT_MAX; i++) {
		p[2 * i] = pts[i].pt;
		p[2 * i + 1] = (uint8_t)pts[i].codec;
	}
	return jnl_tlv_add(b, N_PTS, pl_of((const char *)p, 2 * (n < SDP_FMT_MAX ? n : SDP_FMT_MAX)));
}

static int pts_get(const struct pl *v, struct sdp_pt *pts, size_t *n)
{
	const uint8_t *p = (const uint8_t *)v->p;

	if (v->l % 2 || v->l / 2 > SDP_FMT_MAX)
		return EBADMSG;
	for (size_t i = 0; i < v->l / 2; i++) {
		if (p[2 * i] > 127 || !codec_info((enum codec)p[2 * i + 1]))
			return EBADMSG;
		pts[i].pt = p[2 * i];
		pts[i].codec = (enum codec)p[2 * i + 1];
	}
	*n = v->l / 2;
	return 0;
}

static int neg_put(struct jnl_wbuf *b, uint16_t tag, const struct sdp_neg *n)
{
	struct jnl_wbuf in = { 0 };
	int e = pts_put(&in, n->pts, n->npts);

	e = e ? e : tlv_put_u64(&in, N_TE, (uint64_t)(n->te_pt + 1));
	e = e ? e : tlv_put_u64(&in, N_DIR, (uint64_t)n->dir);
	e = e ? e : tlv_put_u64(&in, N_PTIME, n->ptime);
	e = e ? e : nest(b, tag, &in);
	jnl_wbuf_free(&in);
	return e;
}

static int neg_get(struct pl tlv, struct sdp_neg *n)
{
	uint16_t tag;
	struct pl v;
	uint64_t x;
	int e = 0;

	memset(n, 0, sizeof(*n));
	n->te_pt = -1;
	while (!e && jnl_tlv_next(&tlv, &tag, &v)) {
		switch (tag) {
		case N_PTS: e = pts_get(&v, n->pts, &n->npts); break;
		case N_TE:
			if (!(e = tlv_get_uint(&v, 128, &x)))
				n->te_pt = (int)x - 1;
			break;
		case N_DIR:
			if (!(e = tlv_get_uint(&v, SDP_INACTIVE, &x)))
				n->dir = (enum sdp_dir)x;
			break;
		case N_PTIME:
			if (!(e = tlv_get_uint(&v, 1000, &x)))
				n->ptime = (uint32_t)x;
			break;
		default: break;
		}
	}
	return e ? e : tlv.l ? EBADMSG : 0;
}

static int rtp_put(struct jnl_wbuf *b, uint16_t tag, const struct rtp_leg_snap *s)
{
	struct jnl_wbuf in = { 0 };
	int e = pts_put(&in, s->conf.pts, s->conf.npts);

	e = e ? e : tlv_put_u64(&in, N_DIR, (uint64_t)s->conf.dir);
	e = e ? e : tlv_put_sa(&in, N_RTP, &s->conf.rtp);
	e = e ? e : tlv_put_sa(&in, N_RTCP, &s->conf.rtcp);
	e = e ? e : tlv_put_u64(&in, N_COMEDIA, s->conf.comedia);
	e = e ? e : tlv_put_sa(&in, N_LOCAL, &s->local);
	e = e ? e : tlv_put_sa(&in, N_SRC_RTP, &s->src_rtp);
	e = e ? e : tlv_put_sa(&in, N_SRC_RTCP, &s->src_rtcp);
	e = e ? e : tlv_put_u64(&in, N_LATCHED, s->latched);
	e = e ? e : tlv_put_u64(&in, N_RTCP_LATCHED, s->rtcp_latched);
	e = e ? e : tlv_put_u64(&in, N_SSRC, s->out_ssrc);
	e = e ? e : tlv_put_u64(&in, N_OUT_INIT, s->out_init);
	e = e ? e : tlv_put_u64(&in, N_OUT_SEQ, s->out_seq);
	e = e ? e : tlv_put_u64(&in, N_OUT_TS, s->out_ts);
	e = e ? e : tlv_put_u64(&in, N_OUT_WALL, (uint64_t)s->out_wall_ms);
	e = e ? e : tlv_put_u64(&in, N_RX_WALL, (uint64_t)s->rx_wall_ms);
	e = e ? e : nest(b, tag, &in);
	jnl_wbuf_free(&in);
	return e;
}

static int rtp_field(struct rtp_leg_snap *s, uint16_t tag, const struct pl *v)
{
	uint64_t x;
	int e;

	switch (tag) {
	case N_PTS:      return pts_get(v, s->conf.pts, &s->conf.npts);
	case N_RTP:      return tlv_get_sa(v, &s->conf.rtp);
	case N_RTCP:     return tlv_get_sa(v, &s->conf.rtcp);
	case N_LOCAL:    return tlv_get_sa(v, &s->local);
	case N_SRC_RTP:  return tlv_get_sa(v, &s->src_rtp);
	case N_SRC_RTCP: return tlv_get_sa(v, &s->src_rtcp);
	default: break;
	}
	if ((e = tlv_get_uint(v, tag == N_DIR ? SDP_INACTIVE :
			      tag == N_OUT_SEQ ? UINT16_MAX :
			      tag == N_SSRC || tag == N_OUT_TS ? UINT32_MAX :
			      tag == N_OUT_WALL || tag == N_RX_WALL ? INT64_MAX : 1, &x)))
		return tag > N_RX_WALL ? 0 : e;
	switch (tag) {
	case N_DIR:          s->conf.dir = (enum sdp_dir)x; break;
	case N_COMEDIA:      s->conf.comedia = x; break;
	case N_LATCHED:      s->latched = x; break;
	case N_RTCP_LATCHED: s->rtcp_latched = x; break;
	case N_SSRC:         s->out_ssrc = (uint32_t)x; break;
	case N_OUT_INIT:     s->out_init = x; break;
	case N_OUT_SEQ:      s->out_seq = (uint16_t)x; break;
	case N_OUT_TS:       s->out_ts = (uint32_t)x; break;
	case N_OUT_WALL:     s->out_wall_ms = (int64_t)x; break;
	case N_RX_WALL:      s->rx_wall_ms = (int64_t)x; break;     /* absent: 0 (older node) */
	default: break;      /* unknown: skipped */
	}
	return 0;
}

static int rtp_get(struct pl tlv, struct rtp_leg_snap *s)
{
	uint16_t tag;
	struct pl v;
	int e = 0;

	memset(s, 0, sizeof(*s));
	while (!e && jnl_tlv_next(&tlv, &tag, &v))
		e = rtp_field(s, tag, &v);
	if (!e && (tlv.l || (s->local.ss_family != AF_INET && s->local.ss_family != AF_INET6)))
		e = EBADMSG;
	return e;
}

static int dlg_put(struct jnl_wbuf *b, uint16_t tag, const struct sip_dialog *d)
{
	struct jnl_wbuf in = { 0 };
	int e = sip_dialog_encode(&in, d);

	e = e ? e : nest(b, tag, &in);
	jnl_wbuf_free(&in);
	return e;
}

/* ------------------------------------------------------------ the call */

int call_snap_encode(struct jnl_wbuf *b, const struct call_snap *s)
{
	int e = 0;
	size_t i;

	for (i = 0; !e && i < sizeof(strs) / sizeof(*strs); i++)
		e = tlv_put_str(b, strs[i].tag, (const char *)s + strs[i].off);
	for (i = 0; !e && i < sizeof(ints) / sizeof(*ints); i++)
		e = tlv_put_u64(b, ints[i].tag, int_get(s, &ints[i]));
	e = e ? e : dlg_put(b, T_ADLG, s->adlg);
	e = e ? e : dlg_put(b, T_BDLG, s->b.dlg);
	e = e ? e : rtp_put(b, T_RTP_A, &s->rtp[0]);
	e = e ? e : rtp_put(b, T_RTP_B, &s->rtp[1]);
	e = e ? e : neg_put(b, T_A_CAP, &s->a_cap);
	e = e ? e : neg_put(b, T_B_OFF, &s->b_off);
	e = e ? e : neg_put(b, T_B_NEG, &s->b_neg);
	e = e ? e : tlv_put_sa(b, T_ASRC_ADDR, &s->asrc.addr);
	e = e ? e : tlv_put_sa(b, T_ASRC_LOCAL, &s->asrc.local);
	e = e ? e : tlv_put_sa(b, T_BDST_ADDR, &s->b.dst.addr);
	e = e ? e : tlv_put_sa(b, T_BDST_LOCAL, &s->b.dst.local);
	e = e ? e : tlv_put_str(b, T_FROM_HDR, s->b.from_hdr);
	e = e ? e : tlv_put_str(b, T_RURI, s->b.ruri);
	return e;
}

static int heap_str(const struct pl *v, char **out)
{
	if (v->l > 8192 || memchr(v->p, '\0', v->l))
		return EBADMSG;
	return tlv_dup(v, out);
}

static int dlg_get(const struct pl *v, struct sip_dialog **dp)
{
	sip_dialog_free(*dp);     /* a repeated tag: the last one wins */
	*dp = NULL;
	return sip_dialog_decode(dp, *v);
}

static int nested(struct call_snap *s, uint16_t tag, const struct pl *v)
{
	switch (tag) {
	case T_ADLG:        return dlg_get(v, &s->adlg);
	case T_BDLG:        return dlg_get(v, &s->b.dlg);
	case T_RTP_A:       return rtp_get(*v, &s->rtp[0]);
	case T_RTP_B:       return rtp_get(*v, &s->rtp[1]);
	case T_A_CAP:       return neg_get(*v, &s->a_cap);
	case T_B_OFF:       return neg_get(*v, &s->b_off);
	case T_B_NEG:       return neg_get(*v, &s->b_neg);
	case T_ASRC_ADDR:   return tlv_get_sa(v, &s->asrc.addr);
	case T_ASRC_LOCAL:  return tlv_get_sa(v, &s->asrc.local);
	case T_BDST_ADDR:   return tlv_get_sa(v, &s->b.dst.addr);
	case T_BDST_LOCAL:  return tlv_get_sa(v, &s->b.dst.local);
	case T_FROM_HDR:    return heap_str(v, &s->b.from_hdr);
	case T_RURI:        return heap_str(v, &s->b.ruri);
	default:            return 0;     /* unknown: skipped */
	}
}

static int field(struct call_snap *s, uint16_t tag, const struct pl *v)
{
	size_t i;
	uint64_t x;
	int e;

	for (i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		if (strs[i].tag == tag)
			return tlv_get_str(v, (char *)s + strs[i].off, strs[i].size);
	for (i = 0; i < sizeof(ints) / sizeof(*ints); i++)
		if (ints[i].tag == tag) {
			if (!(e = tlv_get_uint(v, ints[i].max, &x)))
				int_set(s, &ints[i], x);
			return e;
		}
	return nested(s, tag, v);
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

int call_snap_decode(struct call_snap *s, struct pl tlv)
{
	uint16_t tag;
	struct pl v;
	int e = 0;

	memset(s, 0, sizeof(*s));
	while (!e && jnl_tlv_next(&tlv, &tag, &v))
		e = field(s, tag, &v);
	if (!e && (tlv.l || !s->adlg || !s->b.dlg || !s->cdr.uniqueid[0] ||
		   !s->rtp[0].local.ss_family || !s->rtp[1].local.ss_family ||
		   !s->asrc.addr.ss_family || !s->b.dst.addr.ss_family))
		e = EBADMSG;
	if (e) {
		call_snap_clear(s);
		return e;
	}
	s->asrc.fd = s->b.dst.fd = -1;
	s->asrc.alen = sa_len(&s->asrc.addr);
	s->b.dst.alen = sa_len(&s->b.dst.addr);
	return 0;
}

void call_snap_clear(struct call_snap *s)
{
	sip_dialog_free(s->adlg);
	sip_dialog_free(s->b.dlg);
	free(s->b.from_hdr);
	free(s->b.ruri);
	memset(s, 0, sizeof(*s));
}

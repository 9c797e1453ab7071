/**
 * @file test_sdp.c  SDP parsing (real phones' offers in tests/data/sdp,
 * RFC 4317 examples, malformed bodies), encoding, offer/answer for a
 * relayed call, allow=/disallow= lists and G.711.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/codec.h"
#include "media/g711.h"
#include "media/sdp.h"
#include "media/sdp_neg.h"
#include "suites.h"

static char fbuf[2][8192];

/* Load tests/data/sdp/name into slot with CRLF line ends (crlf) or LF. */
static const char *fixture(int slot, const char *name, bool crlf, size_t *lenp)
{
	char path[512], raw[4096];
	FILE *f;
	size_t n, o = 0;

	snprintf(path, sizeof(path), "%s/tests/data/sdp/%s", TANDEM_SOURCE_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(raw, 1, sizeof(raw) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\n' && crlf)
			fbuf[slot][o++] = '\r';
		fbuf[slot][o++] = raw[i];
	}
	fbuf[slot][o] = '\0';
	*lenp = o;
	return fbuf[slot];
}

static void load(struct sdp_session *s, int slot, const char *name)
{
	size_t len;
	const char *b = fixture(slot, name, true, &len);

	assert_int_equal(sdp_decode(s, b, len), 0);
}

static int dec_str(struct sdp_session *s, const char *text)
{
	return sdp_decode(s, text, strlen(text));
}

/* ---- parsing ---- */

static void t_all_fixtures(void **state)
{
	static const char *names[] = {
		"baresip_offer.sdp", "linphone_offer.sdp", "zoiper_offer.sdp",
		"sipp_uac.sdp", "rfc4317_2_1_offer.sdp", "rfc4317_2_1_answer.sdp",
		"rfc4317_2_2_answer.sdp", "rfc4317_hold.sdp", "rfc4317_dtmf_offer.sdp",
		"ipv6_old_hold.sdp",
	};
	struct sdp_session s;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len;
		const char *b = fixture(0, names[i], true, &len);
		assert_int_equal(sdp_decode(&s, b, len), 0);
		b = fixture(0, names[i], false, &len);       /* LF only */
		assert_int_equal(sdp_decode(&s, b, len), 0);
		assert_true(s.nmedia >= 1);
	}
}

static void t_baresip(void **state)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sockaddr_storage rtp, rtcp;
	char buf[64];

	(void)state;
	load(&s, 0, "baresip_offer.sdp");
	assert_true(s.sess_id == 1284427932ULL && s.sess_ver == 3619624588ULL);
	assert_int_equal(pl_strcmp(&s.o_user, "-"), 0);
	m = sdp_audio(&s);
	assert_non_null(m);
	assert_int_equal(m->port, 10000);
	assert_int_equal(m->nfmt, 5);
	assert_int_equal(m->fmt[0].codec, CODEC_OPUS);
	assert_int_equal(m->fmt[0].rate, 48000);
	assert_int_equal(pl_strcmp(&m->fmt[0].params, "2"), 0);
	assert_int_equal(pl_strcmp(&m->fmt[0].fmtp, "stereo=1;sprop-stereo=1"), 0);
	assert_int_equal(m->fmt[1].codec, CODEC_G722);
	assert_int_equal(m->fmt[2].codec, CODEC_PCMU);
	assert_int_equal(m->fmt[3].codec, CODEC_PCMA);
	assert_int_equal(m->fmt[4].codec, CODEC_TELEVENT);
	assert_int_equal(m->fmt[4].pt, 101);
	assert_int_equal(pl_strcmp(&m->fmt[4].fmtp, "0-15"), 0);
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->dir, SDP_SENDRECV);
	assert_int_equal(sdp_media_addr(&s, m, &rtp, &rtcp), 0);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&rtp)->sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.10");
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtp)->sin_port), 10000);
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtcp)->sin_port), 10001);
}

static void t_linphone(void **state)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sdp_neg n;
	struct codec_prefs p;

	(void)state;
	load(&s, 0, "linphone_offer.sdp");
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(pl_strcmp(&s.name, "Talk"), 0);
	m = &s.media[0];
	assert_int_equal(m->nfmt, 9);
	assert_int_equal(m->fmt[1].codec, CODEC_NONE);   /* speex/16000 */
	assert_int_equal(m->fmt[2].codec, CODEC_SPEEX);  /* speex/8000 */
	assert_int_equal(m->fmt[5].codec, CODEC_G729);   /* static, fmtp only */
	assert_int_equal(pl_strcmp(&m->fmt[5].fmtp, "annexb=yes"), 0);
	assert_int_equal(m->fmt[6].codec, CODEC_NONE);   /* telephone-event/48000 */
	assert_int_equal(m->fmt[8].codec, CODEC_TELEVENT);
	assert_int_equal(pl_strcmp(&s.media[1].type, "video"), 0);
	assert_int_equal(s.media[1].port, 9078);
	/* the 8 kHz telephone-event is the one answered */
	assert_int_equal(codec_prefs_parse(&p, "disallow=all;allow=alaw,ulaw"), 0);
	assert_int_equal(sdp_neg_answer(&n, &s, m, &p, CODEC_NONE), 0);
	assert_int_equal(n.npts, 3);
	assert_int_equal(n.pts[0].codec, CODEC_PCMU);    /* offer order */
	assert_int_equal(n.pts[1].codec, CODEC_PCMA);
	assert_int_equal(n.te_pt, 100);
}

static void t_zoiper_sipp(void **state)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sockaddr_storage rtp, rtcp;

	(void)state;
	load(&s, 0, "zoiper_offer.sdp");
	assert_true(s.sess_id == 1608131925367ULL);
	m = sdp_audio(&s);
	assert_int_equal(m->rtcp_port, 8001);
	assert_int_equal(pl_strcmp(&m->rtcp_c.addr, "10.0.0.5"), 0);
	assert_int_equal(sdp_media_addr(&s, m, &rtp, &rtcp), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtcp)->sin_port), 8001);
	assert_int_equal(m->fmt[2].codec, CODEC_NONE);
	assert_int_equal(m->fmt[3].codec, CODEC_TELEVENT);
	assert_int_equal(m->fmt[6].codec, CODEC_GSM);

	load(&s, 0, "sipp_uac.sdp");
	m = sdp_audio(&s);
	assert_int_equal(m->nfmt, 1);
	assert_int_equal(m->fmt[0].codec, CODEC_PCMU);
	assert_int_equal(sdp_media_addr(&s, m, &rtp, NULL), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtp)->sin_port), 6000);
}

/* An offer of a=rtcp-mux is declined by leaving it out of our answer
 * (RFC 5761 5.1.1), so the peer's RTCP is still expected on port + 1. */
static void t_rtcp_mux_declined(void **state)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sockaddr_storage rtp, rtcp;

	(void)state;
	load(&s, 0, "rtcp_mux_offer.sdp");
	m = sdp_audio(&s);
	assert_true(m->rtcp_mux);
	assert_int_equal(sdp_media_addr(&s, m, &rtp, &rtcp), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtp)->sin_port), 40000);
	assert_int_equal(ntohs(((struct sockaddr_in *)&rtcp)->sin_port), 40001);
}

static void t_rfc4317(void **state)
{
	struct sdp_session s;
	struct sockaddr_storage rtp;

	(void)state;
	load(&s, 0, "rfc4317_2_1_offer.sdp");
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(s.name.l, 0);
	assert_int_equal(s.media[0].fmt[2].codec, CODEC_ILBC);
	assert_int_equal(pl_strcmp(&s.media[1].fmt[1].name, "MPV"), 0);
	/* a host name in c= is legal SDP but not an address we can use */
	assert_int_equal(sdp_media_addr(&s, &s.media[0], &rtp, NULL), EADDRNOTAVAIL);

	load(&s, 0, "rfc4317_2_2_answer.sdp");
	assert_int_equal(s.media[1].port, 0);
	assert_int_equal(sdp_media_addr(&s, &s.media[1], &rtp, NULL), EINVAL);

	load(&s, 0, "rfc4317_hold.sdp");
	assert_int_equal(s.media[0].dir, SDP_SENDONLY);
	assert_int_equal(sdp_media_dir(&s, &s.media[0]), SDP_SENDONLY);
	assert_int_equal(s.sess_ver, 2890844527ULL);
}

static void t_ipv6_and_old_hold(void **state)
{
	struct sdp_session s;
	struct sockaddr_storage rtp, rtcp;

	(void)state;
	load(&s, 0, "ipv6_old_hold.sdp");
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(sdp_media_addr(&s, &s.media[0], &rtp, &rtcp), 0);
	assert_int_equal(rtp.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&rtcp)->sin6_port), 30001);
	/* c=0.0.0.0: RFC 2543 hold, read as sendonly */
	assert_int_equal(s.media[1].dir, SDP_SENDRECV);
	assert_int_equal(sdp_media_dir(&s, &s.media[1]), SDP_SENDONLY);
	assert_int_equal(sdp_media_dir(&s, &s.media[0]), SDP_SENDRECV);
}

static void t_session_dir_and_lenient(void **state)
{
	struct sdp_session s;

	(void)state;
	/* session-level direction, overridden per media; unknown letters,
	 * attributes and a blank trailing line are fine */
	assert_int_equal(dec_str(&s, "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"
		"c=IN IP4 1.2.3.4/127\r\nt=0 0\r\na=inactive\r\ny=0123456789\r\n"
		"a=x-unknown:whatever\r\nm=audio 4000 RTP/AVP 8\r\n"
		"m=audio 4002 RTP/AVP 0\r\na=recvonly\r\n"
		"m=application 5000 TCP/MRCPv2 1\r\n\r\n"), 0);
	assert_int_equal(s.media[0].dir, SDP_INACTIVE);
	assert_int_equal(s.media[1].dir, SDP_RECVONLY);
	assert_int_equal(pl_strcmp(&s.c.addr, "1.2.3.4"), 0);
	assert_false(s.media[2].rtp);
	assert_int_equal(s.media[2].fmt[0].pt, -1);
	assert_int_equal(pl_strcmp(&s.media[2].fmt[0].id, "1"), 0);
	/* no trailing newline, no s=/t= */
	assert_int_equal(dec_str(&s, "v=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\n"
		"m=audio 4000 RTP/AVP 0"), 0);
	assert_int_equal(s.media[0].nfmt, 1);
}

static void t_malformed(void **state)
{
#define H "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"
	static const char *bad[] = {
		"",
		"garbage",
		"\r\n\r\n",
		"o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n",                   /* v= not first */
		"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
		"v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n",                  /* no o= */
		"v=0\r\no=- 1 1 IN IP4\r\n",                           /* 5 fields */
		"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n",                   /* id */
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4 extra\r\n",
		H "o=- 1 1 IN IP4 1.2.3.4\r\n",                        /* two o= */
		H "v=0\r\n",
		H "V=0\r\n",                                           /* not a-z */
		H " c=IN IP4 1.2.3.4\r\n",
		H "c IN IP4 1.2.3.4\r\n",
		H "x\r\n",
		H "i=one\rm=audio 1 RTP/AVP 0\r\n",                    /* bare CR */
		H "c=IN IP4\r\n",
		H "c=XX IP4 1.2.3.4\r\n",
		H "c=IN IP4 1.2.3.4 5\r\n",
		H "c=IN IP4 /127\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP\r\n",       /* no fmt */
		H "c=IN IP4 1.2.3.4\r\nm=audio port RTP/AVP 0\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000/x RTP/AVP 0\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 128\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP PCMU\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=video 4000 X/Y \t\t 8\r\n",  /* control chars */
		H "m=audio 4000 RTP/AVP 0\r\n",                          /* no c= */
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 /8000\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:port\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=\r\n",
		H "c=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=:x\r\n",
		H "c=IN IP4 1.2.3.4\r\n" "m=audio 1 RTP/AVP 0\r\nm=audio 1 RTP/AVP 0\r\n"
		  "m=audio 1 RTP/AVP 0\r\nm=audio 1 RTP/AVP 0\r\nm=audio 1 RTP/AVP 0\r\n"
		  "m=audio 1 RTP/AVP 0\r\nm=audio 1 RTP/AVP 0\r\nm=audio 1 RTP/AVP 0\r\n"
		  "m=audio 1 RTP/AVP 0\r\n",                            /* 9 m= */
	};
	struct sdp_session s;
	static const char nul[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=\0\r\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = dec_str(&s, bad[i]);
		if (err != EBADMSG)
			fail_msg("case %zu accepted: %s", i, bad[i]);
	}
	assert_int_equal(sdp_decode(&s, nul, sizeof(nul) - 1), EBADMSG);
	assert_int_equal(sdp_decode(&s, NULL, 0), EBADMSG);
#undef H
}

/* ---- encoding ---- */

static void local_init(struct sdp_local *l, const char *ip)
{
	memset(l, 0, sizeof(*l));
	l->user = "tandem";
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &in->sin_addr);
	}
}

static void t_encode_roundtrip(void **state)
{
	struct sdp_local l;
	struct sdp_origin o = { 0, 0, 0 };
	struct sdp_session s;
	char buf[1024];
	size_t len;
	uint64_t v1;
	struct sdp_pt pts[] = { { 8, CODEC_PCMA }, { 0, CODEC_PCMU },
				{ 107, CODEC_OPUS }, { 101, CODEC_TELEVENT } };

	(void)state;
	local_init(&l, "192.0.2.7");
	l.nmedia = 2;
	l.media[0].port = 5004;
	memcpy(l.media[0].pts, pts, sizeof(pts));
	l.media[0].npts = 4;
	l.media[0].ptime = 20;
	l.media[0].dir = SDP_SENDONLY;
	l.media[1].type = PL("video");
	l.media[1].rejfmt = PL("31");
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), 0);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "c=IN IP4 192.0.2.7\r\n"));
	assert_non_null(strstr(buf, "m=audio 5004 RTP/AVP 8 0 107 101\r\n"));
	assert_non_null(strstr(buf, "a=rtpmap:107 opus/48000/2\r\n"));
	assert_non_null(strstr(buf, "a=fmtp:101 0-16\r\n"));
	assert_non_null(strstr(buf, "m=video 0 RTP/AVP 31\r\n"));
	assert_int_equal(sdp_decode(&s, buf, len), 0);
	assert_int_equal(s.nmedia, 2);
	assert_true(s.sess_id == o.id && s.sess_ver == 1);
	assert_int_equal(s.media[0].port, 5004);
	assert_int_equal(s.media[0].nfmt, 4);
	assert_int_equal(s.media[0].fmt[0].codec, CODEC_PCMA);
	assert_int_equal(s.media[0].fmt[2].codec, CODEC_OPUS);
	assert_int_equal(s.media[0].fmt[3].codec, CODEC_TELEVENT);
	assert_int_equal(s.media[0].dir, SDP_SENDONLY);
	assert_int_equal(s.media[0].ptime, 20);
	assert_int_equal(s.media[1].port, 0);
	v1 = o.ver;
	/* same body again: same version (RFC 3264 8); a change bumps it */
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), 0);
	assert_true(o.ver == v1);
	l.media[0].dir = SDP_SENDRECV;
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), 0);
	assert_true(o.ver == v1 + 1);
	assert_int_equal(sdp_decode(&s, buf, len), 0);
	assert_true(s.sess_ver == v1 + 1);
	/* too small a buffer, at every size */
	for (size_t sz = 1; sz <= len; sz++)
		assert_int_equal(sdp_encode(buf, sz, NULL, &o, &l), ENOSPC);
	/* IPv6 */
	local_init(&l, "2001:db8::7");
	l.nmedia = 1;
	l.media[0].port = 5006;
	memcpy(l.media[0].pts, pts, sizeof(pts[0]));
	l.media[0].npts = 1;
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), 0);
	assert_non_null(strstr(buf, "c=IN IP6 2001:db8::7\r\n"));
	assert_non_null(strstr(buf, " IN IP6 2001:db8::7\r\ns="));
	assert_int_equal(sdp_decode(&s, buf, len), 0);
	l.addr.ss_family = AF_UNIX;
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), EINVAL);
}

/* ---- offer/answer ---- */

static void t_neg_transcode(void **state)
{
	struct sdp_session sa, sb;
	struct codec_prefs pa, pb;
	struct sdp_neg a, ob, b;
	char ans[256];

	(void)state;
	/* A is alaw-only, B is ulaw-only: the relay must translate */
	assert_int_equal(dec_str(&sa, "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
		"c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"), 0);
	assert_int_equal(codec_prefs_parse(&pa, "disallow=all\nallow=alaw"), 0);
	assert_int_equal(codec_prefs_parse(&pb, "disallow=all\nallow=ulaw"), 0);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &pa, CODEC_NONE), 0);
	assert_int_equal(sdp_neg_offer(&ob, &a, &pb), 0);
	assert_int_equal(ob.npts, 2);
	assert_int_equal(ob.pts[0].codec, CODEC_PCMU);
	assert_int_equal(ob.pts[0].pt, 0);
	assert_int_equal(ob.te_pt, 101);
	snprintf(ans, sizeof(ans), "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		 "c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\n");
	assert_int_equal(dec_str(&sb, ans), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), 0);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &pa, b.pts[0].codec), 0);
	assert_int_equal(a.pts[0].codec, CODEC_PCMA);
	assert_true(sdp_neg_transcode(&a, &b));
	/* B has nothing A-ish and we may not translate: nothing to offer */
	assert_int_equal(codec_prefs_parse(&pb, "disallow=all;allow=gsm"), 0);
	assert_int_equal(sdp_neg_offer(&ob, &a, &pb), ENOENT);
	/* an answer that picks nothing we offered */
	assert_int_equal(codec_prefs_parse(&pb, "disallow=all;allow=ulaw"), 0);
	assert_int_equal(sdp_neg_offer(&ob, &a, &pb), 0);
	assert_int_equal(dec_str(&sb, "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		"c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 3\r\n"), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), ENOENT);
	/* rejected stream */
	assert_int_equal(dec_str(&sb, "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		"t=0 0\r\nm=audio 0 RTP/AVP 0\r\n"), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), ENOENT);
	/* A offers only what A's peer may not use: 488 */
	assert_int_equal(codec_prefs_parse(&pa, "disallow=all;allow=g729"), 0);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &pa, CODEC_NONE), ENOENT);
}

static void t_neg_common(void **state)
{
	struct sdp_session sa, sb;
	struct codec_prefs pa, pb;
	struct sdp_neg a, ob, b;

	(void)state;
	load(&sa, 0, "baresip_offer.sdp");   /* opus G722 PCMU PCMA te */
	assert_int_equal(codec_prefs_parse(&pa, "disallow=all;allow=alaw,ulaw,g722"), 0);
	assert_int_equal(codec_prefs_parse(&pb, "disallow=all;allow=ulaw;allow=alaw"), 0);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &pa, CODEC_NONE), 0);
	assert_int_equal(a.npts, 4);
	assert_int_equal(a.pts[0].codec, CODEC_G722);   /* offer order, opus not allowed */
	assert_int_equal(sdp_neg_offer(&ob, &a, &pb), 0);
	assert_int_equal(ob.npts, 3);                    /* PCMU PCMA te; no G722 */
	assert_int_equal(ob.pts[0].codec, CODEC_PCMU);
	assert_int_equal(ob.pts[1].codec, CODEC_PCMA);
	/* B (SIPp) answers PCMA: A's final answer puts PCMA first */
	assert_int_equal(dec_str(&sb, "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		"c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n"), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), 0);
	assert_int_equal(b.npts, 1);
	assert_int_equal(b.te_pt, -1);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &pa, b.pts[0].codec), 0);
	assert_int_equal(a.pts[0].codec, CODEC_PCMA);
	assert_int_equal(a.pts[1].codec, CODEC_G722);
	assert_int_equal(a.pts[3].codec, CODEC_TELEVENT);
	assert_false(sdp_neg_transcode(&a, &b));
	/* late offer (INVITE without SDP): our prefs in order, te 101 */
	assert_int_equal(sdp_neg_offer(&ob, NULL, &pb), 0);
	assert_int_equal(ob.npts, 3);
	assert_int_equal(ob.pts[0].codec, CODEC_PCMU);
	assert_int_equal(ob.te_pt, 101);
}

static void t_neg_te_pt(void **state)
{
	struct sdp_session sa, sb;
	struct codec_prefs p;
	struct sdp_neg a, ob, b;

	(void)state;
	codec_prefs_default(&p);
	/* A's telephone-event is 96; B answers ours with 101 */
	assert_int_equal(dec_str(&sa, "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
		"c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 96\r\n"
		"a=rtpmap:96 telephone-event/8000\r\n"), 0);
	assert_int_equal(sdp_neg_answer(&a, &sa, sdp_audio(&sa), &p, CODEC_NONE), 0);
	assert_int_equal(a.te_pt, 96);                  /* the offerer's PT */
	assert_int_equal(sdp_neg_offer(&ob, &a, &p), 0);
	assert_int_equal(ob.te_pt, 96);                 /* relayed unchanged */
	assert_int_equal(dec_str(&sb, "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		"c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 101 0\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), 0);
	assert_int_equal(b.te_pt, 101);                 /* B's numbers on leg B */
	assert_int_equal(b.pts[0].codec, CODEC_PCMU);
	assert_int_equal(b.pts[1].codec, CODEC_TELEVENT);
	/* an answer without rtpmap for a dynamic PT means what we offered */
	assert_int_equal(dec_str(&sb, "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\n"
		"c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 96\r\n"), 0);
	assert_int_equal(sdp_neg_result(&b, &ob, &sb, sdp_audio(&sb)), 0);
	assert_int_equal(b.te_pt, 96);
}

static void t_neg_dir_and_answer_local(void **state)
{
	struct sdp_session sa;
	struct codec_prefs p;
	struct sdp_neg a, b;
	struct sdp_local l;
	struct sdp_lmedia lm;
	struct sdp_origin o = { 0, 0, 0 };
	struct sdp_session out;
	char buf[1024];
	size_t len;

	(void)state;
	codec_prefs_default(&p);
	load(&sa, 0, "rfc4317_2_1_offer.sdp");
	assert_int_equal(sdp_neg_answer(&a, &sa, &sa.media[0], &p, CODEC_NONE), 0);
	assert_int_equal(a.npts, 2);                     /* PCMU PCMA, no iLBC */
	assert_int_equal(a.dir, SDP_SENDRECV);
	local_init(&l, "192.0.2.1");
	sdp_neg_lmedia(&lm, &a, 30000, sdp_neg_dir(&a, SDP_SENDRECV));
	sdp_neg_answer_local(&l, &sa, &sa.media[0], &lm);
	assert_int_equal(l.nmedia, 2);
	assert_int_equal(sdp_encode(buf, sizeof(buf), &len, &o, &l), 0);
	assert_non_null(strstr(buf, "m=audio 30000 RTP/AVP 0 8\r\n"));
	assert_non_null(strstr(buf, "m=video 0 RTP/AVP 31\r\n"));
	assert_int_equal(sdp_decode(&out, buf, len), 0);
	assert_int_equal(out.nmedia, 2);

	/* hold: A sendonly -> we tell B sendonly; B recvonly -> A gets recvonly */
	load(&sa, 0, "rfc4317_hold.sdp");
	assert_int_equal(sdp_neg_answer(&a, &sa, &sa.media[0], &p, CODEC_NONE), 0);
	assert_int_equal(a.dir, SDP_SENDONLY);
	memset(&b, 0, sizeof(b));
	b.dir = SDP_SENDRECV;
	assert_int_equal(sdp_neg_dir(&b, a.dir), SDP_SENDONLY);
	b.dir = SDP_RECVONLY;
	assert_int_equal(sdp_neg_dir(&a, b.dir), SDP_RECVONLY);
	b.dir = SDP_INACTIVE;
	assert_int_equal(sdp_neg_dir(&a, b.dir), SDP_INACTIVE);
	assert_int_equal(sdp_dir_and(SDP_SENDONLY, SDP_RECVONLY), SDP_INACTIVE);
	assert_string_equal(sdp_dir_name(SDP_RECVONLY), "recvonly");
}

/* ---- codecs ---- */

static void t_codec_prefs(void **state)
{
	struct codec_prefs p;

	(void)state;
	codec_prefs_default(&p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.list[0], CODEC_PCMU);
	/* chan_sip: allow order is preference after disallow=all */
	assert_int_equal(codec_prefs_parse(&p, "disallow=all;allow=alaw;allow=ulaw"), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.list[0], CODEC_PCMA);
	assert_int_equal(p.list[1], CODEC_PCMU);
	/* without disallow=all an allowed default keeps its place */
	assert_int_equal(codec_prefs_parse(&p, "allow=alaw"), 0);
	assert_int_equal(p.list[0], CODEC_PCMU);
	assert_int_equal(p.list[1], CODEC_PCMA);
	assert_int_equal(codec_prefs_parse(&p, "disallow=ulaw , gsm\nallow=g729:20&g722|alaw"), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.list[0], CODEC_PCMA);
	assert_int_equal(p.list[1], CODEC_G729);
	assert_int_equal(p.list[2], CODEC_G722);
	assert_int_equal(codec_prefs_parse(&p, "disallow=all;allow=all"), 0);
	assert_true(codec_prefs_has(&p, CODEC_OPUS));
	assert_false(codec_prefs_has(&p, CODEC_TELEVENT));
	assert_int_equal(codec_prefs_parse(&p, "disallow=all;allow=nosuch,ulaw"), EINVAL);
	assert_int_equal(p.n, 1);                        /* the rest still applied */
	assert_int_equal(codec_prefs_parse(&p, "allowx=ulaw"), EINVAL);
	assert_int_equal(codec_prefs_parse(&p, "justtext"), EINVAL);
	assert_int_equal(codec_prefs_index(&p, CODEC_PCMU), 0);
	assert_string_equal(codec_name(CODEC_PCMA), "PCMA");
	assert_string_equal(codec_name(CODEC_NONE), "?");
}

static void t_g711(void **state)
{
	uint8_t buf[4] = { 0xD5, 0x55, 0x2A, 0xAA };
	int transparent = 0;

	(void)state;
	g711_tables_init();
	/* reference points of G.711 */
	assert_int_equal(g711_ulaw_decode(0xFF), 0);
	assert_int_equal(g711_ulaw_decode(0x80), 32124);
	assert_int_equal(g711_ulaw_decode(0x00), -32124);
	assert_int_equal(g711_alaw_decode(0xD5), 8);
	assert_int_equal(g711_alaw_decode(0x55), -8);
	assert_int_equal(g711_alaw_decode(0xAA), 32256);
	assert_int_equal(g711_ulaw_encode(0), 0xFF);
	assert_int_equal(g711_alaw_encode(0), 0xD5);
	assert_int_equal(g711_ulaw_encode(32767), 0x80);
	assert_int_equal(g711_ulaw_encode(-32768), 0x00);
	assert_int_equal(g711_alaw_encode(-32768), 0x2A);
	/* decode then encode is the identity for every code (but mu-law's
	 * "negative zero" 0x7F, which encodes back as 0xFF) */
	for (int i = 0; i < 256; i++) {
		assert_int_equal(g711_alaw_encode(g711_alaw_decode((uint8_t)i)), i);
		if (i != 0x7F)
			assert_int_equal(g711_ulaw_encode(g711_ulaw_decode((uint8_t)i)), i);
	}
	assert_int_equal(g711_ulaw_encode(g711_ulaw_decode(0x7F)), 0xFF);
	g711_alaw_to_ulaw(buf, 4);
	assert_int_equal(buf[0], 0xFE);                  /* +8 -> mu-law +8 */
	assert_int_equal(buf[3], 0x80);                  /* +32256 -> clip */
	g711_ulaw_to_alaw(buf, 4);
	assert_int_equal(buf[0], 0xD5);
	assert_int_equal(buf[3], 0xAA);
	/* A -> mu -> A returns the code for all but the 16 smallest levels
	 * (mu-law has finer steps near zero; spandsp's G.711 tables agree) */
	for (int i = 0; i < 256; i++) {
		uint8_t x = (uint8_t)i;
		g711_alaw_to_ulaw(&x, 1);
		g711_ulaw_to_alaw(&x, 1);
		transparent += x == i;
	}
	assert_int_equal(transparent, 240);
}

int test_sdp_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_all_fixtures),
		cmocka_unit_test(t_baresip),
		cmocka_unit_test(t_linphone),
		cmocka_unit_test(t_zoiper_sipp),
		cmocka_unit_test(t_rtcp_mux_declined),
		cmocka_unit_test(t_rfc4317),
		cmocka_unit_test(t_ipv6_and_old_hold),
		cmocka_unit_test(t_session_dir_and_lenient),
		cmocka_unit_test(t_malformed),
		cmocka_unit_test(t_encode_roundtrip),
		cmocka_unit_test(t_neg_transcode),
		cmocka_unit_test(t_neg_common),
		cmocka_unit_test(t_neg_te_pt),
		cmocka_unit_test(t_neg_dir_and_answer_local),
		cmocka_unit_test(t_codec_prefs),
		cmocka_unit_test(t_g711),
	};

	return cmocka_run_group_tests_name("sdp", tests, NULL, NULL);
}

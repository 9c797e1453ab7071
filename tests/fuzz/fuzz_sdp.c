/**
 * @file fuzz_sdp.c  libFuzzer harness for the SDP code that reads network
 * input: sdp_decode(), the address and direction queries, offer/answer
 * against the parsed body (as an offer and as an answer), and encoding the
 * answer we would send back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "media/sdp.h"
#include "media/sdp_neg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sdp_pt ours[] = { { 8, CODEC_PCMA }, { 0, CODEC_PCMU },
					      { 101, CODEC_TELEVENT } };
	struct sdp_session s;
	struct codec_prefs p;
	struct sdp_neg ans, off, res;
	struct sdp_local l;
	struct sdp_lmedia lm;
	struct sdp_origin o = { 1, 1, 0 };
	struct sockaddr_storage rtp, rtcp;
	char out[4096];
	size_t len;

	if (sdp_decode(&s, (const char *)data, size))
		return 0;
	for (size_t i = 0; i < s.nmedia; i++) {
		sdp_media_addr(&s, &s.media[i], &rtp, &rtcp);
		sdp_media_dir(&s, &s.media[i]);
	}
	codec_prefs_default(&p);
	/* as an offer: answer it and build the offer for the other leg */
	if (sdp_neg_answer(&ans, &s, sdp_audio(&s), &p, CODEC_PCMA) == 0) {
		sdp_neg_offer(&off, &ans, &p);
		memset(&l, 0, sizeof(l));
		((struct sockaddr_in *)&l.addr)->sin_family = AF_INET;
		sdp_neg_lmedia(&lm, &ans, 10000, sdp_neg_dir(&ans, SDP_SENDRECV));
		sdp_neg_answer_local(&l, &s, sdp_audio(&s), &lm);
		if (sdp_encode(out, sizeof(out), &len, &o, &l) == 0 &&
		    sdp_decode(&s, out, len) != 0)
			abort();        /* we must parse what we write */
		return 0;
	}
	/* as the answer to our offer */
	memset(&off, 0, sizeof(off));
	memcpy(off.pts, ours, sizeof(ours));
	off.npts = 3;
	off.te_pt = 101;
	sdp_neg_result(&res, &off, &s, sdp_audio(&s));
	return 0;
}

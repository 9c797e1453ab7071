/**
 * @file fuzz_tftp.c  libFuzzer harness for the TFTP codec, which reads
 * every packet the provisioning server receives: requests with options,
 * ACK and ERROR; a parsed request's OACK must parse back to the same
 * options, and netascii output is bounded by twice the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/tftp_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_req r, back;
	const char *why = NULL;
	uint8_t o[1024], rq[1100], *na;
	char msg[64];
	uint16_t blk, code;
	size_t n;

	tftp_ack_parse(data, size, &blk);
	tftp_error_parse(data, size, &code, msg, sizeof(msg));
	if (size <= 4096 && (na = malloc(2 * size + 1))) {
		if (tftp_netascii_encode(na, data, size) > 2 * size)
			abort();
		free(na);
	}
	if (tftp_req_parse(&r, data, size, &why)) {
		if (!why)
			abort();   /* every refusal says why */
		n = tftp_error_build(o, sizeof(o), TFTP_EBADOP, why);
		if (!n)
			abort();
		return 0;
	}
	if (strlen(r.file) == 0 || strlen(r.file) > TFTP_FILENAME_MAX)
		abort();
	/* the OACK we would send, as the options of a request, parses back */
	n = tftp_oack_build(o, sizeof(o), &r);
	if (!n)
		abort();
	memcpy(rq, "\0\1f\0octet\0", 10);
	memcpy(rq + 10, o + 2, n - 2);
	if (tftp_req_parse(&back, rq, 10 + n - 2, &why) ||
	    back.opt_blksize != r.opt_blksize || back.blksize != r.blksize ||
	    back.opt_tsize != r.opt_tsize || back.tsize != r.tsize ||
	    back.opt_timeout != r.opt_timeout || back.timeout != r.timeout ||
	    back.opt_windowsize != r.opt_windowsize || back.windowsize != r.windowsize)
		abort();
	return 0;
}

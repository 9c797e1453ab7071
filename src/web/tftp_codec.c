/**
 * @file tftp_codec.c  TFTP packets, parsed and built without I/O.
 *
 * RRQ/WRQ (RFC 1350 5):  | 01/02 | filename | 0 | mode | 0 | opt | 0 | value | 0 | ...
 * DATA:  | 03 | block | data (0..blksize) |      ACK: | 04 | block |
 * ERROR: | 05 | code | message | 0 |            OACK: | 06 | opt | 0 | value | 0 | ...
 * Options (RFC 2347) follow the mode as NUL-terminated name/value pairs,
 * names case-insensitive; the server answers with OACK naming only the
 * options it accepts, and ignores the ones it does not know.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/tftp_codec.h"

const char *tftp_op_name(unsigned op)
{
	static const char *const n[] = { "?", "RRQ", "WRQ", "DATA", "ACK", "ERROR", "OACK" };

	return op < sizeof(n) / sizeof(*n) ? n[op] : "?";
}

unsigned tftp_opcode(const uint8_t *buf, size_t len)
{
	return len < 2 ? 0 : (unsigned)(buf[0] << 8 | buf[1]);
}

/* The NUL-terminated string at *pos (bounded by len); advances *pos past
 * its NUL. NULL when unterminated. */
static const char *next_str(const uint8_t *buf, size_t len, size_t *pos)
{
	const uint8_t *nul;
	const char *s;

	if (*pos >= len)
		return NULL;
	nul = memchr(buf + *pos, 0, len - *pos);
	if (!nul)
		return NULL;
	s = (const char *)buf + *pos;
	*pos = (size_t)(nul - buf) + 1;
	return s;
}

/* Decimal value in [lo, hi], digits only. */
static bool num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t x = 0;

	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

static int opt_parse(struct tftp_req *req, const char *name, const char *val,
		     const char **why)
{
	uint64_t x;

	if (!strcasecmp(name, "blksize")) {
		if (!num(val, TFTP_BLKSIZE_MIN, UINT32_MAX, &x)) {
			*why = "blksize is not a number of at least 8";
			return EINVAL;
		}
		req->opt_blksize = true;
		req->blksize = x > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX : (uint32_t)x;
	} else if (!strcasecmp(name, "timeout")) {
		if (!num(val, 1, 255, &x)) {
			*why = "timeout is not a number of seconds from 1 to 255";
			return EINVAL;
		}
		req->opt_timeout = true;
		req->timeout = (uint32_t)x;
	} else if (!strcasecmp(name, "tsize")) {
		if (!num(val, 0, UINT64_MAX - 1, &x)) {
			*why = "tsize is not a number";
			return EINVAL;
		}
		req->opt_tsize = true;
		req->tsize = x;
	} else if (!strcasecmp(name, "windowsize")) {
		if (!num(val, 1, 65535, &x)) {
			*why = "windowsize is not a number from 1 to 65535";
			return EINVAL;
		}
		req->opt_windowsize = true;
		req->windowsize = (uint32_t)x;
	}
	return 0;   /* unknown options are ignored (RFC 2347) */
}

int tftp_req_parse(struct tftp_req *req, const uint8_t *buf, size_t len,
		   const char **why)
{
	const char *file, *mode, *name, *val;
	size_t pos = 2;
	unsigned op = tftp_opcode(buf, len);

	memset(req, 0, sizeof(*req));
	req->blksize = TFTP_BLKSIZE_DEFAULT;
	if (op != TFTP_RRQ && op != TFTP_WRQ) {
		*why = "not a read or write request";
		return EINVAL;
	}
	req->op = (enum tftp_op)op;
	file = next_str(buf, len, &pos);
	mode = file ? next_str(buf, len, &pos) : NULL;
	if (!file || !mode) {
		*why = "file name or mode missing or not NUL-terminated";
		return EINVAL;
	}
	if (!*file) {
		*why = "empty file name";
		return EINVAL;
	}
	if (strlen(file) > TFTP_FILENAME_MAX) {
		*why = "file name longer than 255 bytes";
		return EINVAL;
	}
	for (const char *c = file; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			*why = "control character in the file name";
			return EINVAL;
		}
	memcpy(req->file, file, strlen(file) + 1);
	if (!strcasecmp(mode, "octet")) {
		req->mode = TFTP_MODE_OCTET;
	} else if (!strcasecmp(mode, "netascii")) {
		req->mode = TFTP_MODE_NETASCII;
	} else if (!strcasecmp(mode, "mail")) {
		*why = "mode mail is not served";
		return EINVAL;
	} else {
		*why = "unknown transfer mode (octet or netascii)";
		return EINVAL;
	}
	while (pos < len) {
		name = next_str(buf, len, &pos);
		val = name ? next_str(buf, len, &pos) : NULL;
		if (!name || !val) {
			*why = "option without a NUL-terminated value";
			return EINVAL;
		}
		if (opt_parse(req, name, val, why))
			return EINVAL;
	}
	return 0;
}

int tftp_ack_parse(const uint8_t *buf, size_t len, uint16_t *block)
{
	if (len < 4 || tftp_opcode(buf, len) != TFTP_ACK)
		return EINVAL;
	*block = (uint16_t)(buf[2] << 8 | buf[3]);
	return 0;
}

int tftp_error_parse(const uint8_t *buf, size_t len, uint16_t *code, char *msg,
		     size_t msgsize)
{
	size_t i, n = 0;

	if (len < 4 || tftp_opcode(buf, len) != TFTP_ERROR || !msgsize)
		return EINVAL;
	*code = (uint16_t)(buf[2] << 8 | buf[3]);
	for (i = 4; i < len && buf[i] && n + 1 < msgsize; i++)
		msg[n++] = (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '"') ? (char)buf[i] : '?';
	msg[n] = '\0';
	return 0;
}

size_t tftp_error_build(uint8_t *out, size_t cap, uint16_t code, const char *msg)
{
	size_t n = strlen(msg);

	if (cap < n + 5)
		return 0;
	out[0] = 0;
	out[1] = TFTP_ERROR;
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	memcpy(out + 4, msg, n + 1);
	return n + 5;
}

static bool put_opt(uint8_t *out, size_t cap, size_t *pos, const char *name,
		    unsigned long long v)
{
	char val[24];
	size_t nl = strlen(name), vl = (size_t)snprintf(val, sizeof(val), "%llu", v);

	if (*pos + nl + vl + 2 > cap)
		return false;
	memcpy(out + *pos, name, nl + 1);
	*pos += nl + 1;
	memcpy(out + *pos, val, vl + 1);
	*pos += vl + 1;
	return true;
}

size_t tftp_oack_build(uint8_t *out, size_t cap, const struct tftp_req *req)
{
	size_t pos = 2;

	if (cap < 2)
		return 0;
	out[0] = 0;
	out[1] = TFTP_OACK;
	if ((req->opt_blksize && !put_opt(out, cap, &pos, "blksize", req->blksize)) ||
	    (req->opt_timeout && !put_opt(out, cap, &pos, "timeout", req->timeout)) ||
	    (req->opt_tsize && !put_opt(out, cap, &pos, "tsize", req->tsize)) ||
	    (req->opt_windowsize && !put_opt(out, cap, &pos, "windowsize", req->windowsize)))
		return 0;
	return pos;
}

void tftp_data_hdr(uint8_t *out, uint16_t block)
{
	out[0] = 0;
	out[1] = TFTP_DATA;
	out[2] = (uint8_t)(block >> 8);
	out[3] = (uint8_t)block;
}

size_t tftp_netascii_encode(uint8_t *out, const uint8_t *in, size_t inlen)
{
	size_t i, n = 0;

	for (i = 0; i < inlen; i++) {
		if (in[i] == '\n') {
			out[n++] = '\r';
			out[n++] = '\n';
		} else if (in[i] == '\r') {
			out[n++] = '\r';
			out[n++] = '\0';
		} else {
			out[n++] = in[i];
		}
	}
	return n;
}

/**
 * @file tftp_codec.h  TFTP packets (RFC 1350) with options (RFC 2347
 * option extension, RFC 2348 blksize, RFC 2349 timeout and tsize, RFC 7440
 * windowsize): parsed and built without I/O, so they can be fuzzed.
 */
#ifndef TANDEM_WEB_TFTP_CODEC_H
#define TANDEM_WEB_TFTP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tftp_op {
	TFTP_RRQ = 1, TFTP_WRQ = 2, TFTP_DATA = 3, TFTP_ACK = 4, TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

enum tftp_err {
	TFTP_EUNDEF = 0, TFTP_ENOTFOUND = 1, TFTP_EACCESS = 2, TFTP_ENOSPACE = 3,
	TFTP_EBADOP = 4, TFTP_EBADID = 5, TFTP_EEXISTS = 6, TFTP_ENOUSER = 7,
	TFTP_EOPTNEG = 8,
};

enum tftp_mode { TFTP_MODE_OCTET, TFTP_MODE_NETASCII };

#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN     8       /* RFC 2348 */
#define TFTP_BLKSIZE_MAX     65464   /* RFC 2348 */
#define TFTP_FILENAME_MAX    255

/** A request as the client sent it; opt_* flags tell which options came. */
struct tftp_req {
	enum tftp_op op;                 /* TFTP_RRQ or TFTP_WRQ */
	char file[TFTP_FILENAME_MAX + 1];
	enum tftp_mode mode;
	bool opt_blksize, opt_timeout, opt_tsize, opt_windowsize;
	uint32_t blksize;                /* 8..65464 when opt_blksize */
	uint32_t timeout;                /* seconds, 1..255 when opt_timeout */
	uint64_t tsize;
	uint32_t windowsize;             /* 1..65535 when opt_windowsize */
};

/**
 * Parse an RRQ or WRQ. 0, or EINVAL with why (a static string) telling
 * what is wrong: short, unterminated, unknown mode, bad option value.
 * Unknown options are ignored (RFC 2347). A WRQ parses: refusing it is
 * the server's business.
 */
int tftp_req_parse(struct tftp_req *req, const uint8_t *buf, size_t len,
		   const char **why);

/** The opcode of a packet (0 when shorter than 2 bytes). */
unsigned tftp_opcode(const uint8_t *buf, size_t len);
/** ACK: 0 and the block number, or EINVAL. */
int tftp_ack_parse(const uint8_t *buf, size_t len, uint16_t *block);
/** ERROR from the client: 0, the code and a printable message copy. */
int tftp_error_parse(const uint8_t *buf, size_t len, uint16_t *code, char *msg,
		     size_t msgsize);

/** Build ERROR code msg into out; returns its length (0 when cap is too small). */
size_t tftp_error_build(uint8_t *out, size_t cap, uint16_t code, const char *msg);
/** Build OACK with the options acked in req (opt_* flags); length or 0. */
size_t tftp_oack_build(uint8_t *out, size_t cap, const struct tftp_req *req);
/** The 4-byte DATA header for block; the data follows at out + 4. */
void tftp_data_hdr(uint8_t *out, uint16_t block);

/**
 * netascii (RFC 764 as RFC 1350 uses it): LF becomes CR LF, CR becomes
 * CR NUL. Converts in into out (out must hold 2 * inlen); returns the
 * length written.
 */
size_t tftp_netascii_encode(uint8_t *out, const uint8_t *in, size_t inlen);

const char *tftp_op_name(unsigned op);

#endif

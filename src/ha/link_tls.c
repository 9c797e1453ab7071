/**
 * @file link_tls.c  TLS 1.3 with an external PSK for the replication link
 * (link.c has the protocol comment): the pair's key, the SSL_CTX, the
 * PSK callbacks, the handshake step and why a handshake failed.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "ha/link_int.h"

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		      SSL_SESSION **sessp);
static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen,
		       SSL_SESSION **sessp);

static SSL_SESSION *psk_session(SSL *ssl, const struct ha_link *l)
{
	static const unsigned char aes128gcmsha256[2] = { 0x13, 0x01 };
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcmsha256);
	SSL_SESSION *s;

	if (!cipher || !(s = SSL_SESSION_new()))
		return NULL;
	if (!SSL_SESSION_set1_master_key(s, l->psk, sizeof(l->psk)) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		      SSL_SESSION **sessp)
{
	struct conn *c = SSL_get_app_data(ssl);

	*sessp = NULL;
	if (md && md != EVP_sha256())
		return 1;     /* after a HelloRetryRequest for another hash: no PSK */
	if (!(*sessp = psk_session(ssl, c->l)))
		return 0;
	*id = (const unsigned char *)c->l->identity;
	*idlen = strlen(c->l->identity);
	return 1;
}

static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen,
		       SSL_SESSION **sessp)
{
	struct conn *c = SSL_get_app_data(ssl);
	size_t i;

	*sessp = NULL;
	c->psk_seen = true;
	for (i = 0; i < idlen && i + 1 < sizeof(c->ident); i++)
		c->ident[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? (char)id[i] : '?';
	c->ident[i] = '\0';
	if (idlen != strlen(c->l->identity) || memcmp(id, c->l->identity, idlen)) {
		c->psk_unknown = true;
		return 1;     /* no PSK: no certificate either, the handshake fails */
	}
	if (!(*sessp = psk_session(ssl, c->l)))
		return 0;
	return 1;
}

/* Why a handshake failed, and whether it is a refusal. A recorded
 * handshake sent again passes the binder check (same ClientHello, same
 * key) and fails at the client's Finished, sealed with keys of the old
 * session: the server's fresh random and key share make it useless. */
static void fail(struct conn *c, int e)
{
	unsigned long err = ERR_peek_error();
	int reason = ERR_GET_REASON(err);
	const char *rs = ERR_reason_error_string(err);

	if (reason == SSL_R_BINDER_DOES_NOT_VERIFY)
		ha_conn_fail(c, true, "wrong key");
	else if (c->outbound && (reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR ||
				 reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER))
		ha_conn_fail(c, true, "wrong key (%s refused ours)", c->l->peer);
	else if (!c->outbound && c->psk_unknown)
		ha_conn_fail(c, true, "unknown identity '%s'", c->ident);
	else if (!c->outbound && c->psk_seen && (reason == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC ||
						 reason == SSL_R_DIGEST_CHECK_FAILED))
		/* the binder verified (the ClientHello was made with our key) but
		 * the client has no keys for this session: bytes recorded from an
		 * earlier connection, sent again, or altered on the way */
		ha_conn_fail(c, true, "replayed or altered handshake (the key's binder "
			     "verified, its Finished is not for this session: %s)", rs ? rs : "?");
	else if (c->outbound && reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
		ha_conn_fail(c, true, "%s refused the handshake (other cluster or node name?)",
			     c->l->peer);
	else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
		 reason == SSL_R_HTTPS_PROXY_REQUEST || reason == SSL_R_UNKNOWN_PROTOCOL ||
		 reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
		 reason == SSL_R_RECORD_LENGTH_MISMATCH ||
		 reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_BAD_PACKET_LENGTH)
		ha_conn_fail(c, true, "not a TLS 1.3 peer (%s)", rs ? rs : "?");
	else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
		 (e == SSL_ERROR_SYSCALL && !errno) || e == SSL_ERROR_ZERO_RETURN)
		ha_conn_fail(c, false, "closed during the handshake");
	else if (e == SSL_ERROR_SYSCALL)
		ha_conn_fail(c, false, "handshake: %s", strerror(errno));
	else if (!c->outbound && !c->psk_seen)
		ha_conn_fail(c, true, "no key offered (%s)", rs ? rs : "?");
	else
		ha_conn_fail(c, true, "TLS handshake: %s", rs ? rs : "?");
}

void ha_tls_step(struct conn *c)
{
	int r;

	ERR_clear_error();
	errno = 0;
	c->want_write = false;
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		if (!SSL_session_reused(c->ssl)) {
			ha_conn_fail(c, true, "the shared key was not used");
			return;
		}
		ha_link_tls_done(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = true;
		return;
	}
	fail(c, e);
}

/* -------------------------------------------------------- key and ctx */

int ha_tls_derive(struct ha_link *l, const struct cluster_conf *cc, const char *client,
		  const char *server)
{
	char info[2 * CLUSTER_NAME_MAX + 16];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int n = snprintf(info, sizeof(info), "tandem-v1 %s %s", client, server);
	int ok = 0;

	if (kc) {
		OSSL_PARAM p[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
							  (void *)cc->key, cc->keylen),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							  (void *)cc->name, strlen(cc->name)),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)n),
			OSSL_PARAM_construct_end(),
		};
		ok = EVP_KDF_derive(kc, l->psk, sizeof(l->psk), p) == 1;
	}
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return ok ? 0 : EIO;
}

int ha_tls_ctx(struct ha_link *l)
{
	SSL_CTX *ctx = SSL_CTX_new(l->dials ? TLS_client_method() : TLS_server_method());

	if (!ctx)
		return ENOMEM;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set_num_tickets(ctx, 0)) {
		SSL_CTX_free(ctx);
		return EIO;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_max_early_data(ctx, 0);
	if (l->dials) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);   /* no CA: no cert passes */
		SSL_CTX_set_psk_use_session_callback(ctx, psk_use_cb);
	} else {
		SSL_CTX_set_psk_find_session_callback(ctx, psk_find_cb);
	}
	l->ctx = ctx;
	return 0;
}

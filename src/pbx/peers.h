/**
 * @file peers.h  sip.conf as chan_sip reads it: [general] and the peers.
 *
 * A `struct sipconf` is an immutable snapshot built from a loaded
 * `struct conf`; reload builds a new one and swaps it in. Options chan_sip
 * knows but Tandem does not act on yet are accepted silently; options
 * chan_sip does not know get one warning (FILE:LINE) per load.
 */
#ifndef TANDEM_PBX_PEERS_H
#define TANDEM_PBX_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf.h"
#include "core/hash.h"
#include "core/pl.h"
#include "media/codec.h"
#include "pbx/acl.h"

enum peer_type { PEER_FRIEND, PEER_PEER, PEER_USER };

struct peer {
	struct hash_le le;
	char *name;
	enum peer_type type;
	const char *secret;        /* NULL: no authentication */
	const char *context;
	const char *callerid;
	const char *defaultuser;
	const char *language;
	const char *mailbox;
	bool dynamic;              /* host=dynamic */
	const char *host;          /* static host when !dynamic */
	uint16_t port;             /* port= (default port for the host) */
	struct sockaddr_storage addr;  /* host resolved at load; AF_UNSPEC: not */
	bool qualify;
	uint32_t qualify_maxms;    /* qualify=yes -> 2000, qualify=N -> N */
	uint32_t qualifyfreq;      /* s, default 60 */
	bool force_rport, comedia;
	int call_limit;
	uint64_t callgroup;        /* callgroup=: groups 0-63 as bits */
	uint64_t pickupgroup;      /* pickupgroup=: whose calls it may pick up */
	struct codec_prefs prefs;  /* allow= / disallow=, in order */
	struct acl *ha;            /* permit= / deny= */
	struct acl *contact_ha;    /* contactpermit= / contactdeny= */
	const struct conf_section *sec;  /* every option, for later readers */
};

struct sip_general {
	const char *realm;              /* default "asterisk" */
	uint32_t defaultexpiry, minexpiry, maxexpiry;
	struct sockaddr_storage udpbind, tcpbind;
	bool tcpenable;
	const char *useragent;
	uint32_t timert1, timerb;       /* ms; 0: the defaults (sip.h) */
};

struct sipconf {
	struct conf *conf;              /* owned: sip.conf as read */
	struct sip_general gen;
	struct hash peers;
	struct peer **list;             /* in file order */
	size_t npeers;
};

/** Build a snapshot from a loaded sip.conf (takes ownership of conf). */
int sipconf_build(struct sipconf **out, struct conf *conf, char *err, size_t errsize);
void sipconf_free(struct sipconf *sc);
struct peer *sipconf_peer(const struct sipconf *sc, const struct pl *name);
const char *peer_type_name(enum peer_type t);
/** A group mask as chan_sip shows it ("1,3-5"); "" for none. 0 or ENOSPC. */
int peer_group_str(uint64_t mask, char *buf, size_t size);

#endif

/**
 * @file peers.c  sip.conf: [general] and peers, with chan_sip's semantics.
 *
 * Every option is checked against chan_sip's list. Unknown ones warn
 * once per load with FILE:LINE, and options chan_sip dropped get a hint
 * (musicclass -> mohsuggest, see ../shared/reference-config/README.md
 * defect 7). Bad values of options Tandem uses are errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "pbx/peers.h"
#include "sip/auth.h"
#include "sip/transp.h"

/* chan_sip peer options Tandem accepts (acted on now or by later parts). */
static const char *const peer_opts[] = {
	"type", "secret", "md5secret", "remotesecret", "context", "callerid",
	"fullname", "cid_number", "defaultuser", "username", "fromuser",
	"fromdomain", "host", "port", "defaultip", "nat", "qualify",
	"qualifyfreq", "transport", "dtmfmode", "disallow", "allow", "language",
	"callgroup", "pickupgroup", "namedcallgroup", "namedpickupgroup",
	"canreinvite", "directmedia", "subscribecontext", "mohinterpret",
	"mohsuggest", "notifycid", "rpid_update", "rpid", "sendrpid",
	"trustrpid", "mailbox", "call-limit", "callcounter", "busylevel",
	"insecure", "accountcode", "amaflags", "setvar", "permit", "deny",
	"acl", "contactacl", "contactpermit", "contactdeny", "outboundproxy", "regexten",
	"subscribemwi", "vmexten", "allowsubscribe", "allowtransfer", "t38pt_udptl",
	"progressinband", "promiscredir", "useclientcode", "videosupport",
	"textsupport", "maxcallbitrate", "session-timers", "session-expires",
	"session-minse", "session-refresher", "rtptimeout", "rtpholdtimeout",
	"rtpkeepalive", "timert1", "timerb", "encryption", "avpf", "icesupport",
	"force_avp", "description", "auth", "parkinglot", "hasvoicemail",
	"autoframing", "g726nonstandard", "ignoresdpversion", "callingpres",
	"preferred_codec_only", "allowoverlap", "buggymwi", "constantssrc",
	"usereqphone", "unsolicited_mailbox", "registertrying", "supportpath",
	"forcerport", "comedia", "language", NULL
};

/* Options chan_sip removed, with what replaced them. */
static const struct { const char *name, *hint; } dropped_opts[] = {
	{ "musicclass", "not a chan_sip peer option since Asterisk 1.6; music on hold "
			"is chosen with mohsuggest= (and mohinterpret=)" },
	{ "musiconhold", "not a chan_sip peer option since Asterisk 1.6; music on hold "
			 "is chosen with mohsuggest= (and mohinterpret=)" },
	{ "ignoreexpiry", "not a chan_sip option; chan_sip's [general] option is "
			  "ignoreregexpire" },
	{ NULL, NULL }
};

static const char *const general_opts[] = {
	"context", "allowguest", "realm", "domain", "udpbindaddr", "tcpenable",
	"tcpbindaddr", "tlsenable", "tlsbindaddr", "transport", "srvlookup",
	"defaultexpiry", "minexpiry", "maxexpiry", "mwiexpiry", "useragent",
	"sdpsession", "sdpowner", "allowtransfer", "alwaysauthreject",
	"auth_options_requests", "nat", "externip", "externaddr", "localnet",
	"qualify", "qualifyfreq", "language", "disallow", "allow", "dtmfmode",
	"rtptimeout", "rtpholdtimeout", "rtpkeepalive", "callcounter",
	"notifyringing", "notifyhold", "notifycid", "limitonpeers",
	"subscribecontext", "allowsubscribe", "directmedia", "canreinvite",
	"videosupport", "maxexpirey", "registertimeout", "registerattempts",
	"register", "bindaddr", "bindport", "udpbindaddr", "tos_sip", "tos_audio",
	"cos_sip", "cos_audio", "ignoreregexpire", "rtcachefriends",
	"progressinband", "mohinterpret", "mohsuggest", "pedantic", "trustrpid",
	"sendrpid", "rpid_update", "session-timers", "t1min", "timert1",
	"timerb", "match_auth_username", "accept_outofcall_message",
	"callevents", "vmexten", "compactheaders", "maxcallbitrate", "tcpauthtimeout",
	"tcpauthlimit", "websocket_enabled", "keepalive", "pickupexten",
	"subminexpiry", "submaxexpiry", NULL
};

const char *peer_type_name(enum peer_type t)
{
	return t == PEER_PEER ? "peer" : t == PEER_USER ? "user" : "friend";
}

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcasecmp(*list, name))
			return true;
	return false;
}

/* Warn about an option once per load (keyed by name and section). */
static void check_option(const struct conf_var *v, const char *const *known,
			 const char *where)
{
	size_t i;

	if (v->inherited)
		return;   /* warned at the template's own line */
	for (i = 0; dropped_opts[i].name; i++) {
		if (!strcasecmp(dropped_opts[i].name, v->name)) {
			log_warn("%s:%u: '%s' in [%s]: %s", v->file, v->line, v->name,
				 where, dropped_opts[i].hint);
			return;
		}
	}
	if (!in_list(known, v->name))
		log_warn("%s:%u: unknown option '%s' in [%s] ignored", v->file,
			 v->line, v->name, where);
}

static int parse_u32(const struct conf_var *v, uint32_t *out, char *err, size_t errsize)
{
	char *e;
	unsigned long x;

	errno = 0;
	x = strtoul(v->value, &e, 10);
	if (errno || e == v->value || *e || x > UINT32_MAX) {
		snprintf(err, errsize, "%s:%u: %s must be a whole number, not '%s'",
			 v->file, v->line, v->name, v->value);
		return EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

/*
 * callgroup=/pickupgroup= as Asterisk's ast_get_group(): "1,3-5", numbers
 * 0-63 into a bit mask. A bad piece is warned about and skipped, as
 * Asterisk does, so one typo does not cost the peer its other groups.
 */
static uint64_t parse_group(const struct conf_var *v)
{
	char buf[256], *s = buf, *piece;
	uint64_t mask = 0;

	snprintf(buf, sizeof(buf), "%s", v->value);
	while ((piece = strsep(&s, ",")) != NULL) {
		unsigned lo, hi, i;
		int n = 0;

		size_t len;

		while (*piece == ' ' || *piece == '\t')
			piece++;
		len = strlen(piece);
		while (len && (piece[len - 1] == ' ' || piece[len - 1] == '\t'))
			piece[--len] = '\0';
		if (!len)
			continue;
		if (sscanf(piece, "%u-%u%n", &lo, &hi, &n) == 2 && !piece[n]) {
			/* a range */
		} else if (sscanf(piece, "%u%n", &lo, &n) == 1 && !piece[n]) {
			hi = lo;
		} else {
			lo = 64, hi = 0;
		}
		if (lo > hi || hi > 63) {
			log_warn("%s:%u: %s: '%s' is not a group or range of groups "
				 "0-63; ignored", v->file, v->line, v->name, piece);
			continue;
		}
		for (i = lo; i <= hi; i++)
			mask |= UINT64_C(1) << i;
	}
	return mask;
}

int peer_group_str(uint64_t mask, char *buf, size_t size)
{
	size_t o = 0;
	unsigned i, j;

	if (!size)
		return EINVAL;
	buf[0] = '\0';
	for (i = 0; i < 64; i = j) {
		int n;

		for (; i < 64 && !(mask >> i & 1); i++)
			;
		if (i == 64)
			break;
		for (j = i; j < 64 && mask >> j & 1; j++)
			;
		n = j - 1 > i ? snprintf(buf + o, size - o, "%s%u-%u", o ? "," : "", i, j - 1)
			      : snprintf(buf + o, size - o, "%s%u", o ? "," : "", i);
		if (n < 0 || (size_t)n >= size - o)
			return ENOSPC;
		o += (size_t)n;
	}
	return 0;
}

static int parse_bind(const struct conf_var *v, struct sockaddr_storage *sa,
		      char *err, size_t errsize)
{
	if (sip_sa_parse(v->value, 5060, sa) != 0) {
		snprintf(err, errsize, "%s:%u: %s: '%s' is not an address[:port]",
			 v->file, v->line, v->name, v->value);
		return EINVAL;
	}
	return 0;
}

/*
 * chan_sip's timert1 (ms, at least 200) and timerb (ms, at least 500): an
 * unreadable or too small value is warned about and the default kept, as
 * chan_sip does, so the admin's file still loads.
 */
static void parse_timer(const struct conf_var *v, uint32_t min, uint32_t *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v->value, &end, 10);
	if (errno || end == v->value || *end || x < min || x > 600000) {
		log_warn("%s:%u: %s=%s: not a time in ms from %u to 600000; using the "
			 "default", v->file, v->line, v->name, v->value, min);
		return;
	}
	*out = (uint32_t)x;
}

static int build_general(struct sipconf *sc, const struct conf_section *sec,
			 char *err, size_t errsize)
{
	struct sip_general *g = &sc->gen;
	const struct conf_var *v;
	uint32_t bindport = 0;
	int e = 0;

	g->realm = "asterisk";
	g->defaultexpiry = 120;
	g->minexpiry = 60;
	g->maxexpiry = 3600;
	sip_sa_parse("0.0.0.0:5060", 5060, &g->udpbind);
	sip_sa_parse("0.0.0.0:5060", 5060, &g->tcpbind);
	if (!sec)
		return 0;
	for (v = sec->vars; v && !e; v = v->next) {
		check_option(v, general_opts, "general");
		if (!strcasecmp(v->name, "realm")) {
			g->realm = v->value;
			if (!auth_realm_valid(v->value)) {
				snprintf(err, errsize, "%s:%u: realm must not be empty nor "
					 "contain quotes, backslashes or control characters",
					 v->file, v->line);
				e = EINVAL;
			}
		}
		else if (!strcasecmp(v->name, "useragent"))
			g->useragent = v->value;
		else if (!strcasecmp(v->name, "timert1"))
			parse_timer(v, 200, &g->timert1);
		else if (!strcasecmp(v->name, "timerb"))
			parse_timer(v, 500, &g->timerb);
		else if (!strcasecmp(v->name, "defaultexpiry"))
			e = parse_u32(v, &g->defaultexpiry, err, errsize);
		else if (!strcasecmp(v->name, "minexpiry"))
			e = parse_u32(v, &g->minexpiry, err, errsize);
		else if (!strcasecmp(v->name, "maxexpiry") || !strcasecmp(v->name, "maxexpirey"))
			e = parse_u32(v, &g->maxexpiry, err, errsize);
		else if (!strcasecmp(v->name, "udpbindaddr") || !strcasecmp(v->name, "bindaddr"))
			e = parse_bind(v, &g->udpbind, err, errsize);
		else if (!strcasecmp(v->name, "bindport"))
			e = parse_u32(v, &bindport, err, errsize);
		else if (!strcasecmp(v->name, "tcpbindaddr"))
			e = parse_bind(v, &g->tcpbind, err, errsize);
		else if (!strcasecmp(v->name, "tcpenable")) {
			if (conf_bool(v->value, &g->tcpenable)) {
				snprintf(err, errsize, "%s:%u: tcpenable must be yes or no",
					 v->file, v->line);
				e = EINVAL;
			}
		}
	}
	if (!e && bindport) {   /* chan_sip's older bindport= sets the UDP port */
		if (bindport > 65535) {
			snprintf(err, errsize, "%s:%u: bindport must be 1-65535", sec->file,
				 sec->line);
			e = EINVAL;
		} else if (g->udpbind.ss_family == AF_INET6) {
			((struct sockaddr_in6 *)&g->udpbind)->sin6_port = htons((uint16_t)bindport);
		} else {
			((struct sockaddr_in *)&g->udpbind)->sin_port = htons((uint16_t)bindport);
		}
	}
	if (!e && (g->minexpiry > g->maxexpiry || g->defaultexpiry < g->minexpiry ||
		   g->defaultexpiry > g->maxexpiry)) {
		snprintf(err, errsize, "%s:%u: expiry settings must satisfy minexpiry <= "
			 "defaultexpiry <= maxexpiry (%u, %u, %u)", sec->file, sec->line,
			 g->minexpiry, g->defaultexpiry, g->maxexpiry);
		e = EINVAL;
	}
	return e;
}

static int build_peer(struct sipconf *sc, const struct conf_section *sec,
		      struct peer *p, char *err, size_t errsize)
{
	const struct conf_var *v, *md5 = NULL;
	uint32_t u;

	p->name = sec->name;
	p->sec = sec;
	p->qualify_maxms = 2000;
	p->qualifyfreq = 60;
	p->force_rport = true;    /* chan_sip's default nat=force_rport */
	p->call_limit = -1;
	p->port = 5060;
	codec_prefs_default(&p->prefs);
	for (v = sec->vars; v; v = v->next) {
		const char *n = v->name, *val = v->value;

		check_option(v, peer_opts, sec->name);
		if (!strcasecmp(n, "type")) {
			if (!strcasecmp(val, "friend"))
				p->type = PEER_FRIEND;
			else if (!strcasecmp(val, "peer"))
				p->type = PEER_PEER;
			else if (!strcasecmp(val, "user"))
				p->type = PEER_USER;
			else {
				snprintf(err, errsize, "%s:%u: type must be friend, peer or "
					 "user, not '%s'", v->file, v->line, val);
				return EINVAL;
			}
		} else if (!strcasecmp(n, "secret")) {
			p->secret = val;
		} else if (!strcasecmp(n, "context")) {
			p->context = val;
		} else if (!strcasecmp(n, "callerid")) {
			p->callerid = val;
		} else if (!strcasecmp(n, "defaultuser") || !strcasecmp(n, "username")) {
			p->defaultuser = val;
		} else if (!strcasecmp(n, "language")) {
			p->language = val;
		} else if (!strcasecmp(n, "mailbox")) {
			p->mailbox = val;
		} else if (!strcasecmp(n, "host")) {
			p->dynamic = !strcasecmp(val, "dynamic");
			p->host = p->dynamic ? NULL : val;
		} else if (!strcasecmp(n, "port")) {
			if (parse_u32(v, &u, err, errsize) || !u || u > 65535) {
				snprintf(err, errsize, "%s:%u: port must be 1-65535, not '%s'",
					 v->file, v->line, val);
				return EINVAL;
			}
			p->port = (uint16_t)u;
		} else if (!strcasecmp(n, "qualify")) {
			bool b;
			if (!conf_bool(val, &b)) {
				p->qualify = b;
			} else if (!parse_u32(v, &u, err, errsize)) {
				p->qualify = u > 0;
				p->qualify_maxms = u;
			} else {
				snprintf(err, errsize, "%s:%u: qualify must be yes, no or "
					 "milliseconds, not '%s'", v->file, v->line, val);
				return EINVAL;
			}
		} else if (!strcasecmp(n, "qualifyfreq")) {
			if (parse_u32(v, &p->qualifyfreq, err, errsize) || !p->qualifyfreq) {
				snprintf(err, errsize, "%s:%u: qualifyfreq must be > 0 seconds",
					 v->file, v->line);
				return EINVAL;
			}
		} else if (!strcasecmp(n, "nat")) {
			p->force_rport = strstr(val, "force_rport") || !strcasecmp(val, "yes");
			p->comedia = strstr(val, "comedia") || !strcasecmp(val, "yes");
			if (!strcasecmp(val, "no"))
				p->force_rport = p->comedia = false;
		} else if (!strcasecmp(n, "permit") || !strcasecmp(n, "deny") ||
			   !strcasecmp(n, "contactpermit") || !strcasecmp(n, "contactdeny")) {
			bool contact = !strncasecmp(n, "contact", 7);
			bool permit = !strcasecmp(n + (contact ? 7 : 0), "permit");
			if (acl_add(contact ? &p->contact_ha : &p->ha, permit, val)) {
				snprintf(err, errsize, "%s:%u: %s: '%s' is not ADDRESS[/MASK]",
					 v->file, v->line, n, val);
				return EINVAL;
			}
		} else if (!strcasecmp(n, "acl") || !strcasecmp(n, "contactacl")) {
			snprintf(err, errsize, "%s:%u: %s= names an ACL of acl.conf, which Tandem "
				 "does not read yet; write the rules as permit=/deny= (or "
				 "contactpermit=/contactdeny=) in the peer", v->file, v->line, n);
			return EINVAL;
		} else if (!strcasecmp(n, "allow") || !strcasecmp(n, "disallow")) {
			if (codec_prefs_apply(&p->prefs, !strcasecmp(n, "allow"), val))
				log_warn("%s:%u: %s=%s: unknown codec ignored (known: alaw, ulaw, "
					 "gsm, g722, g729, opus, ...)", v->file, v->line, n, val);
		} else if (!strcasecmp(n, "md5secret")) {
			md5 = v;
		} else if (!strcasecmp(n, "callgroup")) {
			p->callgroup = parse_group(v);
		} else if (!strcasecmp(n, "pickupgroup")) {
			p->pickupgroup = parse_group(v);
		} else if (!strcasecmp(n, "dtmfmode")) {
			/* read by the call (call_play.c); checked here */
			if (strcasecmp(val, "rfc2833") && strcasecmp(val, "inband") &&
			    strcasecmp(val, "auto") && strcasecmp(val, "info") &&
			    strcasecmp(val, "shortinfo"))
				log_warn("%s:%u: Unknown dtmf mode '%s', using rfc2833 (known: "
					 "rfc2833, inband, auto, info)", v->file, v->line, val);
		} else if (!strcasecmp(n, "call-limit")) {
			if (parse_u32(v, &u, err, errsize))
				return EINVAL;
			p->call_limit = (int)u;
		}
	}
	if (p->host && sip_sa_resolve(p->host, p->port, &p->addr) != 0) {
		/* chan_sip refuses the peer; keeping it (unreachable, so calls to
		 * it fail as CHANUNAVAIL) lets a reload pick up a fixed DNS */
		log_warn("%s:%u: host '%s' of peer [%s] is not an address and does not "
			 "resolve; calls to it fail until a reload", sec->file, sec->line,
			 p->host, p->name);
	}
	if (md5 && !p->secret) {
		/* Never let a peer that was meant to be protected in unchallenged. */
		snprintf(err, errsize, "%s:%u: md5secret is not supported yet and peer [%s] "
			 "has no secret: set secret= (the peer would otherwise register "
			 "without a password)", md5->file, md5->line, p->name);
		return EINVAL;
	}
	(void)sc;
	return 0;
}

static void peer_set_free(struct sipconf *sc)
{
	size_t i;

	for (i = 0; i < sc->npeers; i++) {
		acl_free(sc->list[i]->ha);
		acl_free(sc->list[i]->contact_ha);
		free(sc->list[i]);
	}
	free(sc->list);
	sc->list = NULL;
	sc->npeers = 0;
}

int sipconf_build(struct sipconf **out, struct conf *conf, char *err, size_t errsize)
{
	struct sipconf *sc = calloc(1, sizeof(*sc));
	const struct conf_section *sec;
	size_t n = 0, cap = 0;
	int e;

	if (!sc) {
		conf_free(conf);
		return ENOMEM;
	}
	sc->conf = conf;
	e = hash_init(&sc->peers, 64);
	if (!e)
		e = build_general(sc, conf_section(conf, "general"), err, errsize);
	for (sec = conf->sections; sec && !e; sec = sec->next) {
		struct peer *p;

		if (sec->is_template) {
			const struct conf_var *v;
			for (v = sec->vars; v; v = v->next)
				check_option(v, peer_opts, sec->name);
			continue;
		}
		if (!strcmp(sec->name, "general") || !strcmp(sec->name, "authentication"))
			continue;
		struct pl name = { sec->name, strlen(sec->name) };
		if (sipconf_peer(sc, &name)) {
			snprintf(err, errsize, "%s:%u: peer [%s] is defined twice",
				 sec->file, sec->line, sec->name);
			e = EINVAL;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct peer **l = realloc(sc->list, cap * sizeof(*l));
			if (!l) {
				e = ENOMEM;
				break;
			}
			sc->list = l;
		}
		p = calloc(1, sizeof(*p));
		if (!p) {
			e = ENOMEM;
			break;
		}
		sc->list[n++] = p;
		sc->npeers = n;
		e = build_peer(sc, sec, p, err, errsize);
		if (!e)
			hash_add(&sc->peers, &p->le, pl_hash(&name, false), p);
	}
	if (e) {
		sipconf_free(sc);
		return e;
	}
	*out = sc;
	return 0;
}

void sipconf_free(struct sipconf *sc)
{
	if (!sc)
		return;
	peer_set_free(sc);
	hash_close(&sc->peers);
	conf_free(sc->conf);
	free(sc);
}

static bool name_cmp(const void *obj, const void *arg)
{
	const struct peer *p = obj;
	return pl_strcmp(arg, p->name) == 0;
}

struct peer *sipconf_peer(const struct sipconf *sc, const struct pl *name)
{
	return hash_find(&sc->peers, pl_hash(name, false), name_cmp, name);
}

/**
 * @file presence_dev.c  Device and hint states for busy lamps, and the
 * RFC 4235 dialog-info document that shows them.
 *
 * A device is a peer ("SIP/101-tfg" in a hint). Its state is Asterisk's
 * device state as chan_sip computes it from its call counters: ringing
 * while a call rings it and none is answered, in use while it is in a call
 * (placed, or answered), both at once, unavailable when host=dynamic and
 * not registered, else idle. A hint lists devices with '&'; its state is
 * Asterisk's aggregate (ast_devstate_aggregate): ringing if any rings, in
 * use if any is, unavailable only when all are. Pattern hints may use
 * ${EXTEN} ("exten => _1XX,hint,SIP/${EXTEN}"), as in Asterisk 12+.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx/pbx.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"

static presence_usage_h *usage_h;

static const char *dev_names[] = { "Idle", "Ringing", "InUse", "RingInUse", "Unavailable" };

const char *presence_dev_name(enum presence_dev s)
{
	return (unsigned)s < 5 ? dev_names[s] : "?";
}

void presence_set_usage_h(presence_usage_h *h)
{
	usage_h = h;
}

enum presence_dev presence_device_state(const char *peer)
{
	struct pl n = { peer, strlen(peer) };
	const struct sipconf *sc = pbx_sipconf();
	const struct peer *p = sc ? sipconf_peer(sc, &n) : NULL;
	struct presence_usage u = { 0, 0 };

	if (!p)
		return PRESENCE_DEV_UNAVAILABLE;
	if (usage_h)
		usage_h(p->name, &u);
	if (u.ringing && u.inuse)
		return PRESENCE_DEV_RINGINUSE;
	if (u.ringing)
		return PRESENCE_DEV_RINGING;
	if (u.inuse)
		return PRESENCE_DEV_INUSE;
	if (p->dynamic && !registrar_find(p->name))
		return PRESENCE_DEV_UNAVAILABLE;
	return PRESENCE_DEV_IDLE;
}

/* Each "SIP/name" of a hint ('&'-separated; other technologies skipped;
 * anything after ',' or a second '/' is not the device). Stops when fn
 * returns true. */
static bool hint_each(const char *hint, bool (*fn)(const char *peer, void *arg), void *arg)
{
	const char *s = hint, *e;
	char name[64];

	while (s && *s && *s != ',') {
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, "&,");
		if (e - s > 4 && !strncasecmp(s, "SIP/", 4)) {
			size_t l = strcspn(s + 4, "&,/ \t");
			if (l && l < sizeof(name)) {
				memcpy(name, s + 4, l);
				name[l] = '\0';
				if (fn(name, arg))
					return true;
			}
		}
		s = *e == '&' ? e + 1 : NULL;
	}
	return false;
}

struct agg { unsigned n, unavail; bool ringing, inuse; };

static bool agg_one(const char *peer, void *arg)
{
	struct agg *a = arg;

	a->n++;
	switch (presence_device_state(peer)) {
	case PRESENCE_DEV_RINGING:     a->ringing = true; break;
	case PRESENCE_DEV_INUSE:       a->inuse = true; break;
	case PRESENCE_DEV_RINGINUSE:   a->ringing = a->inuse = true; break;
	case PRESENCE_DEV_UNAVAILABLE: a->unavail++; break;
	default: break;
	}
	return false;
}

enum presence_dev presence_hint_state(const char *hint)
{
	struct agg a = { 0, 0, false, false };

	hint_each(hint, agg_one, &a);
	if (a.ringing && a.inuse)
		return PRESENCE_DEV_RINGINUSE;
	if (a.ringing)
		return PRESENCE_DEV_RINGING;
	if (a.inuse)
		return PRESENCE_DEV_INUSE;
	if (a.n && a.unavail == a.n)
		return PRESENCE_DEV_UNAVAILABLE;
	return PRESENCE_DEV_IDLE;
}

static bool is_peer(const char *peer, void *arg)
{
	return !strcasecmp(peer, arg);
}

bool presence_hint_has(const char *hint, const char *peer)
{
	return hint_each(hint, is_peer, (void *)peer);
}

const char *presence_hint_get(const char *context, const char *exten, char *buf,
			      size_t size)
{
	const struct dialplan *dp = pbx_dialplan();
	const char *hint = dp ? dialplan_hint(dp, context, exten) : NULL;
	size_t n = 0, el = strlen(exten);

	if (!hint)
		return NULL;
	for (; *hint && n + 1 < size; hint++) {
		if (!strncmp(hint, "${EXTEN}", 8) && n + el < size) {
			memcpy(buf + n, exten, el);
			n += el;
			hint += 7;
			continue;
		}
		buf[n++] = *hint;
	}
	buf[n] = '\0';
	return *hint ? NULL : buf;   /* truncated: as good as none */
}

const char *presence_dialog_state(enum presence_dev s, int nr)
{
	switch (s) {
	case PRESENCE_DEV_RINGING:   return nr ? "early" : "terminated";
	case PRESENCE_DEV_RINGINUSE: return nr == 1 ? "early" : "confirmed";
	case PRESENCE_DEV_INUSE:     return "confirmed";
	default:                     return "terminated";
	}
}

/* ------------------------------------------------------------ bodies */

static int xml_esc(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in; in++) {
		const char *r = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" :
				*in == '"' ? "&quot;" : *in == '\'' ? "&apos;" : NULL;
		size_t l = r ? strlen(r) : 1;
		if ((unsigned char)*in < 0x20)
			continue;   /* not allowed in XML 1.0 attributes */
		if (n + l >= size)
			return -1;
		memcpy(out + n, r ? r : in, l);
		n += l;
	}
	out[n] = '\0';
	return (int)n;
}

int presence_dialog_info(char *buf, size_t size, uint32_t version, const char *entity,
			 const char *id, const char *state)
{
	char ent[600], did[300];
	int n;

	if (xml_esc(ent, sizeof(ent), entity) < 0 || xml_esc(did, sizeof(did), id) < 0)
		return -1;
	n = snprintf(buf, size,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"%u\" "
		     "state=\"full\" entity=\"%s\">\n"
		     "<dialog id=\"%s\"%s><state>%s</state></dialog>\n"
		     "</dialog-info>\n",
		     version, ent, did,
		     !strcmp(state, "early") ? " direction=\"recipient\"" : "", state);
	return (n < 0 || (size_t)n >= size) ? -1 : n;
}

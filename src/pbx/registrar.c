/**
 * @file registrar.c  REGISTER handling (RFC 3261 10.3) with chan_sip's peer
 * semantics and digest authentication (RFC 8760).
 *
 * Order of work for one REGISTER, as 10.3 lays it out:
 *   1. the AOR is the To URI's user part, which names the peer;
 *   2. no credentials: 401 with a fresh challenge, sent statelessly;
 *   3. credentials are checked with the same work whether or not the peer
 *      exists, and a wrong password or unknown user get the same 401 (with
 *      a new nonce) plus one line in the security log;
 *   4. a right password on an expired nonce gets 401 stale=true;
 *   5. Call-ID/CSeq ordering (10.3 step 7), expiry bounds (423 below
 *      minexpiry, capped at maxexpiry), then the binding is written to the
 *      store and the 200 waits for the commit (group commit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "ha/ha.h"
#include "ha/jnl_codec.h"
#include "pbx/mwi.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"
#include "sip/auth.h"
#include "store/store.h"

static struct hash bindings;

const char *qualify_state_name(enum qualify_state s)
{
	switch (s) {
	case QUALIFY_UNMONITORED: return "Unmonitored";
	case QUALIFY_UNKNOWN:     return "UNKNOWN";
	case QUALIFY_OK:          return "OK";
	case QUALIFY_LAGGED:      return "LAGGED";
	case QUALIFY_UNREACHABLE: return "UNREACHABLE";
	}
	return "?";
}

static bool peer_cmp(const void *obj, const void *arg)
{
	const struct binding *b = obj;
	return !strcmp(b->peer, arg);
}

struct binding *registrar_find(const char *peer)
{
	struct pl n = { peer, strlen(peer) };
	return hash_find(&bindings, pl_hash(&n, false), peer_cmp, peer);
}

size_t registrar_count(void)
{
	return bindings.count;
}

static void binding_free(struct binding *b)
{
	qualify_stop(b);
	tmr_cancel(&b->expire);
	hash_del(&bindings, &b->le);
	free(b->peer);
	free(b->contact);
	free(b->callid);
	free(b->ua);
	free(b);
}

static void binding_remove(struct binding *b, const char *why)
{
	log_info("registrar: %s unregistered (%s)", b->peer, why);
	presence_device_changed(b->peer);
	store_binding_del(b->peer);
	binding_free(b);
}

static void expire_h(void *arg)
{
	binding_remove(arg, "expired");
}

/* The expiry runs on the loop's monotonic timer, armed from the wall-clock
 * expires_at (what the store and the journal keep): a wall clock that
 * jumps later neither expires a binding early nor keeps it late. At most
 * maxexpiry: a binding written under a wall clock that ran ahead (the old
 * active's, replicated; this node's before a restart) never outlives what
 * a REGISTER can ask for. */
static void arm_expiry(struct binding *b)
{
	const struct sipconf *sc = pbx_sipconf();
	int64_t left = b->expires_at - (int64_t)time(NULL);

	if (sc && left > (int64_t)sc->gen.maxexpiry)
		left = sc->gen.maxexpiry;
	tmr_start(&b->expire, left > 0 ? (uint64_t)left * 1000 : 0, expire_h, b);
}

static int set_str(char **dst, const char *s)
{
	char *n = strdup(s ? s : "");

	if (!n)
		return ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static struct binding *binding_get(const char *peer)
{
	struct binding *b = registrar_find(peer);

	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->peer = strdup(peer))) {
		free(b);
		return NULL;
	}
	tmr_init(&b->expire);
	tmr_init(&b->qtmr);
	struct pl n = { b->peer, strlen(b->peer) };
	hash_add(&bindings, &b->le, pl_hash(&n, false), b);
	return b;
}

static int src_parse(const char *s, struct sip_src *src)
{
	memset(src, 0, sizeof(*src));
	src->fd = -1;
	if (!strncmp(s, "udp:", 4))
		src->tp = SIP_TRANSP_UDP;
	else if (!strncmp(s, "tcp:", 4))
		src->tp = SIP_TRANSP_TCP;
	else
		return EINVAL;
	return sip_sa_parse(s + 4, 5060, &src->addr);
}

/* ------------------------------------------------------------- replies */

static void challenge(struct sip_strans *st, const char *realm, bool stale)
{
	char hdrs[1024];

	if (auth_challenge(hdrs, sizeof(hdrs), "WWW-Authenticate", realm, stale) < 0) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_strans_reply_stateless(st, 401, NULL, hdrs);
}

static void commit_done(bool ok, void *arg)
{
	struct sip_strans *st = arg;

	sip_strans_release(st, ok);
	mem_deref(st);
}

/* Reply 200 once the binding change is durable. */
static void reply_ok(struct sip_strans *st, const struct binding *b)
{
	char extra[1200];
	int64_t left = b ? b->expires_at - (int64_t)time(NULL) : 0;

	if (b)
		snprintf(extra, sizeof(extra), "Contact: <%s>;expires=%lld\r\nExpires: %lld\r\n",
			 b->contact, (long long)(left > 0 ? left : 0),
			 (long long)(left > 0 ? left : 0));
	else
		extra[0] = '\0';
	if (sip_strans_hold(st, 200, NULL, extra) != 0) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (ha_on_durable(commit_done, mem_ref(st)) != 0) {
		sip_strans_release(st, false);
		mem_deref(st);
	}
}

/* ------------------------------------------------------------ REGISTER */

static void security(const struct sip_src *src, const struct pl *user, const char *why)
{
	char a[80], u[128];

	sip_sa_str(&src->addr, a, sizeof(a));
	pl_strcpy(user, u, sizeof(u));
	log_security("auth_failed", a, u, why);
}

/* Returns true when the request may go on; otherwise it was answered. */
static bool authenticate(struct sip_strans *st, const struct sip_msg *msg,
			 const struct sip_src *src, const struct peer *p, const char *realm)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct sip_auth cred;
	enum auth_result r;

	if (p && !acl_permits(p->ha, &src->addr)) {
		/* answered like a wrong password, as chan_sip's alwaysauthreject */
		security(src, &msg->to.uri.user, "source address denied by permit/deny");
		challenge(st, realm, false);
		return false;
	}
	if (p && !p->secret)
		return true;      /* chan_sip: a peer without secret needs none */
	if (!h) {
		challenge(st, realm, false);
		return false;
	}
	memset(&cred, 0, sizeof(cred));
	if (sip_auth_decode(&cred, &h->val) != 0) {
		security(src, &msg->to.uri.user, "malformed credentials");
		challenge(st, realm, false);
		return false;
	}
	if (p && pl_strcmp(&cred.username, p->name) &&
	    !(p->defaultuser && !pl_strcmp(&cred.username, p->defaultuser)))
		p = NULL;         /* authenticating as someone else */
	r = auth_verify(&cred, &msg->met, realm, p ? p->secret : NULL);
	switch (r) {
	case AUTH_OK:
		return true;
	case AUTH_STALE:
		challenge(st, realm, true);
		return false;
	case AUTH_REPLAY:
		security(src, &cred.username, "nonce reused");
		break;
	default:
		security(src, &cred.username, p ? "wrong password" : "unknown user");
		break;
	}
	challenge(st, realm, false);
	return false;
}

struct contact_req {
	struct sip_addr addr;
	bool found;
};

static int first_contact(const struct pl *val, void *arg)
{
	struct contact_req *c = arg;

	if (sip_addr_decode(&c->addr, val) == 0)
		c->found = true;
	return 1;   /* chan_sip keeps one contact per peer */
}

/* contactpermit/contactdeny judge the Contact's host, which must then be
 * an address (a name cannot be judged without resolving it). */
static bool contact_permitted(const struct peer *p, const struct sip_uri *uri)
{
	char host[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage sa;

	pl_strcpy(&uri->host, host, sizeof(host));
	if (sip_sa_parse(host, 5060, &sa) != 0)
		return false;
	return acl_permits(p->contact_ha, &sa);
}

static void reply_current(struct sip_strans *st, const struct binding *b)
{
	reply_ok(st, b);
}

void registrar_handle(struct sip_strans *st, const struct sip_msg *msg,
		      const struct sip_src *src)
{
	const struct sipconf *sc = pbx_sipconf();
	const struct sip_general *g = &sc->gen;
	const struct sip_hdr *h;
	struct contact_req c = { .found = false };
	struct peer *p;
	struct binding *b;
	uint32_t expires = g->defaultexpiry;
	char name[128], extra[64];
	bool has_expires = false;

	p = sipconf_peer(sc, &msg->to.uri.user);
	if (p && p->type == PEER_USER)
		p = NULL;
	if (!authenticate(st, msg, src, p, g->realm))
		return;
	if (!p) {   /* reached only when the peer has no secret and is unknown */
		sip_strans_reply(st, 404, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!p->dynamic) {
		security(src, &msg->to.uri.user, "peer is not host=dynamic");
		sip_strans_reply(st, 403, "Forbidden (peer not dynamic)", NULL, NULL, NULL, 0);
		return;
	}
	pl_strcpy(&msg->to.uri.user, name, sizeof(name));
	b = registrar_find(name);
	for (h = sip_msg_hdr(msg, SIP_HDR_CONTACT); h && !c.found;
	     h = sip_msg_hdr_next(msg, h))
		sip_hdr_values(&h->val, first_contact, &c);
	if (!sip_msg_hdr(msg, SIP_HDR_CONTACT)) {
		reply_current(st, b);       /* a query (10.3 step 6) */
		return;
	}
	if (!c.found) {
		sip_strans_reply(st, 400, "Bad Request (Contact)", NULL, NULL, NULL, 0);
		return;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_EXPIRES))) {
		struct pl v = h->val;
		if (pl_u32(&v, &expires) == 0)
			has_expires = true;
	}
	struct pl ev;
	if (sip_param_get(&c.addr.params, "expires", &ev) == 0 && pl_u32(&ev, &expires) == 0)
		has_expires = true;
	if (c.addr.star) {
		if (!has_expires || expires != 0) {
			sip_strans_reply(st, 400, "Bad Request (Contact: * needs Expires: 0)",
					 NULL, NULL, NULL, 0);
			return;
		}
		if (b)
			binding_remove(b, "Contact: *");
		reply_ok(st, NULL);
		return;
	}
	if (p->contact_ha && !contact_permitted(p, &c.addr.uri)) {
		security(src, &msg->to.uri.user, "contact denied by contactpermit/contactdeny");
		sip_strans_reply(st, 403, "Forbidden (contact not permitted)", NULL, NULL,
				 NULL, 0);
		return;
	}
	if (b && !pl_strcmp(&msg->callid, b->callid) && msg->cseq.num <= b->cseq) {
		sip_strans_reply(st, 500, "Out of order CSeq", NULL, NULL, NULL, 0);
		return;
	}
	if (expires == 0) {
		if (b)
			binding_remove(b, "Expires: 0");
		reply_ok(st, NULL);
		return;
	}
	if (expires < g->minexpiry) {
		snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n", g->minexpiry);
		sip_strans_reply(st, 423, NULL, extra, NULL, NULL, 0);
		return;
	}
	if (expires > g->maxexpiry)
		expires = g->maxexpiry;

	bool fresh = !b;
	b = binding_get(name);
	char contact[1024], ua[256] = "", callid[256], srcs[96];
	pl_strcpy(&c.addr.auri, contact, sizeof(contact));
	pl_strcpy(&msg->callid, callid, sizeof(callid));
	if ((h = sip_msg_hdr(msg, SIP_HDR_USER_AGENT)))
		pl_strcpy(&h->val, ua, sizeof(ua));
	if (!b || set_str(&b->contact, contact) || set_str(&b->callid, callid) ||
	    set_str(&b->ua, ua)) {
		if (b && fresh)
			binding_free(b);
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	b->cseq = msg->cseq.num;
	b->expires_at = (int64_t)time(NULL) + expires;
	b->src = *src;     /* force_rport/comedia: reach it where it came from */
	sip_src_str(src, srcs, sizeof(srcs));
	arm_expiry(b);
	struct store_binding sb = { b->peer, b->contact, srcs, b->callid, b->cseq,
				    b->expires_at, b->ua };
	store_binding_put(&sb);
	if (fresh) {
		log_info("registrar: %s registered from %s (%s)", name, srcs, contact);
		qualify_start(b);
		presence_device_changed(name);
	}
	mwi_peer_registered(name);
	reply_ok(st, b);
}

/* ----------------------------------------------------------- lifecycle */

/* Single node: expired, unknown and unusable bindings are deleted and the
 * rest armed. Cluster node (a journal): nothing is written at start (it may
 * be the standby, whose journal only takes the active's turns) and nothing
 * armed; ha_restore() -> registrar_promote() arms them on the active, and
 * an expired one then goes through the journal like any expiry. */
static void restore_one(const struct store_binding *sb, void *arg)
{
	bool cluster = ha_jnl() != NULL;
	struct binding *b;
	size_t *n = arg;

	if (sb->expires_at <= (int64_t)time(NULL) && !cluster) {
		store_binding_del(sb->peer);
		return;
	}
	struct pl name = { sb->peer, strlen(sb->peer) };
	if (!sipconf_peer(pbx_sipconf(), &name)) {
		if (!cluster)
			store_binding_del(sb->peer);
		return;
	}
	b = binding_get(sb->peer);
	if (!b || set_str(&b->contact, sb->contact) || set_str(&b->callid, sb->callid) ||
	    set_str(&b->ua, sb->user_agent) || src_parse(sb->source, &b->src)) {
		if (b)
			binding_free(b);
		log_warn("registrar: stored binding of %s is unusable, dropped", sb->peer);
		if (!cluster)
			store_binding_del(sb->peer);
		return;
	}
	b->cseq = sb->cseq;
	b->expires_at = sb->expires_at;
	if (!cluster) {
		arm_expiry(b);
		qualify_start(b);
	}
	(*n)++;
}

int registrar_restore(void)
{
	size_t n = 0;
	int err = store_binding_load(restore_one, &n);

	if (!err)
		log_info("registrar: %zu registrations restored from %s", n, store_path());
	return err;
}

static bool free_all(void *obj, void *arg);

/* After a full resync (the standby's tandem.db replaced under it): the
 * memory view becomes exactly the installed bindings; ones the snapshot
 * lacks no longer linger (nothing is written, nothing sent). */
int registrar_reload(void)
{
	hash_apply(&bindings, free_all, NULL);
	return registrar_restore();
}

/* ------------------------------------------------- the standby's view */

static char *pl_dup(const struct pl *v)
{
	char *s = malloc(v->l + 1);

	if (s) {
		if (v->l)
			memcpy(s, v->p, v->l);
		s[v->l] = '\0';
	}
	return s;
}

/* A replicated binding: memory only, no timer, no qualify, nothing sent
 * (the active runs those; registrar_promote() starts them here). */
int registrar_apply_put(const struct jnl_binding_put *jb)
{
	char *peer = pl_dup(&jb->peer), *src = pl_dup(&jb->source);
	char *contact = pl_dup(&jb->contact), *callid = pl_dup(&jb->callid);
	char *ua = pl_dup(&jb->user_agent);
	struct binding *b = NULL;
	bool fresh = false;
	int e = ENOMEM;

	if (!peer || !src || !contact || !callid || !ua)
		goto out;
	fresh = !registrar_find(peer);
	if (!(b = binding_get(peer)))
		goto out;
	if ((e = src_parse(src, &b->src))) {
		log_warn("registrar: replicated binding of %s has an unusable source '%s'",
			 peer, src);
		if (fresh)
			binding_free(b);
		goto out;
	}
	free(b->contact);
	free(b->callid);
	free(b->ua);
	b->contact = contact;
	b->callid = callid;
	b->ua = ua;
	contact = callid = ua = NULL;
	b->cseq = jb->cseq;
	b->expires_at = jb->expires_at;
	tmr_cancel(&b->expire);
	qualify_stop(b);
	e = 0;
out:
	free(peer);
	free(src);
	free(contact);
	free(callid);
	free(ua);
	return e;
}

int registrar_apply_del(const struct jnl_binding_del *jb)
{
	char name[256];
	struct binding *b;

	pl_strcpy(&jb->peer, name, sizeof(name));
	if (!(b = registrar_find(name)))
		return 0;
	binding_free(b);
	return 0;
}

static bool promote_one(void *obj, void *arg)
{
	struct binding *b = obj;

	(void)arg;
	arm_expiry(b);   /* an expired one goes at once, from the loop */
	qualify_start(b);
	return false;
}

void registrar_promote(void)
{
	hash_apply(&bindings, promote_one, NULL);
}

static bool quiesce_one(void *obj, void *arg)
{
	struct binding *b = obj;

	(void)arg;
	tmr_cancel(&b->expire);
	qualify_stop(b);
	return false;
}

void registrar_quiesce(void)
{
	hash_apply(&bindings, quiesce_one, NULL);
}

int registrar_init(void)
{
	return hash_init(&bindings, 1024);
}

static bool free_all(void *obj, void *arg)
{
	(void)arg;
	binding_free(obj);
	return false;
}

void registrar_close(void)
{
	hash_apply(&bindings, free_all, NULL);
	hash_close(&bindings);
}

static bool drop_gone(void *obj, void *arg)
{
	struct binding *b = obj;
	struct pl name = { b->peer, strlen(b->peer) };

	(void)arg;
	if (!sipconf_peer(pbx_sipconf(), &name))
		binding_remove(b, "peer removed from sip.conf");
	else
		qualify_start(b);   /* qualify settings may have changed */
	return false;
}

void registrar_reconfigure(void)
{
	hash_apply(&bindings, drop_gone, NULL);
}

/* ------------------------------------------------------------- status */

void registrar_peer_status(const struct peer *p, char *buf, size_t size)
{
	struct binding *b = registrar_find(p->name);

	if (!p->qualify)
		snprintf(buf, size, "Unmonitored");
	else if (!b)
		snprintf(buf, size, "UNKNOWN");
	else if (b->qstate == QUALIFY_OK || b->qstate == QUALIFY_LAGGED)
		snprintf(buf, size, "%s (%u ms)", qualify_state_name(b->qstate), b->latency_ms);
	else
		snprintf(buf, size, "%s", qualify_state_name(b->qstate));
}

static bool add_json(void *obj, void *arg)
{
	const struct binding *b = obj;
	char srcs[96];
	int64_t left = b->expires_at - (int64_t)time(NULL);

	sip_src_str(&b->src, srcs, sizeof(srcs));
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:i}",
		"peer", b->peer, "contact", b->contact, "source", srcs,
		"transport", sip_transp_name(b->src.tp),
		"expires_in", (json_int_t)(left > 0 ? left : 0),
		"expires_at", (json_int_t)b->expires_at, "user_agent", b->ua,
		"call_id", b->callid, "cseq", (int)b->cseq));
	return false;
}

json_t *registrar_json(void)
{
	json_t *arr = json_array();

	hash_apply(&bindings, add_json, arr);
	return json_pack("{s:o}", "registrations", arr);
}

/**
 * @file mwi.c  Message waiting indication (RFC 3842), as chan_sip sends it.
 *
 * Two ways a phone hears about its mailboxes:
 *  - subscribed: a SUBSCRIBE for Event: message-summary (presence.c keeps
 *    the subscription; this file counts and writes the body);
 *  - unsolicited, chan_sip's default for a peer with mailbox= and no
 *    subscription (and not subscribemwi=yes): a NOTIFY outside any dialog
 *    to its registered contact (or its static host=), one Call-ID per peer
 *    with a rising CSeq, without Subscription-State as chan_sip sends it.
 *
 * When: the voicemail code calls mwi_mailbox_changed() after a message is
 * saved, deleted or moved; a REGISTER (mwi_peer_registered) sends the
 * current counts once its 200 is out; and with voicemail.conf's
 * pollmailboxes=yes every pollfreq seconds (default 30) all counts are read
 * again, so changes made behind Tandem's back (another node, a script, an
 * admin deleting files) reach the phones. A NOTIFY goes out only when the
 * counts it shows changed, except after a REGISTER.
 *
 * Counts are Asterisk's: "new" is INBOX plus Urgent, "old" is Old, and
 * Voice-Message carries "new/old (urgent/0)".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "pbx/mwi.h"
#include "pbx/pbx.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"
#include "pbx/voicemail_conf.h"
#include "pbx/voicemail_spool.h"

#define POLL_IDLE_MS 10000u   /* re-read pollmailboxes this often when off */
#define MWI_AFTER_REGISTER_MS 50u

/* What we last told one peer without a subscription. */
struct mwi_peer {
	struct hash_le le;
	char name[64];
	char callid[40], tag[20];
	uint32_t cseq;
	bool sent;
	bool due;                 /* registered: send once the 200 is out */
	struct mwi_counts last;
};

static struct hash peers;
static char *datadir;
static struct tmr poll_tmr, due_tmr;
static bool ready;

/* ------------------------------------------------------------- mailboxes */

/* Split "box@context" (or "box": context "default") into box and ctx. */
static int mbox_split(const char *s, size_t len, char *box, size_t bsize, char *ctx,
		      size_t csize)
{
	const char *at = memchr(s, '@', len);
	size_t bl = at ? (size_t)(at - s) : len;
	size_t cl = at ? len - bl - 1 : 0;

	while (bl && (s[bl - 1] == ' ' || s[bl - 1] == '\t'))
		bl--;
	while (bl && (*s == ' ' || *s == '\t')) {
		s++;
		bl--;
	}
	if (!bl || bl >= bsize || cl >= csize)
		return EINVAL;
	memcpy(box, s, bl);
	box[bl] = '\0';
	if (cl) {
		memcpy(ctx, at + 1, cl);
		ctx[cl] = '\0';
		ctx[strcspn(ctx, " \t")] = '\0';
	}
	if (!cl || !*ctx)
		snprintf(ctx, csize, "default");
	return 0;
}

typedef bool (mbox_h)(const char *box, const char *ctx, void *arg);

/* Each mailbox of a mailbox= list ('&' or ','); stops when fn says so. */
static bool mbox_each(const char *list, mbox_h *fn, void *arg)
{
	const char *s = list;
	char box[80], ctx[80];

	while (s && *s) {
		size_t l = strcspn(s, "&,");
		if (mbox_split(s, l, box, sizeof(box), ctx, sizeof(ctx)) == 0 &&
		    fn(box, ctx, arg))
			return true;
		s = s[l] ? s + l + 1 : NULL;
	}
	return false;
}

struct match { char box[80], ctx[80]; };

static bool same_box(const char *box, const char *ctx, void *arg)
{
	const struct match *m = arg;
	return !strcasecmp(box, m->box) && !strcasecmp(ctx, m->ctx);
}

bool mwi_list_has(const char *list, const char *mailbox)
{
	struct match m;

	if (!list || !*list)
		return false;
	if (!mailbox)
		return true;
	if (mbox_split(mailbox, strlen(mailbox), m.box, sizeof(m.box), m.ctx, sizeof(m.ctx)))
		return false;
	return mbox_each(list, same_box, &m);
}

static bool add_counts(const char *box, const char *ctx, void *arg)
{
	struct mwi_counts *c = arg;
	int n = 0, o = 0, u = 0;

	if (vm_box_counts(datadir, ctx, box, &n, &o, &u) == 0) {
		c->newmsgs += n + u;
		c->oldmsgs += o;
		c->urgent += u;
	}
	return false;
}

int mwi_counts_get(const char *list, struct mwi_counts *out)
{
	struct mwi_counts c = { 0, 0, 0 };

	if (!datadir)
		return EINVAL;
	mbox_each(list, add_counts, &c);
	*out = c;
	return 0;
}

int mwi_body(char *buf, size_t size, const struct mwi_counts *c, const char *account,
	     bool buggy)
{
	char urg[32] = "";
	int n;

	if (!buggy)   /* chan_sip's buggymwi: Cisco phones choke on "(u/0)" */
		snprintf(urg, sizeof(urg), " (%d/0)", c->urgent);
	n = snprintf(buf, size, "Messages-Waiting: %s\r\n%s%s%sVoice-Message: %d/%d%s\r\n",
		     c->newmsgs > 0 ? "yes" : "no", account ? "Message-Account: " : "",
		     account ? account : "", account ? "\r\n" : "", c->newmsgs, c->oldmsgs,
		     urg);
	return (n < 0 || (size_t)n >= size) ? -1 : n;
}

/* --------------------------------------------------- unsolicited NOTIFY */

static bool name_cmp(const void *obj, const void *arg)
{
	return !strcmp(((const struct mwi_peer *)obj)->name, arg);
}

static struct mwi_peer *mp_get(const char *name, bool create)
{
	struct pl n = { name, strlen(name) };
	uint32_t h = pl_hash(&n, false);
	struct mwi_peer *mp = hash_find(&peers, h, name_cmp, name);

	if (mp || !create || strlen(name) >= sizeof(mp->name))
		return mp;
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return NULL;
	snprintf(mp->name, sizeof(mp->name), "%s", name);
	sip_rand_token(mp->callid, 32);
	sip_rand_token(mp->tag, 16);
	hash_add(&peers, &mp->le, h, mp);
	return mp;
}

static const char *opt(const struct peer *p, const char *name, const char *def)
{
	const char *v = conf_get(p->sec, name);

	if (!v && pbx_sipconf())
		v = conf_get(conf_section(pbx_sipconf()->conf, "general"), name);
	return v ? v : def;
}

static bool opt_yes(const struct peer *p, const char *name)
{
	bool b;
	return conf_bool(opt(p, name, "no"), &b) == 0 && b;
}

/* Where p is reached: its registration, else a static host=. */
static bool peer_dst(const struct peer *p, struct sip_src *dst, char *ruri, size_t size)
{
	const struct binding *b = registrar_find(p->name);
	char hp[80];

	if (b) {
		*dst = b->src;
		snprintf(ruri, size, "%s", b->contact);
		return true;
	}
	if (p->dynamic || p->addr.ss_family == AF_UNSPEC)
		return false;
	memset(dst, 0, sizeof(*dst));
	dst->fd = -1;
	dst->tp = SIP_TRANSP_UDP;
	dst->addr = p->addr;
	sip_sa_str(&p->addr, hp, sizeof(hp));
	snprintf(ruri, size, "sip:%s@%s", p->name, hp);
	return true;
}

static int notify_peer(const struct peer *p, struct mwi_peer *mp, const struct mwi_counts *c)
{
	char ruri[1024], hdrs[2048], body[512], account[200], host[64];
	const char *vmexten = opt(p, "vmexten", "asterisk");
	struct sip_src dst;
	uint16_t port;
	int n;

	if (!peer_dst(p, &dst, ruri, sizeof(ruri)))
		return ENOENT;
	if (sip_transp_local(&dst, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(account, sizeof(account), "sip:%s@%s:%u", vmexten, host, port);
	n = mwi_body(body, sizeof(body), c, account, opt_yes(p, "buggymwi"));
	if (n < 0)
		return EMSGSIZE;
	snprintf(hdrs, sizeof(hdrs),
		 "Max-Forwards: 70\r\nFrom: <sip:%s@%s:%u>;tag=%s\r\nTo: <%s>\r\n"
		 "Call-ID: %s\r\nCSeq: %u NOTIFY\r\nContact: <sip:%s@%s:%u>\r\n"
		 "Event: message-summary\r\nUser-Agent: Tandem/" TANDEM_VERSION "\r\n",
		 vmexten, host, port, mp->tag, ruri, mp->callid, ++mp->cseq, vmexten, host,
		 port);
	return sip_ctrans_request(NULL, &dst, "NOTIFY", ruri, hdrs,
				  "application/simple-message-summary", body, (size_t)n,
				  NULL, NULL);
}

/* Tell p its counts when they changed since the last time (or force). */
static void peer_update(const struct peer *p, bool force)
{
	struct mwi_counts c;
	struct mwi_peer *mp;
	int err;

	if (!p->mailbox || !*p->mailbox || opt_yes(p, "subscribemwi") ||
	    presence_mwi_subscribed(p->name))
		return;
	if (mwi_counts_get(p->mailbox, &c) != 0 || !(mp = mp_get(p->name, true)))
		return;
	if (!force && mp->sent && !memcmp(&c, &mp->last, sizeof(c)))
		return;
	err = notify_peer(p, mp, &c);
	if (err == ENOENT)
		return;   /* not registered: told when it registers */
	if (err) {
		log_notice("mwi: NOTIFY to %s cannot be sent: %s", p->name, strerror(err));
		return;
	}
	log_info("mwi: %s told %d new, %d old (%s)", p->name, c.newmsgs, c.oldmsgs,
		 p->mailbox);
	mp->last = c;
	mp->sent = true;
}

static void peers_update(const char *mailbox)
{
	const struct sipconf *sc = pbx_sipconf();
	size_t i;

	for (i = 0; sc && i < sc->npeers; i++)
		if (mwi_list_has(sc->list[i]->mailbox, mailbox))
			peer_update(sc->list[i], false);
}

void mwi_mailbox_changed(const char *mailbox)
{
	if (!ready || !mailbox)
		return;
	presence_mwi_changed(mailbox);
	peers_update(mailbox);
}

void mwi_poll(void)
{
	if (!ready)
		return;
	presence_mwi_changed(NULL);
	peers_update(NULL);
}

static bool send_due(void *obj, void *arg)
{
	struct mwi_peer *mp = obj;
	struct pl n = { mp->name, strlen(mp->name) };
	const struct peer *p;

	(void)arg;
	if (!mp->due)
		return false;
	mp->due = false;
	if (pbx_sipconf() && (p = sipconf_peer(pbx_sipconf(), &n)))
		peer_update(p, true);
	return false;
}

static void due_h(void *arg)
{
	(void)arg;
	hash_apply(&peers, send_due, NULL);
}

void mwi_peer_registered(const char *peer)
{
	struct pl n = { peer, strlen(peer) };
	const struct peer *p;
	struct mwi_peer *mp;

	if (!ready || !pbx_sipconf() || !(p = sipconf_peer(pbx_sipconf(), &n)) ||
	    !p->mailbox || !*p->mailbox || !(mp = mp_get(p->name, true)))
		return;
	mp->due = true;
	/* not in this turn: the REGISTER's 200 waits for the turn's commit,
	 * and chan_sip's NOTIFY follows the 200 */
	if (!tmr_isset(&due_tmr))
		tmr_start(&due_tmr, MWI_AFTER_REGISTER_MS, due_h, NULL);
}

/* ------------------------------------------------------------- polling */

static void poll_h(void *arg)
{
	const struct vmconf *vc = pbx_vmconf();
	uint64_t next = POLL_IDLE_MS;

	(void)arg;
	if (vc && vc->gen.pollmailboxes) {
		mwi_poll();
		next = (uint64_t)(vc->gen.pollfreq ? vc->gen.pollfreq : 1) * 1000;
	}
	tmr_start(&poll_tmr, next, poll_h, NULL);
}

/* ----------------------------------------------------------- lifecycle */

int mwi_init(const char *dir)
{
	int err = hash_init(&peers, 256);

	if (err)
		return err;
	datadir = strdup(dir);
	if (!datadir) {
		hash_close(&peers);
		return ENOMEM;
	}
	tmr_init(&poll_tmr);
	tmr_init(&due_tmr);
	tmr_start(&poll_tmr, 1000, poll_h, NULL);
	ready = true;
	return 0;
}

static bool free_one(void *obj, void *arg)
{
	struct mwi_peer *mp = obj;

	(void)arg;
	hash_del(&peers, &mp->le);
	free(mp);
	return false;
}

void mwi_close(void)
{
	if (!ready)
		return;
	tmr_cancel(&poll_tmr);
	tmr_cancel(&due_tmr);
	hash_apply(&peers, free_one, NULL);
	hash_close(&peers);
	free(datadir);
	datadir = NULL;
	ready = false;
}

/**
 * @file voicemail_conf.h  voicemail.conf as app_voicemail reads it.
 *
 * [general] holds the global options and the defaults of every per-mailbox
 * option; [zonemessages] the time zones (`name = Zone/Name|format`); every
 * other section is a context of mailboxes
 *     BOX => PIN,Full Name,email,pager,options
 * with options `key=value` separated by '|' (Asterisk) or ','. A PIN
 * starting with '-' cannot be changed by the user (the '-' is not part of
 * it); an empty PIN means no PIN is asked.
 *
 * A `struct vmconf` is an immutable snapshot; reload builds a new one.
 * Options app_voicemail knows and Tandem does not act on are accepted
 * silently, unknown ones warn (FILE:LINE), bad values of options Tandem
 * uses are errors (FILE:LINE: what is wrong).
 */
#ifndef TANDEM_PBX_VOICEMAIL_CONF_H
#define TANDEM_PBX_VOICEMAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/hash.h"

#define VM_MAXMSG_LIMIT 9999   /* Asterisk's MAXMSGLIMIT */
#define VM_MAX_FORMATS  8

/* Options of [general] that a mailbox may override (app_voicemail's
 * "all options can be expressed globally ... and overridden"). */
struct vm_opts {
	bool attach;               /* attach the recording to the e-mail (no) */
	bool saycid;               /* say the caller id before the message (no) */
	bool sayduration;          /* (yes) */
	uint32_t saydurationm;     /* minimum minutes to say the duration (2) */
	bool review;               /* caller may review before saving (no) */
	bool operator;             /* 0 goes to the 'o' extension (no) */
	bool envelope;             /* play date/caller before a message (yes) */
	bool moveheard;            /* heard INBOX messages go to Old (yes) */
	bool delete_after;         /* delete= / deletevoicemail=: mail only (no) */
	bool leaveurgent;          /* callers may mark a message urgent (yes) */
	bool forcename, forcegreetings, tempgreetwarn, messagewrap, nextaftercmd;
	bool sendvoicemail, hidefromdir;
	uint32_t maxmsg;           /* per folder, 0-9999 (100) */
	uint32_t maxsecs;          /* longest message, 0: no limit (0) */
	uint32_t minsecs;          /* shorter messages are discarded (0) */
	uint32_t backupdeleted;    /* messages kept in Deleted (0) */
	const char *attachfmt;     /* format attached to the e-mail (first format) */
	const char *serveremail;   /* From: address ("asterisk") */
	const char *fromstring;    /* From: display name */
	const char *emailsubject, *emailbody;
	const char *pagerfromstring, *pagersubject, *pagerbody;
	const char *tz;            /* a [zonemessages] name */
	const char *locale, *language;
	const char *callback, *dialout, *exitcontext;
	double volgain;
};

struct vm_general {
	struct vm_opts defaults;
	const char *formats[VM_MAX_FORMATS];  /* format=wav49|gsm|wav, in order */
	size_t nformats;
	uint32_t maxgreet;         /* longest greeting in s, 0: maxsecs (0) */
	uint32_t skipms;           /* rewind/forward step (3000) */
	uint32_t maxsilence;       /* s of silence ending a recording, 0: off (0) */
	uint32_t silencethreshold; /* (128) */
	uint32_t maxlogins;        /* PIN attempts (3) */
	uint32_t minpassword;      /* shortest new PIN (0) */
	uint32_t pollfreq;         /* s (30) */
	bool pollmailboxes, searchcontexts, pbxskip, usedirectory;
	const char *mailcmd;       /* "/usr/sbin/sendmail -t" */
	const char *charset;       /* "ISO-8859-1" */
	const char *emaildateformat, *pagerdateformat;
	const char *externnotify;
	const char *userscontext;  /* "default" */
	const char *aliasescontext;
};

struct vm_zone {
	const char *name;
	const char *timezone;      /* "Europe/Madrid" */
	const char *message;       /* "'vm-received' Q 'digits/at' IMp" */
	char *raw;                 /* owned */
	const char *file;
	unsigned line;
};

struct vm_mailbox {
	struct hash_le le;
	char *id;                  /* "box@context", as looked up */
	const char *context;
	const char *box;
	const char *pin;           /* without a leading '-'; "" when none */
	bool pin_locked;           /* written with a leading '-' */
	const char *fullname, *email, *pager;  /* email may list several, '|'-separated */
	char *raw;                 /* owned: the fields above point into it */
	struct vm_opts o;          /* [general] defaults with this box's options */
	const char *file;
	unsigned line;
};

struct vmconf {
	struct conf *conf;         /* owned: voicemail.conf as read (NULL: none) */
	struct vm_general gen;
	char *fmtbuf;              /* owned: gen.formats point into it */
	struct vm_zone *zones;
	size_t nzones;
	struct vm_mailbox **boxes; /* in file order */
	size_t nboxes;
	struct hash index;         /* by lower-cased id */
	struct vm_alias { const char *from, *to; } *aliases;   /* aliasescontext */
	size_t naliases;
};

/**
 * Build a snapshot from a loaded voicemail.conf (takes ownership of conf;
 * NULL conf: no mailboxes, Asterisk's defaults). 0, ENOMEM, or EINVAL
 * with "FILE:LINE: what is wrong" in err.
 */
int vmconf_build(struct vmconf **out, struct conf *conf, char *err, size_t errsize);
void vmconf_free(struct vmconf *vc);

/**
 * The mailbox "box@context" ("box" alone: context "default", or every
 * context when searchcontexts=yes), following aliasescontext. Case is
 * ignored, as in Asterisk. NULL when there is none.
 */
const struct vm_mailbox *vmconf_mailbox(const struct vmconf *vc, const char *id);
/** The [zonemessages] entry called name, or NULL. */
const struct vm_zone *vmconf_zone(const struct vmconf *vc, const char *name);
/** The file extension Asterisk gives a format ("wav49" -> "WAV"), or NULL. */
const char *vm_format_ext(const char *format);

#endif

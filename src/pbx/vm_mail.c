/**
 * @file vm_mail.c  The e-mail of a new voicemail (vm_mail.h), following
 * app_voicemail's make_email_file():
 *
 *   From: "fromstring" <serveremail>   (else Asterisk PBX <serveremail>;
 *                                       serveremail without '@' gets
 *                                       @hostname)
 *   To: "Full Name" <email>
 *   Subject: emailsubject, else "[PBX]: New message N in mailbox BOX"
 *            (without "[PBX]: " when pbxskip=yes)
 *   body: emailbody, else Asterisk's "Dear NAME: ..." text
 *
 * ${VM_NAME} ${VM_DUR} ${VM_MSGNUM} ${VM_MAILBOX} ${VM_CALLERID}
 * ${VM_CIDNAME} ${VM_CIDNUM} ${VM_DATE} ${VM_MESSAGEFILE} ${VM_CATEGORY}
 * ${VM_FLAG} are replaced in fromstring, subject and body (other ${}
 * become empty), then \n \t \r \\ as Asterisk's substitute_escapes.
 * With attach=yes (the box's, else [general]'s) the message is
 * multipart/mixed and carries the wav as audio/x-wav, base64 in 76
 * character lines (OpenSSL's EVP_EncodeBlock).
 *
 * Sending: the message goes to a file in the box's tmp/ directory,
 * mailcmd runs through /bin/sh with that file as its standard input,
 * and the file is unlinked at once (the child has it open). The loop
 * never waits for the mailer: spawn.c reaps it and logs a failure.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "core/spawn.h"
#include "pbx/vm_mail.h"
#include "pbx/voicemail_conf.h"

#define TXT_MAX 8192

struct vars {
	char name[128], dur[16], msgnum[16], box[80], callerid[224], cidname[128];
	char cidnum[64], date[96], msgfile[PATH_MAX], category[8], flag[8];
};

static void vars_of(struct vars *v, const struct vmconf *vc, const struct vm_mailbox *mb,
		    const struct vm_mail *m)
{
	const char *lt = strchr(m->callerid, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *fmt = vc->gen.emaildateformat && *vc->gen.emaildateformat ?
		vc->gen.emaildateformat : "%A, %B %d, %Y at %r";
	struct tm tm;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", mb->fullname ? mb->fullname : "");
	snprintf(v->dur, sizeof(v->dur), "%d:%02d", m->duration / 60, m->duration % 60);
	snprintf(v->msgnum, sizeof(v->msgnum), "%d", m->msgnum + 1);
	snprintf(v->box, sizeof(v->box), "%s", m->box);
	if (lt && gt) {
		snprintf(v->cidnum, sizeof(v->cidnum), "%.*s", (int)(gt - lt - 1), lt + 1);
		const char *b = m->callerid + (m->callerid[0] == '"'), *e = lt;

		while (e > b && (e[-1] == ' ' || e[-1] == '"'))
			e--;
		snprintf(v->cidname, sizeof(v->cidname), "%.*s", (int)(e - b), b);
	} else if (strcmp(m->callerid, "Unknown")) {
		snprintf(v->cidname, sizeof(v->cidname), "%s", m->callerid);
	}
	/* app_voicemail's ast_callerid_merge(..., "Unknown Caller") */
	if (*v->cidname && *v->cidnum)
		snprintf(v->callerid, sizeof(v->callerid), "\"%s\" <%s>", v->cidname, v->cidnum);
	else
		snprintf(v->callerid, sizeof(v->callerid), "%s",
			 *v->cidnum ? v->cidnum : *v->cidname ? v->cidname : "an unknown caller");
	localtime_r(&m->when, &tm);
	if (!strftime(v->date, sizeof(v->date), fmt, &tm))
		v->date[0] = '\0';
	snprintf(v->msgfile, sizeof(v->msgfile), "%s", m->msgfile ? m->msgfile : "");
}

static const char *var(const struct vars *v, const char *name, size_t len)
{
	static const struct { const char *n; size_t off; } t[] = {
		{ "VM_NAME", offsetof(struct vars, name) },
		{ "VM_DUR", offsetof(struct vars, dur) },
		{ "VM_MSGNUM", offsetof(struct vars, msgnum) },
		{ "VM_MAILBOX", offsetof(struct vars, box) },
		{ "VM_CALLERID", offsetof(struct vars, callerid) },
		{ "VM_CIDNAME", offsetof(struct vars, cidname) },
		{ "VM_CIDNUM", offsetof(struct vars, cidnum) },
		{ "VM_DATE", offsetof(struct vars, date) },
		{ "VM_MESSAGEFILE", offsetof(struct vars, msgfile) },
		{ "VM_CATEGORY", offsetof(struct vars, category) },
		{ "VM_FLAG", offsetof(struct vars, flag) },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].n) == len && !strncmp(t[i].n, name, len))
			return (const char *)v + t[i].off;
	return "";
}

/* s with ${VM_*} replaced and \n \t \r \\ expanded, into out. */
static void expand(const char *s, const struct vars *v, char *out, size_t size)
{
	size_t n = 0;

	while (*s && n + 1 < size) {
		const char *end;

		if (s[0] == '$' && s[1] == '{' && (end = strchr(s + 2, '}'))) {
			n += (size_t)snprintf(out + n, size - n, "%s",
					      var(v, s + 2, (size_t)(end - s - 2)));
			if (n >= size)
				n = size - 1;
			s = end + 1;
		} else if (s[0] == '\\' && s[1]) {
			char c = s[1];

			out[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
			s += 2;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
}

/* Base64 of the file in 76-character lines. */
static int attach_b64(FILE *out, const char *path)
{
	unsigned char in[57 * 64];
	unsigned char enc[((sizeof(in) + 2) / 3) * 4 + 1];
	FILE *f = fopen(path, "rb");
	size_t n;
	int err = 0;

	if (!f)
		return errno;
	while ((n = fread(in, 1, sizeof(in), f)) > 0) {
		for (size_t o = 0; o < n; o += 57) {
			int k = EVP_EncodeBlock(enc, in + o, (int)(n - o < 57 ? n - o : 57));

			fprintf(out, "%.*s\n", k, (char *)enc);
		}
	}
	if (ferror(f))
		err = EIO;
	fclose(f);
	return err;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int vm_mail_write(FILE *out, const struct vmconf *vc, const struct vm_mailbox *mb,
		  const struct vm_mail *m, const char *to)
{
	const struct vm_opts *o = &mb->o;
	char host[256] = "localhost", from[512], bound[96], date[64];
	char *txt = malloc(TXT_MAX);
	struct vars v;
	struct tm tm;
	int err = 0;

	if (!txt)
		return ENOMEM;
	vars_of(&v, vc, mb, m);
	gethostname(host, sizeof(host) - 1);
	if (strchr(o->serveremail ? o->serveremail : "", '@'))
		snprintf(from, sizeof(from), "%s", o->serveremail);
	else
		snprintf(from, sizeof(from), "%s@%s", o->serveremail ? o->serveremail : "asterisk",
			 host);
	gmtime_r(&m->when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	fprintf(out, "Date: %s\n", date);
	if (o->fromstring && *o->fromstring) {
		expand(o->fromstring, &v, txt, TXT_MAX);
		fprintf(out, "From: \"%s\" <%s>\n", txt, from);
	} else {
		fprintf(out, "From: Asterisk PBX <%s>\n", from);
	}
	fprintf(out, "To: \"%s\" <%s>\n", v.name, to);
	if (o->emailsubject && *o->emailsubject)
		expand(o->emailsubject, &v, txt, TXT_MAX);
	else
		snprintf(txt, TXT_MAX, "%sNew message %s in mailbox %s",
			 vc->gen.pbxskip ? "" : "[PBX]: ", v.msgnum, v.box);
	fprintf(out, "Subject: %s\n", txt);
	fprintf(out, "Message-ID: <Tandem-%s-%s-%ld-%d@%s>\n", v.msgnum, m->box,
		(long)m->when, (int)getpid(), host);
	fprintf(out, "X-Asterisk-CallerID: %s\nX-Asterisk-CallerIDName: %s\n",
		*v.cidnum ? v.cidnum : "Unknown", *v.cidname ? v.cidname : "Unknown");
	fprintf(out, "MIME-Version: 1.0\n");
	snprintf(bound, sizeof(bound), "----voicemail_%s%s%ld", v.msgnum, m->box, (long)m->when);
	if (o->attach)
		fprintf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
			"This is a multi-part message in MIME format.\n\n--%s\n", bound, bound);
	fprintf(out, "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: 8bit\n\n",
		vc->gen.charset && *vc->gen.charset ? vc->gen.charset : "ISO-8859-1");
	if (o->emailbody && *o->emailbody)
		expand(o->emailbody, &v, txt, TXT_MAX);
	else
		snprintf(txt, TXT_MAX, "Dear %s:\n\n\tJust wanted to let you know you were just "
			 "left a %s long message (number %s)\nin mailbox %s from %s, on %s, so "
			 "you might\nwant to check it when you get a chance.  Thanks!\n\n"
			 "\t\t\t\t--Asterisk\n", v.name, v.dur, v.msgnum, v.box, v.callerid,
			 v.date);
	fprintf(out, "%s\n", txt);
	if (o->attach) {
		const char *fn = basename_of(m->wav);

		fprintf(out, "--%s\nContent-Type: audio/x-wav; name=\"%s\"\n"
			"Content-Transfer-Encoding: base64\n"
			"Content-Description: Voicemail sound attachment.\n"
			"Content-Disposition: attachment; filename=\"%s\"\n\n", bound, fn, fn);
		err = attach_b64(out, m->wav);
		fprintf(out, "\n--%s--\n", bound);
	}
	free(txt);
	if (!err && (fflush(out) || ferror(out)))
		err = EIO;
	return err;
}

static int send_one(const struct vmconf *vc, const struct vm_mailbox *mb,
		    const struct vm_mail *m, const char *to, const char *tmpdir)
{
	const char *cmd = vc->gen.mailcmd && *vc->gen.mailcmd ? vc->gen.mailcmd :
		"/usr/sbin/sendmail -t";
	char path[PATH_MAX];
	FILE *f;
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/mail-XXXXXX", tmpdir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "w"))) {
		err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		log_warn("voicemail %s@%s: cannot write the e-mail to %s: %s", m->box,
			 m->context, tmpdir, strerror(err));
		return err;
	}
	err = vm_mail_write(f, vc, mb, m, to);
	if (fclose(f) && !err)
		err = EIO;
	if (err) {
		log_warn("voicemail %s@%s: e-mail to %s not sent: writing it failed (%s)",
			 m->box, m->context, to, strerror(err));
	} else if (!(err = spawn_sh(cmd, path, "voicemail e-mail"))) {
		log_info("voicemail %s@%s: message %d e-mailed to %s (%s)", m->box, m->context,
			 m->msgnum, to, cmd);
	}
	unlink(path);   /* the mailer has it open */
	return err;
}

int vm_mail_send(const struct vmconf *vc, const struct vm_mailbox *mb,
		 const struct vm_mail *m, const char *tmpdir)
{
	const char *p;
	int err = 0;

	if (!vc || !mb || !mb->email || !*mb->email)
		return ENOENT;
	for (p = mb->email; *p;) {
		size_t n = strcspn(p, "|");
		char to[256];

		if (n && n < sizeof(to)) {
			snprintf(to, sizeof(to), "%.*s", (int)n, p);
			int e = send_one(vc, mb, m, to, tmpdir);

			if (e && !err)
				err = e;
		}
		p += n + (p[n] == '|');
	}
	return err;
}

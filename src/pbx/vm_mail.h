/**
 * @file vm_mail.h  Voicemail e-mail as app_voicemail sends it: a MIME
 * message (the wav attached, base64) piped into voicemail.conf's mailcmd
 * (default /usr/sbin/sendmail -t) in the background.
 */
#ifndef TANDEM_PBX_VM_MAIL_H
#define TANDEM_PBX_VM_MAIL_H

#include <stdio.h>
#include <time.h>

struct vmconf;
struct vm_mailbox;

/** One new message. */
struct vm_mail {
	const char *box, *context;
	int msgnum;               /* 0-based: msg0000 is 0 (VM_MSGNUM is 1) */
	const char *callerid;     /* as in the .txt: "Name" <num>, <num>, Unknown */
	int duration;             /* seconds */
	time_t when;
	const char *wav;          /* the message's file (attached) */
	const char *msgfile;      /* its path without extension (VM_MESSAGEFILE) */
};

/**
 * Write the message for one address to out: headers (Date, From,
 * To, Subject, Message-ID, MIME) and the body, emailsubject/emailbody
 * with ${VM_*} and \n \t expanded, Asterisk's text when unset; with
 * attach, multipart/mixed with the wav in base64. 0 or errno (the wav
 * could not be read: EIO...).
 */
int vm_mail_write(FILE *out, const struct vmconf *vc, const struct vm_mailbox *mb,
		  const struct vm_mail *m, const char *to);
/**
 * When the mailbox has an e-mail address (several: '|'), write one
 * message per address into a file of tmpdir and run mailcmd with it as
 * standard input (core/spawn.h: never waited for; a failure is logged).
 * 0, ENOENT (no address), or errno.
 */
int vm_mail_send(const struct vmconf *vc, const struct vm_mailbox *mb,
		 const struct vm_mail *m, const char *tmpdir);

#endif

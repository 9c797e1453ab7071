/**
 * @file voicemail_spool.h  The voicemail spool in Asterisk's layout.
 *
 *   DATADIR/voicemail/CONTEXT/BOX/INBOX/msg0000.wav + msg0000.txt
 *                                /Old, /Urgent, /Work, ... (folders)
 *                                /tmp      (recordings in progress)
 *                                /unavail.wav busy.wav greet.wav temp.wav
 *
 * A message exists when its msgNNNN.txt exists (Asterisk counts .txt
 * files). Writes are atomic: audio is recorded in BOX/tmp, then
 * vm_rec_commit() renames the audio into the folder and the .txt last,
 * so a recording cut short, a crash or a full disk never leaves a file
 * that looks like a message. Message numbers are Asterisk's: a new
 * message takes the number after the highest one; deleting leaves a gap
 * until vm_folder_resequence() closes it, as VoiceMailMain does when the
 * caller leaves the mailbox.
 *
 * Everything runs on the event loop thread; no locking (Asterisk's
 * .lock files guard against other processes, which Tandem does not have).
 */
#ifndef TANDEM_PBX_VOICEMAIL_SPOOL_H
#define TANDEM_PBX_VOICEMAIL_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Asterisk's mailbox_folders[], in its order (the index is the number
 * VoiceMailMain's "save to folder" menu uses). */
enum vm_folder {
	VM_INBOX, VM_OLD, VM_WORK, VM_FAMILY, VM_FRIENDS, VM_CUST1, VM_CUST2,
	VM_CUST3, VM_CUST4, VM_CUST5, VM_DELETED, VM_URGENT, VM_NFOLDERS
};

enum vm_greeting { VM_GREET_UNAVAIL, VM_GREET_BUSY, VM_GREET_NAME, VM_GREET_TEMP };

/** "INBOX", "Old", ..., "Urgent"; NULL when out of range. */
const char *vm_folder_name(enum vm_folder f);
/** The folder called name (case-insensitive); 0 or ENOENT. */
int vm_folder_parse(const char *name, enum vm_folder *out);

/* Paths; each returns 0, ENAMETOOLONG, or EINVAL when context or box is
 * empty, "." or "..", or holds a '/'. ext without the dot. */
int vm_path_box(char *buf, size_t size, const char *datadir, const char *context,
		const char *box);
int vm_path_folder(char *buf, size_t size, const char *datadir, const char *context,
		   const char *box, enum vm_folder f);
/** .../FOLDER/msgNNNN.ext (ext NULL: without extension). */
int vm_path_msg(char *buf, size_t size, const char *datadir, const char *context,
		const char *box, enum vm_folder f, int msgnum, const char *ext);
/** .../BOX/unavail.ext, busy, greet (the name), temp. */
int vm_path_greeting(char *buf, size_t size, const char *datadir, const char *context,
		     const char *box, enum vm_greeting g, const char *ext);

/** Create BOX with INBOX, Old, Urgent and tmp (0750). 0 or errno. */
int vm_box_mkdirs(const char *datadir, const char *context, const char *box);

/* ------------------------------------------------- message metadata */

/* msgNNNN.txt, section [message], as app_voicemail writes it. */
struct vm_msg_info {
	char origmailbox[80];
	char context[80];
	char macrocontext[80];
	char exten[80];
	char rdnis[80];          /* "unknown" when there was no redirection */
	int priority;
	char callerchan[128];
	char callerid[256];      /* "\"Name\" <num>" or "Unknown" */
	char origdate[64];       /* "Mon Mar  2 10:04:05 AM UTC 2020" */
	long origtime;           /* epoch */
	char category[80];
	char msg_id[64];         /* "EPOCH-COUNTER" (%ld-%08x) */
	char flag[16];           /* "" or "Urgent" */
	int duration;            /* s; -1: not known yet (line left out) */
};

/** Empty info with Asterisk's defaults, origdate/origtime/msg_id from now. */
void vm_msg_info_init(struct vm_msg_info *m, time_t now);
/** The .txt text; 0 or ENOSPC when size is too small. */
int vm_msg_info_format(const struct vm_msg_info *m, char *buf, size_t size);
/** Parse a .txt (I/O-free, tolerant of spaces, comments, unknown keys). */
int vm_msg_info_parse(const char *buf, size_t len, struct vm_msg_info *m);
/** Read path into m. 0, errno, or EINVAL when it has no [message]. */
int vm_msg_info_read(const char *path, struct vm_msg_info *m);
/** Write path atomically (path.tmp, fsync, rename). 0 or errno. */
int vm_msg_info_write(const char *path, const struct vm_msg_info *m);

/* ------------------------------------------------------- numbering */

#define VM_MSG_LIMIT 9999

/** Highest msgNNNN.txt number in dir, -1 when none (last_message_index). */
int vm_folder_last(const char *dir);
/** How many msgNNNN.txt dir holds (count_messages). */
int vm_folder_count(const char *dir);
/**
 * Message counts for MWI: INBOX, Old and Urgent (Asterisk's inboxcount2;
 * the "new" of a NOTIFY is newmsgs + urgent). Missing folders count 0.
 */
int vm_box_counts(const char *datadir, const char *context, const char *box,
		  int *newmsgs, int *oldmsgs, int *urgent);
/** Delete msgNNNN.* in dir (the .txt first). 0 or errno (ENOENT: none). */
int vm_msg_delete(const char *dir, int msgnum);
/** Close the gaps: renumber dir's messages 0..n-1 in order; returns n or -errno. */
int vm_folder_resequence(const char *dir);
/**
 * Move message msgnum of folder `from` to the next free number of `to`
 * (maxmsg: EDQUOT when `to` is full). The gap left in `from` stays until
 * vm_folder_resequence(). *newnum gets the new number.
 */
int vm_msg_move(const char *datadir, const char *context, const char *box,
		enum vm_folder from, int msgnum, enum vm_folder to, uint32_t maxmsg,
		int *newnum);

/* ---------------------------------------------- recording a message */

struct vm_rec {
	char datadir[PATH_MAX / 2];
	char context[80], box[80];
	char tmpbase[PATH_MAX];   /* BOX/tmp/rec-PID-N: record into tmpbase.EXT */
};

/** Make the box's folders and a fresh tmpbase. 0 or errno. */
int vm_rec_begin(struct vm_rec *r, const char *datadir, const char *context,
		 const char *box);
/** tmpbase.ext into buf (where the audio of format ext is to be written). */
int vm_rec_path(const struct vm_rec *r, const char *ext, char *buf, size_t size);
/**
 * Make the recording a message in folder f: number = last + 1, EDQUOT when
 * that reaches maxmsg, the .txt (m, with origmailbox etc. as given)
 * written to tmp and fsynced, then each tmpbase.EXT for exts[] (NULL-ended;
 * missing ones skipped, at least one needed: else ENOENT) renamed to
 * msgNNNN.EXT and the .txt last. On any failure nothing is left in the
 * folder and tmp is cleaned. *msgnum gets the number.
 */
int vm_rec_commit(struct vm_rec *r, enum vm_folder f, uint32_t maxmsg,
		  const struct vm_msg_info *m, const char *const *exts, int *msgnum);
/** Install tmpbase.ext as dest (a greeting): fsync, rename. 0 or errno. */
int vm_rec_install(struct vm_rec *r, const char *ext, const char *dest);
/** Throw the recording away (hang-up, too short, error). */
void vm_rec_abort(struct vm_rec *r);

/**
 * At start-up: remove what a crash left: files in every BOX/tmp, and
 * msgNNNN.* without their .txt in the folders. Returns files removed.
 */
int vm_spool_clean(const char *datadir);

#endif

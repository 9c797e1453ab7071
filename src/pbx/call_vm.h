/**
 * @file call_vm.h  The voicemail applications (call_vm.c): VoiceMail and
 * VoiceMailMain, as Asterisk's app_voicemail runs them on a call.
 */
#ifndef TANDEM_PBX_CALL_VM_H
#define TANDEM_PBX_CALL_VM_H

#include <stdbool.h>
#include <stddef.h>

struct call;
struct rec;
struct call_play_ops;

/**
 * Register VoiceMail and VoiceMailMain; messages go under
 * datadir/voicemail (copied). Idempotent. Call before a dialplan is
 * built, next to call_apps_init().
 */
void call_vm_init(const char *datadir);

/* VoiceMail's arguments: "box@ctx[&box2...][,options]". */
#define CALL_VM_BOXES 8
struct call_vm_args {
	char boxes[CALL_VM_BOXES][160];   /* "box@context" (context default) */
	size_t nboxes;
	bool unavail, busy, skip;         /* options u, b, s */
};
/** Parse VoiceMail's data; 0 or EINVAL (no mailbox). */
int  call_vm_parse(const char *data, struct call_vm_args *out);

/** Tests: the media ops (NULL: call_play_ops), the recording tap
 * (NULL: the call's relay, leg A; rec NULL stops) and voicemail.conf
 * (NULL: pbx_vmconf()). */
typedef int (call_vm_tap_h)(struct call *c, struct rec *rec);
struct vmconf;
void call_vm_test_hooks(const struct call_play_ops *ops, call_vm_tap_h *tap,
			const struct vmconf *vc);

#endif

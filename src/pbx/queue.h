/**
 * @file queue.h  Call queues as app_queue runs them: queues.conf, the
 * runtime state of each queue, and which members a waiting caller rings.
 *
 * Three layers, each in its file:
 *  - queue.c: queues.conf into an immutable, reference-counted snapshot
 *    (`struct queuesconf`), with FILE:LINE warnings and errors;
 *  - queue_state.c: the live queues (`struct queue_state`): waiting
 *    callers in order, static and dynamic members with their counters,
 *    reload that keeps dynamic members and callers, Asterisk's persistent
 *    member string;
 *  - queue_select.c: queue_select(), a pure function that picks the
 *    members to ring for a strategy;
 *  - queue_ctl.c: `tandemctl queue show|add|remove|pause|unpause`.
 *
 * The call layer drives a queue call as app_queue's queue_exec does:
 * queue_join() -> while !queue_caller_turn(): wait (announcements) ->
 * queue_select() -> ring -> queue_member_ringing() -> answer:
 * queue_caller_connected() ... queue_call_done(); or timeout/hang-up:
 * queue_leave(). It writes queue_log lines (queue_log.h) on the way.
 * All of it runs on the event loop thread.
 */
#ifndef TANDEM_PBX_QUEUE_H
#define TANDEM_PBX_QUEUE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "core/conf.h"

/* ===================================================== queues.conf */

/* app_queue's strategies; "roundrobin" is Asterisk's alias of rrmemory. */
enum queue_strategy {
	QUEUE_RINGALL, QUEUE_LEASTRECENT, QUEUE_FEWESTCALLS, QUEUE_RANDOM,
	QUEUE_RRMEMORY, QUEUE_LINEAR, QUEUE_WRANDOM, QUEUE_RRORDERED
};

/* joinempty= / leavewhenempty= conditions (bits): a member counts as
 * unavailable when one of the set conditions holds for it. */
enum queue_empty {
	QUEUE_EMPTY_PENALTY = 1 << 0,
	QUEUE_EMPTY_PAUSED = 1 << 1,
	QUEUE_EMPTY_INUSE = 1 << 2,
	QUEUE_EMPTY_RINGING = 1 << 3,
	QUEUE_EMPTY_UNAVAILABLE = 1 << 4,
	QUEUE_EMPTY_INVALID = 1 << 5,
	QUEUE_EMPTY_UNKNOWN = 1 << 6,
	QUEUE_EMPTY_WRAPUP = 1 << 7,
};

enum queue_holdtime_ann { QUEUE_HOLDTIME_NO, QUEUE_HOLDTIME_YES, QUEUE_HOLDTIME_ONCE };
enum queue_position_ann { QUEUE_POS_YES, QUEUE_POS_NO, QUEUE_POS_MORE, QUEUE_POS_LIMIT };

#define QUEUE_MAX_PERIODIC 10

/* member => Technology/Resource[,penalty[,membername[,state_interface
 *           [,ringinuse[,wrapuptime[,paused]]]]]] */
struct queue_member_conf {
	char *interface;           /* "SIP/100-tfg" */
	int penalty;
	char *membername;          /* interface when not given */
	char *state_interface;     /* interface when not given */
	int ringinuse;             /* 1/0, -1: the queue's */
	int wrapuptime;            /* s, -1: the queue's */
	bool paused;
	const char *file;
	unsigned line;
};

struct queue_conf {
	const char *name;
	const char *file;
	unsigned line;
	enum queue_strategy strategy;     /* ringall */
	uint32_t timeout;                 /* s to ring a member (15; 0: no limit) */
	uint32_t retry;                   /* s between ring rounds (5) */
	uint32_t wrapuptime;              /* s after a call before the next (0) */
	uint32_t maxlen;                  /* callers, 0: unlimited */
	uint32_t servicelevel;            /* s, statistics (0) */
	int weight;                       /* queues sharing members: higher first */
	uint32_t announce_frequency;      /* s, 0: off */
	uint32_t min_announce_frequency;  /* s (15) */
	uint32_t periodic_announce_frequency;   /* s, 0: off */
	uint32_t announce_position_limit; /* (10) */
	uint32_t announce_round_seconds;  /* 0, 5, 10, 15, 20, 30 */
	uint32_t memberdelay;
	uint32_t penaltymemberslimit;     /* penalties ignored at or below this many */
	unsigned joinempty, leavewhenempty;   /* enum queue_empty bits (0) */
	enum queue_holdtime_ann announce_holdtime;   /* yes */
	enum queue_position_ann announce_position;   /* yes */
	bool ringinuse;                   /* ring members already on a call (yes) */
	bool autofill;                    /* [general] autofill unless set here */
	bool reportholdtime, timeoutrestart, random_periodic_announce;
	bool relative_periodic_announce, announce_to_first_user;
	bool setinterfacevar, setqueuevar, setqueueentryvar;
	bool timeoutpriority_conf;        /* timeoutpriority=conf */
	const char *musicclass;           /* musicclass= / music= / musiconhold= */
	const char *announce;             /* played to the member on answer */
	const char *context;              /* exit context for a digit */
	const char *monitor_format;
	const char *defaultrule;
	const char *periodic_announce[QUEUE_MAX_PERIODIC];
	size_t nperiodic;
	/* prompts (queue-youarenext, ...), defaults as Asterisk's */
	const char *sound_next, *sound_thereare, *sound_calls, *sound_quantity1,
		   *sound_quantity2, *sound_holdtime, *sound_minutes, *sound_minute,
		   *sound_seconds, *sound_thanks, *sound_reporthold, *sound_callerannounce;
	struct queue_member_conf *members;    /* static members, in file order */
	size_t nmembers;
	char *pabuf;                      /* owned: periodic_announce points here */
	const struct conf_section *sec;   /* every option, for FILE:LINE */
};

struct queue_general {
	bool persistentmembers;    /* keep dynamic members in astdb (no) */
	bool autofill;             /* see below */
	bool shared_lastcall;      /* wrapuptime counted across queues */
	bool monitor_mixmonitor;   /* monitor-type=MixMonitor */
	bool updatecdr, negative_penalty_invalid, log_membername_as_agent;
};
/*
 * As Asterisk 13: without a [general] section autofill and shared_lastcall
 * are on (app_queue's initial values); a [general] section resets them to
 * off unless it sets them.
 */

struct queuesconf {
	struct conf *conf;         /* owned (may be NULL) */
	struct queue_general gen;
	struct queue_conf **list;  /* in file order */
	size_t n;
};

/**
 * Build from a loaded queues.conf (owned; NULL: no queues). The result is
 * a mem object (mem.h): queuesconf_free() drops the caller's reference;
 * live queues hold their own. 0, ENOMEM or EINVAL with "FILE:LINE: what
 * is wrong" in err.
 */
int queuesconf_build(struct queuesconf **out, struct conf *conf, char *err,
		     size_t errsize);
void queuesconf_free(struct queuesconf *qc);
/** The queue called name (case-insensitive, as Asterisk), or NULL. */
const struct queue_conf *queuesconf_find(const struct queuesconf *qc, const char *name);
const char *queue_strategy_name(enum queue_strategy s);
struct mohconf;
/**
 * Warn (FILE:LINE) about each queue whose musicclass= names no class of
 * musiconhold.conf (callers then hear "default", as in Asterisk); for
 * config loading, once both files are read. Returns how many.
 */
int queuesconf_check_moh(const struct queuesconf *qc, const struct mohconf *mc);
/** 0 or EINVAL. */
int queue_strategy_parse(const char *s, enum queue_strategy *out);
/**
 * joinempty/leavewhenempty value: a comma list of paused, penalty, inuse,
 * ringing, unavailable, invalid, unknown, wrapup, or the old words
 * yes/no/strict/loose (whose meaning differs between the two options).
 * 0, or EINVAL with the first unknown word copied to bad.
 */
int queue_empty_parse(const char *value, bool joinempty, unsigned *out, char *bad,
		      size_t badsize);

/* ===================================================== live state */

/* A member's device state, as Asterisk's devicestate. */
enum queue_dev {
	QUEUE_DEV_UNKNOWN, QUEUE_DEV_NOT_INUSE, QUEUE_DEV_INUSE, QUEUE_DEV_BUSY,
	QUEUE_DEV_INVALID, QUEUE_DEV_UNAVAILABLE, QUEUE_DEV_RINGING,
	QUEUE_DEV_RINGINUSE, QUEUE_DEV_ONHOLD
};
const char *queue_dev_name(enum queue_dev d);

struct queue_member {
	char *interface;           /* what is dialled, "SIP/100-tfg" */
	char *membername;
	char *state_interface;     /* whose device state counts */
	int penalty;
	bool dynamic;              /* added at run time (AddQueueMember, ctl) */
	bool paused;
	char *paused_reason;
	bool ringinuse;
	int wrapuptime;            /* -1: the queue's */
	enum queue_dev status;
	bool ringing;              /* being rung by this PBX for some caller */
	bool in_call;              /* connected to a caller from a queue */
	unsigned calls;            /* calls completed from this queue */
	time_t lastcall;           /* end of the last one, 0: none */
	unsigned queuepos;         /* order for linear/rrmemory/rrordered */
	bool seen;                 /* reload bookkeeping */
};

struct queue_caller {
	char *id;                  /* the caller channel's uniqueid */
	char *cidnum, *cidname;
	int prio;                  /* QUEUE_PRIO: higher waits less */
	int pos;                   /* 1-based position now */
	int opos;                  /* position when it joined */
	time_t start;              /* when it joined */
	time_t expire;             /* Queue()'s timeout, 0: none */
	int max_penalty, min_penalty;   /* INT_MAX: none (QUEUE_MAX_PENALTY...) */
	bool pending;              /* ringing members for it now */
	unsigned linpos;           /* linear strategy: next member position */
	bool linwrapped;
	struct queue *q;           /* the queue it waits in */
	void *arg;                 /* the call layer's */
};

struct queue {
	char *name;
	struct queuesconf *snap;   /* reference held while the queue lives */
	const struct queue_conf *cf;
	bool dead;                 /* removed from queues.conf, callers remain */
	bool seen_reload;          /* reload bookkeeping */
	struct queue_member **members;
	size_t nmembers;
	struct queue_caller **callers;   /* in queue order */
	size_t ncallers;
	unsigned rrpos;            /* rrmemory/rrordered: next position */
	bool rrwrapped;
	/* statistics, as app_queue */
	unsigned completed, abandoned, completed_in_sl, abandoned_in_sl;
	int holdtime, talktime;    /* exponential averages, s */
};

/** Called with a queue's persistent member string after each change of its
 * dynamic members (value NULL: delete the key), when persistentmembers=yes.
 * Asterisk keeps it in astdb family "Queue/PersistentMembers", key QUEUE. */
typedef void (queue_persist_h)(const char *queue, const char *value, void *arg);

struct queue_state {
	struct queuesconf *cf;     /* current snapshot (reference) */
	struct queue **queues;
	size_t n;
	queue_persist_h *persist_h;
	void *persist_arg;
};

/** New state on a snapshot (takes a reference on cf). 0 or ENOMEM. */
int queue_state_new(struct queue_state **out, struct queuesconf *cf);
void queue_state_free(struct queue_state *qs);
/**
 * Switch to a new snapshot: queues are matched by name; a kept queue
 * keeps its callers, dynamic members, counters and rrmemory position;
 * static members come from the new file (counters and pause kept for
 * those still listed). A queue gone from the file with callers waiting
 * stays, dead, until the last one leaves. 0 or ENOMEM (then the queues
 * handled before the failure are on the new snapshot, the rest on the old).
 */
int queue_state_reload(struct queue_state *qs, struct queuesconf *cf);
void queue_state_set_persist(struct queue_state *qs, queue_persist_h *h, void *arg);
/** The live queue called name (not dead ones), or NULL. */
struct queue *queue_find(const struct queue_state *qs, const char *name);
struct queue_member *queue_member_find(const struct queue *q, const char *interface);

enum queue_join_result { QUEUE_JOINED, QUEUE_FULL, QUEUE_JOINEMPTY, QUEUE_NOSUCHQUEUE };
const char *queue_join_result_name(enum queue_join_result r);

/** Parameters of Queue() for one caller. */
struct queue_join_args {
	const char *id, *cidnum, *cidname;
	int prio;                  /* 0 */
	int position;              /* Queue()'s position, 0: none */
	uint32_t timeout;          /* Queue()'s timeout in s, 0: none */
	int max_penalty, min_penalty;   /* INT_MAX: none */
	void *arg;
};

/**
 * Join as app_queue's join_queue: FULL when maxlen callers wait; JOINEMPTY
 * when joinempty is set and no member is available under it; otherwise
 * inserted after callers of higher or equal priority (or at position),
 * *out set. ENOMEM only on allocation failure.
 */
int queue_join(struct queue_state *qs, const char *name, const struct queue_join_args *a,
	       time_t now, struct queue_caller **out, enum queue_join_result *res);

enum queue_leave_reason {
	QUEUE_LEFT_CONNECTED,   /* answered by a member */
	QUEUE_LEFT_ABANDON,     /* hung up while waiting */
	QUEUE_LEFT_TIMEOUT,     /* Queue()'s timeout */
	QUEUE_LEFT_EMPTY,       /* leavewhenempty */
	QUEUE_LEFT_KEY,         /* a digit of the queue's context */
};
/** Leave the queue (the caller is freed); positions behind move up;
 * abandon/timeout/empty count as abandoned (record_abandoned). */
void queue_leave(struct queue_state *qs, struct queue_caller *c,
		 enum queue_leave_reason why, time_t now);
/** Is it c's turn to ring members (is_our_turn: head caller, or with
 * autofill one of the first N callers where N members are available)? */
bool queue_caller_turn(const struct queue_state *qs, const struct queue_caller *c,
		       time_t now);
/** Are members available under leavewhenempty (false: c should leave)? */
bool queue_caller_may_stay(const struct queue_state *qs, const struct queue_caller *c,
			   time_t now);

/* ------------------------------------------------------- selection */

#define QUEUE_PICK_MAX 256   /* larger queues: the first 256 ringable members */

struct queue_pick {
	struct queue_member *m;
	int64_t metric;            /* app_queue's calc_metric(): lower first */
};

struct queue_selection {
	struct queue_pick cand[QUEUE_PICK_MAX];   /* every ringable member, best first */
	size_t ncand;
	size_t nring;              /* ring cand[0..nring-1] now (ringall: all
				      sharing the best metric; else 1) */
	unsigned next_rrpos;       /* for queue_selection_commit() */
	bool next_rrwrapped;
	unsigned next_linpos;
	bool next_linwrapped;
};

/** Skip hook: true leaves m out (e.g. already tried in this round). */
typedef bool (queue_skip_h)(const struct queue_member *m, void *arg);

/**
 * Which members of c's queue to ring at time now, without changing
 * anything: eligibility as app_queue's can_ring_entry() (not paused; not
 * in use/ringing unless ringinuse; device not unavailable/invalid;
 * wrapuptime since lastcall passed; penalty within c's min/max unless the
 * queue has at most penaltymemberslimit members; a queue of higher weight
 * with callers has the member first) and metrics per strategy as
 * calc_metric(). seed drives random/wrandom. Ties keep member order.
 */
void queue_select(const struct queue_state *qs, const struct queue_caller *c, time_t now,
		  uint32_t seed, queue_skip_h *skip, void *skip_arg,
		  struct queue_selection *sel);
/** After ringing sel's choice: store the rrmemory/linear position for the
 * next round (store_next_rr / store_next_lin). */
void queue_selection_commit(struct queue_caller *c, const struct queue_selection *sel);

/* ------------------------------------------------------- members */

/** AddQueueMember: 0, ENOENT (no such queue), EEXIST (already a member). */
int queue_member_add(struct queue_state *qs, const char *queue, const char *interface,
		     int penalty, bool paused, const char *membername,
		     const char *state_interface);
/** RemoveQueueMember: 0, ENOENT (queue), ESRCH (not a member), EPERM (static). */
int queue_member_remove(struct queue_state *qs, const char *queue, const char *interface);
/** (Un)PauseQueueMember; queue NULL or "": every queue. 0 or ESRCH. */
int queue_member_pause(struct queue_state *qs, const char *queue, const char *interface,
		       bool paused, const char *reason);
/** Device state of state_interface changed: update every member using it. */
void queue_device_state(struct queue_state *qs, const char *state_interface,
			enum queue_dev st);
/** This PBX started/stopped ringing interface for a queue caller. */
void queue_member_ringing(struct queue_state *qs, const char *interface, bool ringing);
/** c was answered by m: c leaves (CONNECTED), holdtime is averaged, m is
 * in a call (in every queue with shared_lastcall). */
void queue_caller_connected(struct queue_state *qs, struct queue_caller *c,
			    struct queue_member *m, time_t now);
/** The call m took from queue q ended after talktime s: m's calls and
 * lastcall (wrapuptime starts), the queue's completed counters. */
void queue_call_done(struct queue_state *qs, const char *queue, const char *interface,
		     long holdtime, long talktime, time_t now);

/* ------------------------------------------------- persistence */

/**
 * A queue's dynamic members in Asterisk's persistent format:
 * "interface;penalty;paused;membername;state_interface" joined by '|'
 * (app_queue dump_queue_members). Returns a malloc'd string, "" when the
 * queue has none, NULL when out of memory.
 */
char *queue_persist_dump(const struct queue *q);
/**
 * Add the members of such a string (as reload_queue_members: ',' or '|'
 * between members, later fields optional, extra fields ignored) to queue
 * name as dynamic members. Returns how many were added, or -errno
 * (-ENOENT: no such queue; -EINVAL: malformed, members before it kept).
 */
int queue_persist_load(struct queue_state *qs, const char *queue, const char *value);

/* ------------------------------------------------------------ ctl */

/** JSON of one queue or of all (name NULL); NULL when no such queue. */
json_t *queue_state_json(const struct queue_state *qs, const char *name, time_t now);

/** The state the daemon runs (for the ctl command and applications). */
void queue_state_set_current(struct queue_state *qs);
struct queue_state *queue_state_current(void);
/**
 * Keep qs's dynamic members in Asterisk's DB (queue_store.c): save every
 * change and, with persistentmembers=yes, restore the saved ones now.
 * 0 or the astdb error of the restore.
 */
int queue_store_attach(struct queue_state *qs);
/** Cluster standby: queue's dynamic members become those of value (the
 * persistent format; NULL: none), not written back. Always 0. */
int queue_store_apply(const char *queue, const char *value);
/** Cluster standby after a full resync: every queue's dynamic members
 * read again from the DB. Always 0 (failures logged). */
int queue_store_reload(void);

/**
 * tandemctl queue ... (ctl_cmd_h):
 *   show [QUEUE]
 *   add QUEUE INTERFACE [PENALTY [MEMBERNAME [STATE_INTERFACE]]]
 *   remove QUEUE INTERFACE
 *   pause|unpause QUEUE|--all INTERFACE [REASON]
 * Asterisk's CLI word order is accepted too ("add member IF to Q [penalty
 * N [as NAME [state_interface SI]]]", "remove member IF from Q",
 * "pause member IF [queue Q] [reason R]"). Changes write queue_log lines
 * with callid CLI, as Asterisk's CLI does.
 */
json_t *queue_ctl_cmd(json_t *args, char *err, size_t errsize);
/** tandemctl's text output for the data of queue_ctl_cmd(). */
void queue_print(FILE *f, const json_t *data);

#endif

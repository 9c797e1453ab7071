/**
 * @file rtp.h  The RTP relay: every call's media passes through two pairs
 * of UDP sockets (directmedia=no), one pair per leg, served by the loop.
 *
 * rtp.c's top comment has the rules: port allocation, latching (comedia
 * and strict source checks), payload type and G.711 translation, sequence
 * and timestamp continuity across re-INVITEs, hold, RTCP, timeouts.
 * rtp_local.c's has the media Tandem makes or takes itself on a leg:
 * players (prompts, music) fed by one shared ticker, DTMF in and out,
 * recording (docs/design/media.md).
 */
#ifndef TANDEM_RTP_H
#define TANDEM_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/dtmf.h"
#include "media/sdp.h"

struct conf;
struct player;
struct mixmon;
struct rec;
struct rtp_relay;

#define RTP_PORT_START 5000         /* rtp.conf defaults, as Asterisk */
#define RTP_PORT_END   31000
#define RTP_RELATCH_MS 5000         /* silence after which a new source may latch */

/**
 * Read rtp.conf [general] rtpstart/rtpend (NULL: defaults 5000-31000) and
 * set up the port pool. Ports are even for RTP, +1 for RTCP. Asterisk's
 * clamping: start >= 1024, end <= 65535, a start past end gets defaults.
 * Returns 0 or ENOMEM. Must be called after loop_init().
 */
int  rtp_init(const struct conf *rtp_conf);
/** Free every relay still open and the pool. */
void rtp_close(void);
/** RTP ports (pairs) currently bound by relays: 0 when nothing leaked. */
size_t rtp_ports_in_use(void);
/** Port pairs in the pool. */
size_t rtp_ports_total(void);
/** Relays currently allocated. */
size_t rtp_relay_count(void);

/** Totals since start over every relay and local stream (/metrics): RTP
 * packets received and sent, and the estimated lost ones (sequence gaps;
 * a packet that arrives late is not taken back here). */
struct rtp_totals { uint64_t rx_pkts, tx_pkts, lost; };
const struct rtp_totals *rtp_totals(void);

enum rtp_leg_id { RTP_LEG_A = 0, RTP_LEG_B = 1 };

/** What the call layer learnt from one leg's SDP. */
struct rtp_leg_conf {
	struct sockaddr_storage rtp, rtcp;  /* remote addresses; AF_UNSPEC: none yet */
	bool comedia;          /* send to where packets come from (NAT) */
	struct sdp_pt pts[SDP_FMT_MAX];     /* PT -> codec on this leg, telephone-event
					     * included; empty: PTs passed unchanged */
	size_t npts;
	enum sdp_dir dir;      /* direction the remote party declared */
};

struct rtp_leg_stats {
	uint64_t rx_pkts, rx_bytes;   /* valid RTP received on this leg */
	uint64_t tx_pkts, tx_bytes;   /* RTP sent to this leg */
	uint64_t rx_bad;              /* short, not version 2, truncated */
	uint64_t rx_foreign;          /* from a source other than the latched one */
	uint64_t rx_dropped;          /* PT not negotiated, or other leg on hold */
	uint64_t rtcp_rx, rtcp_tx, rtcp_bad;
	uint64_t lost;                /* estimate from sequence gaps (RFC 3550 A.3) */
	uint64_t transcoded;          /* packets from this leg translated */
	uint64_t restarts;            /* source changes seen (new SSRC, seq jump) */
	uint64_t last_rx;             /* loop_now() of the last valid RTP, 0 none */
	uint64_t rx_muted;            /* not relayed: the other leg heard a local
				       * source, or our DTMF was kept local */
	uint64_t tx_local;            /* packets generated here toward this leg
				       * (prompts, music, silence, DTMF) */
	uint64_t dtmf_rx;             /* digits received on this leg (ends) */
};

/** Called once when a leg sent no RTP for the timeout; may free the relay. */
typedef void (rtp_timeout_h)(struct rtp_relay *r, enum rtp_leg_id leg, void *arg);

/**
 * Allocate a relay: for each leg an RTP and an RTCP socket on the given
 * local IP (port ignored), bound to a free even/odd port pair from the
 * pool, and watched by the loop. EADDRINUSE when the pool is exhausted,
 * or an errno from socket/bind.
 */
int  rtp_relay_alloc(struct rtp_relay **rp, const struct sockaddr_storage *local_a,
		     const struct sockaddr_storage *local_b);
/**
 * As rtp_relay_alloc, on the ports local_a and local_b name (a restored
 * call keeps its ports, docs/design/cluster.md 9), bound with IP_FREEBIND
 * (the address may arrive a moment later). ERANGE for a port outside the
 * pool or odd, EADDRINUSE when taken.
 */
int  rtp_relay_alloc_at(struct rtp_relay **rp, const struct sockaddr_storage *local_a,
			const struct sockaddr_storage *local_b);

/** What a standby needs to take over one leg of a relay (rtp_snap.c). */
struct rtp_leg_snap {
	struct sockaddr_storage local;       /* address and port */
	struct rtp_leg_conf conf;
	struct sockaddr_storage src_rtp, src_rtcp;   /* latched sources */
	bool latched, rtcp_latched;
	uint32_t out_ssrc;                   /* the stream we send toward the leg */
	bool out_init;
	uint16_t out_seq;
	uint32_t out_ts;
	int64_t out_wall_ms;                 /* wall clock of out_seq/out_ts, 0 none */
	int64_t rx_wall_ms;                  /* silent: wall clock its rtptimeout counts
						from, 0 when it sends (or is not watched) */
};
#define RTP_SILENT_MS 2000
/** The state of leg, with the wall clock now for its last packet sent; a
 *  leg watched by rtp_relay_timeout() and silent for RTP_SILENT_MS or more
 *  gets rx_wall_ms, when its silence started (its last packet, or the
 *  timeout's arming). */
void rtp_relay_snap(const struct rtp_relay *r, enum rtp_leg_id leg, struct rtp_leg_snap *s);
/**
 * A relay from two leg snapshots: the same ports (rtp_relay_alloc_at),
 * the SDP configuration, the latched sources as destinations (latching
 * open again), each leg's SSRC kept and its sequence and timestamp
 * carried forward by the wall time elapsed (20 ms packets), marker set:
 * the phones see a short loss, not a new stream (RFC 3550 5.1). 0 or errno.
 */
int  rtp_relay_restore(struct rtp_relay **rp, const struct rtp_leg_snap s[2]);

/** Close the four sockets and return the ports. NULL-safe; returns NULL. */
struct rtp_relay *rtp_relay_free(struct rtp_relay *r);
/** Local RTP port of leg (for our SDP); RTCP is this + 1. */
uint16_t rtp_relay_port(const struct rtp_relay *r, enum rtp_leg_id leg);
/** Local RTP address (IP and port) of leg. */
void rtp_relay_local(const struct rtp_relay *r, enum rtp_leg_id leg,
		     struct sockaddr_storage *out);
/**
 * Set (or change, on a re-INVITE) what leg's SDP said. Resets latching on
 * that leg, so the first packet after it may come from a new address, and
 * re-derives PT translation both ways. EINVAL for a bad PT list.
 */
int  rtp_relay_leg_set(struct rtp_relay *r, enum rtp_leg_id leg,
		       const struct rtp_leg_conf *c);
/**
 * Call h when a leg that is expected to send (declared sendrecv or
 * sendonly) sent no RTP for more than secs seconds (counted from this call
 * or its last packet). secs 0 disarms. Legs on hold (recvonly/inactive)
 * are not watched.
 */
void rtp_relay_timeout(struct rtp_relay *r, uint32_t secs, rtp_timeout_h *h, void *arg);
/**
 * A restored relay whose legs were already silent for silent_ms before it
 * was built: the armed timeout counts from then (not from now), and fires
 * no sooner than floor_ms from now (a deadline already past). Nothing when
 * no timeout is armed.
 */
void rtp_relay_timeout_since(struct rtp_relay *r, uint64_t silent_ms, uint64_t floor_ms);
const struct rtp_leg_stats *rtp_relay_stats(const struct rtp_relay *r, enum rtp_leg_id leg);
/** Remote RTP address packets go to on leg (latched or from SDP); false if none. */
bool rtp_relay_remote(const struct rtp_relay *r, enum rtp_leg_id leg,
		      struct sockaddr_storage *out);

/* ----------------------------------------------------------------
 * Local media: prompts, music, DTMF and recording on a leg (rtp_local.c)
 * ---------------------------------------------------------------- */

#define RTP_TICK_MS        20       /* one shared ticker for every local stream */
#define RTP_DTMF_MS        100      /* default digit length we send */
#define RTP_DTMF_QUEUE     32       /* digits waiting to be sent per leg */

/**
 * A digit from leg: RFC 4733 telephone-event packets, or in-band tones
 * when enabled. DTMF_BEGIN (ms 0) when it starts, DTMF_END with its
 * length once when it ends. Called after the batch of packets that
 * carried it; the handler may free the relay.
 */
typedef void (rtp_dtmf_h)(struct rtp_relay *r, enum rtp_leg_id leg, char digit,
			  enum dtmf_ev ev, uint32_t ms, void *arg);

/**
 * Feed leg from player p (referenced) instead of the other leg: every
 * RTP_TICK_MS one PLAY_FRAME frame of p, encoded in the leg's first
 * negotiated G.711 law (PCMU/0 when the leg has no PT list), silence
 * while p's queue is empty; sent only while the leg receives (sendrecv or
 * recvonly). p NULL switches back to relaying the other leg. The leg
 * sees one stream throughout: same SSRC, sequence and timestamp
 * continuing, marker bit at each switch. A player feeds one leg: each
 * leg it feeds reads its own frame per tick (use one player per leg).
 * ENOTSUP when the leg negotiated neither PCMA nor PCMU (nothing
 * changes), EINVAL.
 */
int  rtp_relay_feed(struct rtp_relay *r, enum rtp_leg_id leg, struct player *p);
/** The player feeding leg, or NULL. */
struct player *rtp_relay_feeder(const struct rtp_relay *r, enum rtp_leg_id leg);
/** Report digits from both legs to h (NULL stops). */
void rtp_relay_dtmf_handler(struct rtp_relay *r, rtp_dtmf_h *h, void *arg);
/**
 * Also detect in-band DTMF tones in the G.711 audio leg sends (spandsp
 * dtmf_rx), for peers without telephone-event (dtmfmode=inband). Enable
 * it only for such legs, or a key is reported twice. ENOMEM.
 */
int  rtp_relay_dtmf_inband(struct rtp_relay *r, enum rtp_leg_id leg, bool on);
/**
 * Whether leg's telephone-event packets still go to the other leg after
 * being decoded (default yes; no while an IVR or a feature code reads
 * the keys).
 */
void rtp_relay_dtmf_relay(struct rtp_relay *r, enum rtp_leg_id leg, bool relay);
/**
 * Send digits ("0-9*#A-D") to leg as RFC 4733 events, each ms long (0:
 * RTP_DTMF_MS; 40 to 5000), queued behind digits not yet sent. Audio
 * toward the leg pauses during each event. ENOTSUP when the leg did not
 * negotiate telephone-event, EINVAL for another character (nothing
 * queued), ENOSPC past RTP_DTMF_QUEUE digits waiting.
 */
int  rtp_relay_dtmf_send(struct rtp_relay *r, enum rtp_leg_id leg, const char *digits,
			 uint32_t ms);
/**
 * Record the audio leg sends (what its phone says), decoded from G.711,
 * into rec (referenced), gaps in its timestamps filled with silence (up
 * to 5 s each). NULL stops; the caller then calls rec_finish() or drops
 * the recording. Other codecs are not recorded.
 */
int  rtp_relay_record(struct rtp_relay *r, enum rtp_leg_id leg, struct rec *rec);
#define RTP_MON_SLOTS 2     /* recordings of both legs at once (MixMonitor, Monitor) */
/**
 * Feed what both legs send, decoded from G.711, to m (mixmon.h;
 * referenced) in slot (0 .. RTP_MON_SLOTS-1); NULL stops, and the
 * caller then finishes m. EINVAL.
 */
int  rtp_relay_monitor(struct rtp_relay *r, unsigned slot, struct mixmon *m);
/** Legs currently served by the ticker (fed or sending DTMF). */
size_t rtp_local_legs(void);

/** Tests only: move the relay's clock ms further ahead of loop_now(). */
void rtp_test_clock_skew(int64_t ms);

#endif

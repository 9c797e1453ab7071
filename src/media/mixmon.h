/**
 * @file mixmon.h  A two-party recording: what each leg of a relay sends,
 * placed on one timeline and written mixed (MixMonitor, Monitor's m)
 * and/or one file per leg (MixMonitor's r/t, Monitor without m).
 *
 * Leg A's audio is the channel's "read" side (what the caller says, the
 * -in file of Monitor), leg B's the "write" side (what the caller hears
 * from the other party, -out). Each leg's packets are placed by their
 * RTP timestamps, the first packet of a stream at the time it arrived;
 * the files are written about half a second behind real time, so that a
 * late packet still finds its place. The files' length is the time the
 * recording was active: silence where nobody sent anything.
 */
#ifndef TANDEM_MIXMON_H
#define TANDEM_MIXMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rec;
struct mixmon;

/**
 * A recording into mix (both legs mixed) and side[0]/side[1] (leg A, leg
 * B alone); each may be NULL, not all. The recs are referenced. vol[i]
 * is Asterisk's MixMonitor volume (-4..4: leg i's samples multiplied by
 * 2^vol, or divided for a negative one). active false: nothing is
 * recorded until mixmon_active(). The timeline starts at now (ms).
 */
int  mixmon_alloc(struct mixmon **mp, struct rec *mix, struct rec *side_a,
		  struct rec *side_b, const int vol[2], bool active, uint64_t now);
/** Decoded audio (n samples at RTP timestamp ts) that leg side sent. */
void mixmon_put(struct mixmon *m, int side, uint32_t ts, bool restart,
		const int16_t *pcm, size_t n, uint64_t now);
/** Start or stop recording (MixMonitor's b: only while bridged). */
void mixmon_active(struct mixmon *m, bool on, uint64_t now);
/**
 * Write what is buffered (up to now), close and rename the files. 0 or
 * the first error (a full disk): then no file of the recording is left.
 * Later puts are ignored.
 */
int  mixmon_finish(struct mixmon *m, uint64_t now);
/** Samples written to the files so far. */
uint64_t mixmon_samples(const struct mixmon *m);

#endif

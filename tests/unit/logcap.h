/**
 * @file logcap.h  What the code under test logs, captured for the unit
 * tests that check warnings (FILE:LINE messages of the config readers).
 */
#ifndef TANDEM_TEST_LOGCAP_H
#define TANDEM_TEST_LOGCAP_H

/** Send the log (INFO and above) to a temporary file; asserts on failure. */
void logcap_start(void);
/** Stop capturing, restore the log; the text logged meanwhile (free it). */
char *logcap_end(void);
/** How many times needle occurs in hay. */
int logcap_count(const char *hay, const char *needle);

#endif

/**
 * @file crc32c.h  CRC-32C (Castagnoli, RFC 3720 B.4), the checksum of
 * journal entries and segment headers.
 */
#ifndef TANDEM_HA_CRC32C_H
#define TANDEM_HA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/**
 * Continue crc over len bytes at p; start with crc = 0. Uses the SSE4.2
 * instruction when the CPU has it, a slicing-by-8 table otherwise.
 * crc32c("123456789") = 0xe3069283.
 */
uint32_t crc32c(uint32_t crc, const void *p, size_t len);
/** The same with the table only (tests compare it with the hardware path). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t len);

#endif

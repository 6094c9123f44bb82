/* SPDX-License-Identifier: MIT */
/*
 * nvmeta: NVMe metadata passthrough over io_uring.
 *
 * This header includes the five headers of the API, by concern:
 *   <nvmeta/core.h>   errors, version, devices, commands, status, rings
 *   <nvmeta/buf.h>    buffers, slots and path prediction
 *   <nvmeta/check.h>  kprobe observation and the copy-back checker
 *   <nvmeta/pi.h>     protection information and its CRCs
 *   <nvmeta/rw.h>     the attribute road: read/write with PI on the block device
 *
 * Every function that can fail returns 0 (or a non-negative count) on
 * success and a negative errno on failure.  On failure a message naming
 * what went wrong is kept per thread; nvmeta_last_error() returns it.
 *
 * Threads.  What may be shared:
 *   - a device (struct nvmeta_dev): yes, by any number of threads that
 *     validate, prepare and queue commands on it, each on its own ring.
 *     nvmeta_dev_refresh(), nvmeta_dev_watch() and nvmeta_dev_close() need
 *     the device to themselves: no other thread may use it meanwhile.
 *   - a ring (struct io_uring): no.  A ring belongs to one thread at a
 *     time; it may be handed over, never used by two at once (liburing's
 *     rings have no locks: SQEs get lost and completions go to the wrong
 *     caller).  Builds with NVMETA_DEBUG abort when two threads are inside
 *     nvmeta calls on one ring at once.
 *   - slots (struct nvmeta_slots): yes, read-only after creation; each slot
 *     belongs to one command in flight.
 *   - a buffer (struct nvmeta_buf): one command in flight at a time, and
 *     freed only after its completion was reaped.
 *   - a kprobe observation (struct nvmeta_kpath): one thread; its counts
 *     are machine-wide.
 * The library keeps no mutable global state apart from the per-thread
 * error message (and, with NVMETA_DEBUG, the table of busy rings).
 */
#ifndef NVMETA_H
#define NVMETA_H

#include <nvmeta/core.h>
#include <nvmeta/buf.h>
#include <nvmeta/check.h>
#include <nvmeta/pi.h>
#include <nvmeta/rw.h>

#endif /* NVMETA_H */

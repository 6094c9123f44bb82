/* SPDX-License-Identifier: MIT */
/*
 * nvmeta: NVMe metadata passthrough over io_uring.
 *
 * libnvmeta, the application library (pkg-config nvmeta).  This header
 * includes the four headers of its API, by concern:
 *   <nvmeta/core.h>   errors, version, devices, commands, status, rings
 *   <nvmeta/buf.h>    buffers, slots and path prediction
 *   <nvmeta/pi.h>     protection information and its CRCs
 *   <nvmeta/rw.h>     the attribute road: read/write with PI on the block device
 * The kernel tester's checker is a library of its own on top of this one:
 * <nvmeta-check.h>, libnvmeta-check (pkg-config nvmeta-check).
 *
 * Nothing hidden: the library starts no thread, installs no signal
 * handler, sets no timer and writes no tracefs file.  A format change
 * under an open device is found by nvmeta_dev_check(), when the
 * application calls it (see there for the window that leaves).
 *
 * Every function that can fail returns 0 (or a non-negative count) on
 * success and a negative errno on failure.  On failure a message naming
 * what went wrong is kept per thread; nvmeta_last_error() returns it.
 *
 * Threads.  What may be shared:
 *   - a device (struct nvmeta_dev): yes, by any number of threads that
 *     validate, prepare and queue commands on it, each on its own ring.
 *     nvmeta_dev_refresh() and nvmeta_dev_close() need
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
 * The library keeps no mutable global state apart from the per-thread
 * error message, the table of its own commands in flight on each ring
 * (lib/tags.c: made by nvmeta_ring_init()/nvmeta_ring_setup(), found by
 * the ring's descriptor, freed by nvmeta_ring_exit()) and, with
 * NVMETA_DEBUG, the table of busy rings; besides, two caches are filled
 * once a process and never change after: the short names of NVMe
 * statuses (nvmeta_status_name()) and the CRC64 implementation chosen
 * for this CPU (nvmeta_crc64_impl()).
 */
#ifndef NVMETA_H
#define NVMETA_H

#include <nvmeta/core.h>
#include <nvmeta/buf.h>
#include <nvmeta/pi.h>
#include <nvmeta/rw.h>

#endif /* NVMETA_H */

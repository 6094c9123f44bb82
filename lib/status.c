// SPDX-License-Identifier: MIT
/*
 * Decoding the 32-byte CQEs of passthrough commands, and naming NVMe
 * statuses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/util.h>
#include "internal.h"

/*
 * The kernel hands back nvme_req(req)->status: the CQE status field
 * without its phase bit.  SC is bits 7:0, SCT 10:8, More 13, DNR 14.
 */
int nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st)
{
	memset(st, 0, sizeof(*st));
	st->result = cqe->big_cqe[0];
	if (cqe->res < 0) {
		st->err = cqe->res;
		return nvmeta_fail(cqe->res, "command failed in the kernel: %s",
				   strerror(-cqe->res));
	}
	st->status = cqe->res & 0x7ff;
	st->sc = cqe->res & 0xff;
	st->sct = (cqe->res >> 8) & 0x7;
	st->more = cqe->res & (1 << 13);
	st->dnr = cqe->res & (1 << 14);
	if (!st->status)
		return 0;
	return nvmeta_fail(-EIO, "NVMe status 0x%03x (%s)%s", st->status,
			   nvmeta_status_name(st), st->dnr ? ", do not retry" : "");
}

/*
 * Names come from libnvme's nvme_status_to_string(), which returns
 * constant "Name: description" strings ("Write Fault: The write data could
 * not be committed to the media") and ignores the DNR and More bits.  We
 * keep the name part: the tools print it on one line next to the code.
 * The short names are cut once, for every 11-bit status, into one block
 * that lives as long as the process, so each name is a stable string any
 * thread may hold.
 */
#define STATUS_COUNT 0x800

static const char *short_names[STATUS_COUNT];
static pthread_once_t short_names_once = PTHREAD_ONCE_INIT;

/*
 * libnvme 1.3 has a sentence where a name belongs for these
 * command-specific statuses (I/O command sets, which identify and set
 * features may return, and discovery); the names are NVMe 2.0's.  Its
 * other gaps (the NVM command set's Copy codes 0x185 and above, reserved
 * codes) read "Unknown".
 */
static const struct {
	uint16_t status;
	const char *name;
} own_names[] = {
	{ 0x129, "I/O Command Set Not Supported" },
	{ 0x12a, "I/O Command Set Not Enabled" },
	{ 0x12b, "I/O Command Set Combination Rejected" },
	{ 0x12c, "Invalid I/O Command Set" },
	{ 0x12f, "Invalid Discovery Information" },
	{ 0x130, "Zoning Data Structure Locked" },
	{ 0x131, "Zoning Data Structure Not Found" },
	{ 0x132, "Insufficient Discovery Resources" },
	{ 0x133, "Requested Function Disabled" },
	{ 0x134, "ZoneGroup Originator Invalid" },
};

static const char *own_name(uint16_t status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own_names); i++)
		if (own_names[i].status == status)
			return own_names[i].name;
	return NULL;
}

/*
 * libnvme 1.3 says "unrecognized" for a code its tables lack and
 * "Unknown status" for SCT 4 to 6; we promise "Unknown" for both.
 * fabrics is false: the library never sends a fabrics command, the only
 * kind whose command-specific codes mean something else.
 */
static const char *libnvme_name(uint16_t status, size_t *len)
{
	const char *s = nvme_status_to_string(status, false);
	const char *colon;

	if (!s || !strcmp(s, "unrecognized") || !strcmp(s, "Unknown status"))
		s = "Unknown";
	colon = strstr(s, ": ");
	*len = colon ? (size_t)(colon - s) : strlen(s);
	return s;
}

static void cut_short_names(void)
{
	size_t len, total = 0;
	const char *s;
	char *block, *p;
	uint16_t i;

	for (i = 0; i < STATUS_COUNT; i++) {
		s = libnvme_name(i, &len);
		if (s[len])
			total += len + 1;
	}
	/* Without memory the full strings stand in: longer, still right. */
	block = malloc(total);
	for (i = 0, p = block; i < STATUS_COUNT; i++) {
		s = own_name(i);
		if (s) {
			short_names[i] = s;
			continue;
		}
		s = libnvme_name(i, &len);
		if (!block || !s[len]) {
			short_names[i] = s;
			continue;
		}
		memcpy(p, s, len);
		p[len] = '\0';
		short_names[i] = p;
		p += len + 1;
	}
}

const char *nvmeta_status_name(const struct nvmeta_status *st)
{
	pthread_once(&short_names_once, cut_short_names);
	return short_names[st->status & (STATUS_COUNT - 1)];
}

// SPDX-License-Identifier: MIT
/*
 * Decoding the 32-byte CQEs of passthrough commands, and naming NVMe
 * statuses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/util.h>
#include "internal.h"
#include "complete.h"

/*
 * The kernel hands back nvme_req(req)->status: the CQE status field
 * without its phase bit.  SC is bits 7:0, SCT 10:8, More 13, DNR 14.
 */
int nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st)
{
	int ret = nvmeta_status_fill(cqe, st);

	if (!ret)
		return 0;
	if (st->err)
		return nvmeta_fail(ret, "command failed in the kernel: %s", strerror(-ret));
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

/*
 * End-to-end statuses in words, with what the format expects.  The
 * device names the field but not the block: a read brought back with
 * NVMETA_IO_PI_VERIFY (host verification) names every bad block.
 */
#define SC_GUARD	0x282
#define SC_APP		0x283
#define SC_REF		0x284
#define SC_STORAGE	0x288
#define SC_INVALID_PI	0x181

static const char *guard_crc(const struct nvmeta_pi_format *f)
{
	return f->guard_bits == 64 ? "CRC-64 NVMe" : f->guard_bits == 32 ? "CRC-32C" :
	       "CRC-16 T10-DIF";
}

static unsigned int space_bits(const struct nvmeta_pi_format *f)
{
	return nvmeta_pi_tag_space(f->guard_bits);
}

/* Without a format or a command: what the code means, no more. */
static const char *generic_words(uint16_t status)
{
	switch (status) {
	case SC_GUARD:
		return "guard check failed: the CRC of a block's data differs from the guard in its protection information";
	case SC_APP:
		return "application tag check failed: a block's application tag, under the command's mask, differs from the command's";
	case SC_REF:
		return "reference tag check failed: a block's reference tag differs from the expected one (type 1: the LBA's low bits; type 2: the command's initial tag, counting up by one a block)";
	case SC_STORAGE:
		return "storage tag check failed: a block's storage tag differs from the command's";
	default:
		return "invalid protection information: the command's PRINFO or tags do not fit the namespace's format (type 1 with the reference check needs the reference tag to be the first LBA's low bits; type 3 takes no reference check)";
	}
}

static void ref_words(const struct nvmeta_pi_format *f, const struct nvmeta_io *io, char *buf,
		      size_t len)
{
	unsigned int bits = nvmeta_pi_ref_bits(f);

	if (f->pi_type == 1)
		snprintf(buf, len, "reference tag check failed: type 1 expects the LBA's low %u bits in each block, 0x%llx at LBA %llu and one more a block; one of the %u blocks holds another (written to another LBA, or with other tags)",
			 bits, (unsigned long long)nvmeta_pi_ref_tag(f, io->slba),
			 (unsigned long long)io->slba, io->nlb);
	else if (f->pi_type == 2)
		snprintf(buf, len, "reference tag check failed: type 2 expects the command's initial reference tag 0x%llx in its first block (LBA %llu) and one more a block (%u bits, wrapping); one of the %u blocks holds another",
			 (unsigned long long)io->reftag, (unsigned long long)io->slba, bits, io->nlb);
	else
		snprintf(buf, len, "reference tag check failed: type 3 has no reference tag check, yet the device reported one (command reference tag 0x%llx)",
			 (unsigned long long)io->reftag);
}

static void invalid_words(const struct nvmeta_pi_format *f, const struct nvmeta_io *io, char *buf,
			  size_t len)
{
	unsigned int bits = nvmeta_pi_ref_bits(f);
	uint64_t want = nvmeta_pi_ref_tag(f, io->slba);

	if (f->pi_type == 1 && (io->prinfo & NVMETA_PRCHK_REF) && io->reftag != want)
		snprintf(buf, len, "invalid protection information: type 1 with the reference tag check (NVMETA_PRCHK_REF) needs the command's reference tag to be the first LBA's low %u bits, 0x%llx for LBA %llu (nvmeta_pi_ref_tag()); it is 0x%llx",
			 bits, (unsigned long long)want, (unsigned long long)io->slba,
			 (unsigned long long)io->reftag);
	else if (f->pi_type == 3 && (io->prinfo & NVMETA_PRCHK_REF))
		snprintf(buf, len, "invalid protection information: type 3 has no reference tag to check: clear NVMETA_PRCHK_REF (PRINFO 0x%x)",
			 io->prinfo);
	else
		snprintf(buf, len, "invalid protection information: PRINFO 0x%x or the tags (reference 0x%llx, application 0x%04x under 0x%04x) do not fit the format (type %u, %u-bit %s guard, %u-bit reference tag, %u-bit storage tag, %u of %u metadata bytes)",
			 io->prinfo, (unsigned long long)io->reftag, io->apptag, io->appmask,
			 f->pi_type, f->guard_bits, guard_crc(f), bits, f->sts, f->pi_size, f->ms);
}

const char *nvmeta_pi_status_words(const struct nvmeta_status *st,
				   const struct nvmeta_pi_format *f,
				   const struct nvmeta_io *io, char *buf, size_t len)
{
	const char *whose;
	char pre[64] = "";

	switch (st->status) {
	case SC_GUARD: case SC_APP: case SC_REF: case SC_STORAGE: case SC_INVALID_PI:
		break;
	default:
		return NULL;
	}
	if (!f || !io || !f->pi_type) {
		snprintf(buf, len, "%s", generic_words(st->status));
		return buf;
	}
	whose = io->opcode == NVMETA_OP_WRITE ? "the PI the write sent" : "the stored PI";
	switch (st->status) {
	case SC_GUARD:
		if (!f->pi_first && f->ms > f->pi_size)
			snprintf(pre, sizeof(pre), " and the %u metadata bytes before the PI",
				 f->ms - f->pi_size);
		snprintf(buf, len, "guard check failed: the %u-bit %s over each block's %u data bytes%s must equal the guard in %s; one of the %u blocks from LBA %llu does not",
			 f->guard_bits, guard_crc(f), f->block_size, pre, whose, io->nlb,
			 (unsigned long long)io->slba);
		break;
	case SC_APP:
		snprintf(buf, len, "application tag check failed: type %u compares each block's application tag, under mask 0x%04x, with the command's 0x%04x; one of the %u blocks from LBA %llu does not",
			 f->pi_type, io->appmask, io->apptag, io->nlb, (unsigned long long)io->slba);
		break;
	case SC_REF:
		ref_words(f, io, buf, len);
		break;
	case SC_STORAGE:
		snprintf(buf, len, "storage tag check failed: each block's top %u bits of the %u-bit tag space must hold the command's storage tag 0x%llx; one of the %u blocks from LBA %llu does not",
			 f->sts, space_bits(f), (unsigned long long)io->storage_tag, io->nlb,
			 (unsigned long long)io->slba);
		break;
	default:
		invalid_words(f, io, buf, len);
		break;
	}
	return buf;
}

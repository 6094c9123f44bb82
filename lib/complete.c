// SPDX-License-Identifier: MIT
/*
 * Finishing a passthrough command: its CQE decoded, a failure explained,
 * a read's PI verified on the host with every bad block listed.  One
 * place for each rule, whoever reaped the completion: the application
 * (nvmeta_complete()), nvmeta_reap() for a request, or nvmeta_io_sync().
 *
 * The hot path: on success this decodes a few bits and, when verification
 * is asked, walks the blocks; no system call, no allocation, no string.
 * Messages are built only on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "complete.h"

int nvmeta_explain_failure(int ret, const struct nvmeta_status *st,
			   const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	const char *dev = info->generic_path[0] ? info->generic_path : "the device";
	char state[32], what[192];

	/* What nvmeta_status_decode() said, kept before it is replaced. */
	snprintf(what, sizeof(what), "%s", nvmeta_last_error());
	/* The nvme driver answers EINVAL for NVME_URING_CMD_IO_VEC with
	 * IORING_URING_CMD_FIXED where it has no vectored registered
	 * buffers (6.12.117 in the lab; 6.16.12 takes them), and where it
	 * has them, for an iovec outside the buffer.  Not decided by
	 * version: the kernel said it. */
	if (st->err == -EINVAL && (io->flags & NVMETA_IO_VEC) && (io->flags & NVMETA_IO_FIXED_BUF))
		return nvmeta_fail(ret, "%s: %s; vectored data in registered buffer %u: Linux %u.%u refused it (a kernel without vectored registered buffers for passthrough takes registered buffers only for flat data, as 6.12 does; one with them, as 6.16, wants every iovec inside the registered buffer)",
				   dev, what, io->buf_index, info->kernel.major, info->kernel.minor);
	/* nvme_ns_head_chr_uring_cmd() answers EINVAL when no path is
	 * usable: every controller resetting, removed or not yet live. */
	if (st->err == -EINVAL && info->subsys_name[0])
		return nvmeta_fail(ret, "%s: %s; namespace %u is a native multipath head of %s, which answers so when no controller has a usable path (controller %s: %s)",
				   dev, what, info->nsid, info->subsys_name, info->ctrl_name,
				   nvmeta_ctrl_state(info->ctrl_name, state, sizeof(state)));
	/* The lab's linux-6.1-fixed-buf-registration: 6.1 counts the pages
	 * of the whole registered buffer against max_segments. */
	if (st->err == -EINVAL && (io->flags & NVMETA_IO_FIXED_BUF) &&
	    !NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 12))
		return nvmeta_fail(ret, "%s: %s; the data is in registered buffer %u: Linux %u.%u refuses a passthrough command when the whole registered buffer spans more pages than the queue's max_segments (%u), whatever part the command uses (seen on 6.1; 6.12 takes it): register buffers of at most %u pages",
				   dev, what, io->buf_index, info->kernel.major, info->kernel.minor,
				   info->limits.max_segments, info->limits.max_segments);
	snprintf(what, sizeof(what), "%s: ", dev);
	return nvmeta_fail_unless_live(ret, what, info);
}

/* The failure's message, with an end-to-end status or 0x181 in words. */
static int explain(const struct nvmeta_dev *dev, const struct nvmeta_io *io, int ret,
		   const struct nvmeta_status *st)
{
	char words[320], last[512];

	ret = nvmeta_explain_failure(ret, st, &dev->info, io);
	if (ret != -EIO || !nvmeta_pi_status_words(st, dev->has_pi ? &dev->pi : NULL, io, words,
						      sizeof(words)))
		return ret;
	snprintf(last, sizeof(last), "%s", nvmeta_last_error());
	return nvmeta_fail(ret, "%s: %s", last, words);
}

static int refuse_verify(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	if (!dev->has_pi)
		return nvmeta_fail(-EPROTO, "%s: NVMETA_IO_PI_VERIFY, but the namespace's format (%u+%u) has no protection information",
				   dev->info.generic_path, dev->info.lba_size, dev->info.ms);
	return nvmeta_fail(-EINVAL, "%s: NVMETA_IO_PI_VERIFY on a command that is not a read (opcode 0x%x): nothing came back to verify",
			   dev->info.generic_path, io->opcode);
}

int nvmeta_finish(const struct nvmeta_dev *dev, const struct nvmeta_io *io, int ret,
		  const struct nvmeta_status *st, struct nvmeta_pi_report *rep,
		  struct nvmeta_pi_error *errors, uint32_t max)
{
	if (ret)
		return explain(dev, io, ret, st);
	if (!(io->flags & NVMETA_IO_PI_VERIFY))
		return 0;
	/* The inline encoder checked nothing: the buffers are checked here,
	 * before a byte of them is read. */
	if (!dev->has_pi || io->opcode != NVMETA_OP_READ)
		return refuse_verify(dev, io);
	ret = nvmeta_pi_io_fits(&dev->pi, dev->info.generic_path, io);
	if (ret)
		return ret;
	return nvmeta_pi_verify_io_list(&dev->pi, dev->info.generic_path, io, rep, errors, max);
}

int nvmeta_complete(const struct nvmeta_dev *dev, const struct nvmeta_io *io,
		    const struct io_uring_cqe *cqe, struct nvmeta_result *res)
{
	int ret;

	memset(&res->pi, 0, sizeof(res->pi));
	res->resv0 = 0;
	memset(res->resv, 0, sizeof(res->resv));
	ret = nvmeta_status_decode(cqe, &res->status);
	return nvmeta_finish(dev, io, ret, &res->status, &res->pi, res->errors,
			     res->errors ? res->max_errors : 0);
}

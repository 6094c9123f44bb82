// SPDX-License-Identifier: MIT
/*
 * A namespace without a device, for the tools' --json tests on a machine
 * without NVMe (tests/cli/json.sh).  Preloaded (LD_PRELOAD) under
 * nvmeta-info, nvmeta-io and nvmeta-check, it answers the library's device
 * calls for paths under /fake/ and hands every other path to the real
 * library, so that a list can mix namespaces that open with ones that do
 * not.  Everything the tools compute from a namespace's description
 * (buffers, predictions, PI) is the real library's.
 *
 *   /fake/ng...   512+8, separate metadata, PI type 1 in the last bytes
 *   /fake/ext...  4096+16, extended LBA, no PI
 *
 * The identify strings hold a quote, a backslash, a control character and
 * bytes that are not UTF-8, as a device may report them.  Environment:
 *   NVMETA_FAKE_LIST=P1:P2:...  the paths nvmeta_list() finds
 *   NVMETA_FAKE_IO=fail         nvmeta_io_sync() fails with an NVMe status
 *   NVMETA_FAKE_IO=pi           ... with a PI mismatch (-EILSEQ)
 *   NVMETA_FAKE_CHECK_FAIL=N    the checker cannot run its Nth case
 *   NVMETA_FAKE_CHECK_SIGNAL=N  SIGTERM arrives during the Nth case
 *   NVMETA_FAKE_CHECK_VERDICTS=V1,V2,...  the cases' verdicts in turn, by
 *                              name, any case (PASS, SKIP, FAIL, KERNEL-DEFECT,
 *                              DEVICE-ERROR), instead of every third failing
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "nvmeta.h"
#include "nvmeta-check.h"

#define FAKE_PREFIX "/fake/"
#define MAX_FAKES 8

struct fake {
	struct nvmeta_dev_info info;
	bool used;
};

static struct fake fakes[MAX_FAKES];
static char fake_error[256];
static bool error_is_fake;
static unsigned int check_calls;

/* The real library's @name, for the paths that are not fake. */
static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "fake-ns: no real %s: %s\n", name, dlerror());
		abort();
	}
	error_is_fake = false;
	return f;
}

static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_error, sizeof(fake_error), fmt, ap);
	va_end(ap);
	error_is_fake = true;
	return err;
}

/* The real library's @name, of the type of the shim's own. */
#define REAL(name) ((__typeof__(&name))real(#name))

static struct fake *fake_of(const struct nvmeta_dev *dev)
{
	const struct fake *f = (const struct fake *)dev;

	return f >= fakes && f < fakes + MAX_FAKES ? (struct fake *)f : NULL;
}

static bool any_fake_open(void)
{
	int i;

	for (i = 0; i < MAX_FAKES; i++)
		if (fakes[i].used)
			return true;
	return false;
}

static unsigned int env_uint(const char *name)
{
	const char *v = getenv(name);

	return v ? strtoul(v, NULL, 10) : 0;
}

static void describe(struct nvmeta_dev_info *in, const char *path)
{
	bool ext = !strncmp(path, FAKE_PREFIX "ext", strlen(FAKE_PREFIX "ext"));

	memset(in, 0, sizeof(*in));
	snprintf(in->generic_path, sizeof(in->generic_path), "%s", path);
	snprintf(in->block_name, sizeof(in->block_name), "nvme0n1");
	snprintf(in->ctrl_name, sizeof(in->ctrl_name), "nvme0");
	snprintf(in->model, sizeof(in->model), "Fake \"NVMe\" C:\\ \t\x7f \xc3\xa9 \xff\xfe");
	snprintf(in->serial, sizeof(in->serial), "FAKE\x01\x1f");
	snprintf(in->firmware, sizeof(in->firmware), "1.0");
	in->nsid = 1;
	in->nsze = 1 << 20;
	in->lba_size = ext ? 4096 : 512;
	in->ms = ext ? 16 : 8;
	in->extended_lba = ext;
	in->pi_type = ext ? 0 : 1;
	in->guard_bits = 16;
	in->pi_size = 8;
	in->mdts = 5;
	in->mdts_bytes = 128 << 10;
	in->oncs = 0x5f;
	in->sgls = 0x80001;
	in->sgl_supported = true;
	in->sgl_metadata = true;
	in->limits = (struct nvmeta_limits){
		.max_integrity_segments = 1, .dma_alignment = 3, .max_segments = 127,
		.max_segment_size = 1u << 31, .max_hw_sectors_kb = 128,
		.virt_boundary_mask = 4095, .logical_block_size = in->lba_size,
		.integrity_tag_size = 0, .integrity_interval = in->lba_size,
	};
	snprintf(in->limits.integrity_format, sizeof(in->limits.integrity_format), "%s",
		 ext ? "none" : "T10-DIF-TYPE1-CRC");
	nvmeta_kernel_read(&in->kernel);
}

const char *nvmeta_last_error(void)
{
	const char *(*f)(void) = dlsym(RTLD_NEXT, "nvmeta_last_error");

	return error_is_fake || !f ? fake_error : f();
}

const char *nvmeta_check_last_error(void)
{
	const char *(*f)(void) = dlsym(RTLD_NEXT, "nvmeta_check_last_error");

	return error_is_fake || !f ? fake_error : f();
}

int nvmeta_list(char ***paths)
{
	const char *list = getenv("NVMETA_FAKE_LIST");
	char *copy, *p, *save = NULL;
	int n = 0;

	if (!list)
		return REAL(nvmeta_list)(paths);
	*paths = calloc(strlen(list) + 1, sizeof(**paths));
	copy = strdup(list);
	if (!*paths || !copy)
		abort();
	for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		(*paths)[n++] = strdup(p);
	free(copy);
	return n;
}

int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp)
{
	int i;

	if (strncmp(path, FAKE_PREFIX, strlen(FAKE_PREFIX)))
		return REAL(nvmeta_dev_open)(path, devp);
	for (i = 0; i < MAX_FAKES && fakes[i].used; i++)
		;
	if (i == MAX_FAKES)
		return fail(-EMFILE, "fake-ns: more than %d fake namespaces open", MAX_FAKES);
	fakes[i].used = true;
	describe(&fakes[i].info, path);
	*devp = (struct nvmeta_dev *)&fakes[i];
	return 0;
}

const struct nvmeta_dev_info *nvmeta_dev_info(const struct nvmeta_dev *dev)
{
	struct fake *f = fake_of(dev);

	if (f)
		return &f->info;
	return REAL(nvmeta_dev_info)(dev);
}

void nvmeta_dev_close(struct nvmeta_dev *dev)
{
	struct fake *f = fake_of(dev);

	if (f)
		f->used = false;
	else
		REAL(nvmeta_dev_close)(dev);
}

/* A ring is not needed by the fake commands, nor io_uring by the test. */
int nvmeta_ring_init(struct io_uring *ring, unsigned int depth)
{
	if (!any_fake_open())
		return REAL(nvmeta_ring_init)(ring, depth);
	memset(ring, 0, sizeof(*ring));
	ring->ring_fd = -1;
	return 0;
}

void io_uring_queue_exit(struct io_uring *ring)
{
	if (ring->ring_fd != -1)
		REAL(io_uring_queue_exit)(ring);
}

/* A fake namespace is never reformatted. */
int nvmeta_dev_check(struct nvmeta_dev *dev)
{
	if (!fake_of(dev))
		return REAL(nvmeta_dev_check)(dev);
	return 0;
}

int nvmeta_io_validate(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	if (!fake_of(dev))
		return REAL(nvmeta_io_validate)(dev, io);
	if (!io->nlb || io->nlb > 65536)
		return fail(-EDOM, "nlb %u: must be 1 to 65536 blocks", io->nlb);
	return 0;
}

/* Success (a read gets a pattern), an NVMe status, or a PI mismatch. */
int nvmeta_io_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
		   const struct nvmeta_io *io, struct nvmeta_status *st)
{
	const char *how = getenv("NVMETA_FAKE_IO");

	if (!fake_of(dev))
		return REAL(nvmeta_io_sync)(dev, ring, io, st);
	memset(st, 0, sizeof(*st));
	if (how && !strcmp(how, "fail")) {
		st->sct = 2;
		st->sc = 0x81;
		st->status = 0x281;
		st->dnr = true;
		return fail(-EIO, "fake-ns: \"Unrecovered Read Error\" (status 0x281)");
	}
	if (io->opcode == NVMETA_OP_READ && io->data)
		memset(io->data, 0x5a, io->data_len);
	if (how && !strcmp(how, "pi"))
		return fail(-EILSEQ, "fake-ns: block 0: guard mismatch");
	return 0;
}

/* The verdict NVMETA_FAKE_CHECK_VERDICTS gives the current case, if any. */
static void fake_verdict(struct nvmeta_check_result *res)
{
	const char *list = getenv("NVMETA_FAKE_CHECK_VERDICTS"), *p;
	unsigned int n = 1, k;
	size_t len;
	int v;

	if (!list || !*list)
		return;
	for (p = list; *p; p++)
		n += *p == ',';
	for (p = list, k = (check_calls - 1) % n; k; k--)
		p = strchr(p, ',') + 1;
	len = strcspn(p, ",");
	for (v = NVMETA_VERDICT_PASS; v <= NVMETA_VERDICT_DEVICE_ERROR; v++) {
		if (strlen(nvmeta_verdict_name(v)) == len &&
		    !strncasecmp(p, nvmeta_verdict_name(v), len)) {
			res->verdict = v;
			return;
		}
	}
	fprintf(stderr, "fake-ns: NVMETA_FAKE_CHECK_VERDICTS: no verdict '%.*s'\n", (int)len, p);
	abort();
}

/*
 * A verdict for case @tc without I/O: every third one fails with a bad
 * byte, so that the optional fields appear; details carry characters a
 * JSON string must escape.
 */
static int fake_check(const struct nvmeta_check_case *tc, unsigned int index, unsigned int run,
		      struct nvmeta_check_result *res)
{
	if (++check_calls == env_uint("NVMETA_FAKE_CHECK_FAIL"))
		return fail(-EIO, "fake-ns: case %s: \"the device went away\"", tc->name);
	if (check_calls == env_uint("NVMETA_FAKE_CHECK_SIGNAL"))
		raise(SIGTERM);
	memset(res, 0, sizeof(*res));
	res->tc = tc;
	res->nlb = 8;
	res->slba = 64 * index;
	res->layout = tc->layout;
	res->pred.path = NVMETA_PATH_PIN;
	snprintf(res->pred.reason, sizeof(res->pred.reason), "fake: \"aligned\"\\pinned");
	res->observed = -1;
	res->verdict = check_calls % 3 ? NVMETA_VERDICT_PASS : NVMETA_VERDICT_FAIL;
	fake_verdict(res);
	snprintf(res->detail, sizeof(res->detail), "fake run %u:\ttab \"quote\" \\ \xff", run);
	if (res->verdict == NVMETA_VERDICT_FAIL) {
		res->where = "metadata";
		res->bad_lba = res->slba + 1;
		res->expected = 0xa5;
		res->found = 0x5a;
	}
	return 0;
}

int nvmeta_check_run_road(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			  struct io_uring *ring, struct nvmeta_kpath *kp,
			  const struct nvmeta_check_case *tc, unsigned int index, unsigned int run,
			  struct nvmeta_check_result *res)
{
	if (!fake_of(dev))
		return REAL(nvmeta_check_run_road)(dev, bdev, ring, kp, tc, index, run, res);
	return fake_check(tc, index, run, res);
}

/* Probes without I/O: every one answered, the first with words a JSON
 * string must escape. */
int nvmeta_check_probe(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
		       struct nvmeta_kpath *kp, struct nvmeta_check_probes *out)
{
	static char names[NVMETA_PROBE_COUNT][24];
	int i;

	if (!fake_of(dev))
		return REAL(nvmeta_check_probe)(dev, bdev, kp, out);
	memset(out, 0, sizeof(*out));
	out->count = NVMETA_PROBE_COUNT;
	for (i = 0; i < NVMETA_PROBE_COUNT; i++) {
		snprintf(names[i], sizeof(names[i]), "fake_probe_%d", i);
		out->probe[i].name = names[i];
		out->probe[i].known = true;
		out->probe[i].value = -EFAULT;
		snprintf(out->probe[i].text, sizeof(out->probe[i].text), "EFAULT");
		snprintf(out->probe[i].how, sizeof(out->probe[i].how), "fake: \"read-only\"\tprobe %d", i);
	}
	return 0;
}

/* nvmeta-check judges its cases against the probes it ran first. */
int nvmeta_check_run_probed(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			    struct io_uring *ring, struct nvmeta_kpath *kp,
			    const struct nvmeta_check_probes *probes,
			    const struct nvmeta_check_case *tc, unsigned int index,
			    unsigned int run, struct nvmeta_check_result *res)
{
	if (!fake_of(dev))
		return REAL(nvmeta_check_run_probed)(dev, bdev, ring, kp, probes, tc, index, run,
						     res);
	return fake_check(tc, index, run, res);
}

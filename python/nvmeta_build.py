# SPDX-License-Identifier: MIT
"""cffi in API mode: the extension nvmeta._nvmeta_cffi, compiled against
<nvmeta.h> and <nvmeta-check.h>.  The C compiler lays out every struct
below from the real headers: a field declared here with the wrong type
fails the build, and the "...;" structs take their sizes and offsets
from the compiler, so nothing is mirrored by hand.

Where the library is: pkg-config nvmeta and nvmeta-check (the installed
library), or NVMETA_INCLUDE_DIR and NVMETA_LIBRARY_PATH (colon-separated
directories, e.g. a build tree's lib and lib/check) when set."""
import os
import shlex
import subprocess

from cffi import FFI

CDEF = r"""
/* core.h */
const char *nvmeta_last_error(void);
const char *nvmeta_version(void);
int nvmeta_version_check(unsigned int major, unsigned int minor);
#define NVMETA_VERSION_MAJOR ...
#define NVMETA_VERSION_MINOR ...

struct nvmeta_limits {
	uint32_t max_integrity_segments;
	uint32_t dma_alignment;
	uint32_t max_segments;
	uint32_t max_segment_size;
	uint32_t max_hw_sectors_kb;
	uint64_t virt_boundary_mask;
	uint32_t logical_block_size;
	char integrity_format[32];
	uint32_t integrity_tag_size;
	uint32_t integrity_interval;
	uint32_t io_poll;
	...;
};
struct nvmeta_kernel {
	unsigned int major, minor, patch;
	char release[65];
	...;
};
struct nvmeta_dev_info {
	char generic_path[64];
	char block_name[32];
	char ctrl_name[32];
	char model[41];
	char serial[21];
	char firmware[9];
	uint32_t nsid;
	uint64_t nsze;
	uint8_t lbaf;
	uint32_t lba_size;
	uint32_t ms;
	bool extended_lba;
	uint8_t pi_type;
	bool pi_first;
	uint8_t pif;
	uint8_t guard_bits;
	uint8_t pi_size;
	uint8_t sts;
	uint8_t mdts;
	uint32_t mdts_bytes;
	uint16_t oncs;
	uint32_t ctratt;
	uint32_t sgls;
	bool sgl_supported;
	bool sgl_metadata;
	struct nvmeta_limits limits;
	struct nvmeta_kernel kernel;
	char subsys_name[32];
	...;
};
struct nvmeta_dev;
int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp);
int nvmeta_dev_check(struct nvmeta_dev *dev);
int nvmeta_dev_refresh(struct nvmeta_dev *dev);
void nvmeta_dev_close(struct nvmeta_dev *dev);
const struct nvmeta_dev_info *nvmeta_dev_info(const struct nvmeta_dev *dev);
int nvmeta_dev_fd(const struct nvmeta_dev *dev);
int nvmeta_kernel_read(struct nvmeta_kernel *k);

enum nvmeta_opcode { NVMETA_OP_WRITE, NVMETA_OP_READ, NVMETA_OP_COMPARE,
	NVMETA_OP_WRITE_ZEROES, NVMETA_OP_VERIFY, ... };
enum nvmeta_prinfo { NVMETA_PRCHK_REF, NVMETA_PRCHK_APP, NVMETA_PRCHK_GUARD,
	NVMETA_PRACT, ... };
enum nvmeta_io_flags { NVMETA_IO_RAW, NVMETA_IO_FUA, NVMETA_IO_NO_PREFAULT,
	NVMETA_IO_FIXED_BUF, NVMETA_IO_FIXED_FILE, NVMETA_IO_PI_GENERATE,
	NVMETA_IO_PI_VERIFY, ... };
struct nvmeta_io {
	uint8_t opcode;
	uint8_t prinfo;
	uint16_t apptag;
	uint16_t appmask;
	uint32_t flags;
	uint32_t nlb;
	uint64_t slba;
	uint64_t reftag;
	uint64_t storage_tag;
	void *data;
	void *meta;
	uint32_t data_len;
	uint32_t meta_len;
	uint32_t timeout_ms;
	uint32_t pi_checks;
	...;
};
enum nvmeta_kind { NVMETA_KIND_META, NVMETA_KIND_DATA, ... };
struct nvmeta_status {
	int err;
	uint16_t status;
	uint8_t sct;
	uint8_t sc;
	bool dnr;
	bool more;
	uint64_t result;
	...;
};
const char *nvmeta_status_name(const struct nvmeta_status *st);
struct io_uring { ...; };
int nvmeta_ring_init(struct io_uring *ring, unsigned int depth);
void nvmeta_ring_exit(struct io_uring *ring);

/* buf.h */
enum nvmeta_layout { NVMETA_LAYOUT_PINNED, NVMETA_LAYOUT_MISALIGNED,
	NVMETA_LAYOUT_FRAGMENTED, NVMETA_LAYOUT_HUGE_SPAN, NVMETA_LAYOUT_PAGE,
	NVMETA_LAYOUT_MALLOC, NVMETA_LAYOUT_CALLER, ... };
enum nvmeta_backing { NVMETA_BACKING_ANON, NVMETA_BACKING_MEMFD,
	NVMETA_BACKING_HUGE, NVMETA_BACKING_HEAP, NVMETA_BACKING_CALLER, ... };
enum nvmeta_buf_flags { NVMETA_BUF_CANARY, NVMETA_BUF_GUARD,
	NVMETA_BUF_UNTOUCHED, NVMETA_BUF_FALLBACK, NVMETA_BUF_DATA, ... };
struct nvmeta_buf_spec {
	enum nvmeta_layout layout;
	enum nvmeta_backing backing;
	size_t len;
	size_t offset;
	unsigned int segments;
	uint32_t flags;
	void *addr;
	...;
};
struct nvmeta_buf {
	void *addr;
	size_t len;
	enum nvmeta_layout layout;
	enum nvmeta_backing backing;
	size_t canary_before;
	size_t canary_after;
	char note[160];
	...;
};
int nvmeta_buf_alloc(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		     struct nvmeta_buf **bufp);
void nvmeta_buf_free(struct nvmeta_buf *buf);
int nvmeta_buf_check_canaries(const struct nvmeta_buf *buf, ptrdiff_t *bad);

enum nvmeta_path { NVMETA_PATH_PIN, NVMETA_PATH_BOUNCE, NVMETA_PATH_FAIL, ... };
struct nvmeta_prediction {
	enum nvmeta_path path;
	int err;
	int may_err;
	unsigned int pages;
	unsigned int segments;
	unsigned int max_segments;
	bool assumed;
	bool segments_matter;
	char reason[256];
	...;
};
int nvmeta_predict(const struct nvmeta_dev_info *info, enum nvmeta_kind kind,
		   const void *addr, size_t len, struct nvmeta_prediction *pred);
const char *nvmeta_path_name(enum nvmeta_path path);
const char *nvmeta_layout_name(enum nvmeta_layout layout);

/* pi.h */
uint16_t nvmeta_crc16_t10dif(const void *buf, size_t len, uint16_t crc);
uint32_t nvmeta_crc32c(const void *buf, size_t len, uint32_t crc);
uint64_t nvmeta_crc64_nvme(const void *buf, size_t len, uint64_t crc);
const char *nvmeta_crc64_impl(void);
struct nvmeta_pi_format {
	uint32_t block_size;
	uint32_t ms;
	uint8_t pi_type;
	uint8_t guard_bits;
	uint8_t pi_size;
	uint8_t sts;
	bool pi_first;
	bool extended;
	...;
};
enum nvmeta_pi_checks { NVMETA_PI_CHECK_GUARD, NVMETA_PI_CHECK_APP,
	NVMETA_PI_CHECK_REF, NVMETA_PI_CHECK_STORAGE, NVMETA_PI_CHECK_ALL, ... };
struct nvmeta_pi_tags {
	uint64_t ref_tag;
	uint64_t storage_tag;
	uint16_t app_tag;
	uint16_t app_mask;
	uint32_t checks;
	uint64_t lba;
	...;
};
enum nvmeta_pi_field { NVMETA_PI_FIELD_NONE, NVMETA_PI_FIELD_GUARD,
	NVMETA_PI_FIELD_APP, NVMETA_PI_FIELD_REF, NVMETA_PI_FIELD_STORAGE,
	NVMETA_PI_FIELD_DATA, ... };
struct nvmeta_pi_report {
	uint32_t block;
	uint32_t field;
	uint64_t expected, found;
	uint32_t unwritten;
	uint32_t escaped;
	uint32_t bad;
	uint32_t listed;
	...;
};
struct nvmeta_pi_error {
	uint64_t lba;
	uint32_t block;
	uint32_t field;
	uint64_t expected, found;
	...;
};
struct nvmeta_pi_injection {
	uint32_t block;
	uint32_t field;
	uint32_t offset;
	...;
};
unsigned int nvmeta_pi_ref_bits(const struct nvmeta_pi_format *f);
uint64_t nvmeta_pi_ref_tag(const struct nvmeta_pi_format *f, uint64_t lba);
int nvmeta_pi_format_of(const struct nvmeta_dev_info *info, struct nvmeta_pi_format *f);
int nvmeta_pi_generate(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		       const struct nvmeta_pi_tags *t);
int nvmeta_pi_verify_list(const struct nvmeta_pi_format *f, const void *data, const void *meta,
			  uint32_t nlb, const struct nvmeta_pi_tags *t,
			  struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			  uint32_t max);
int nvmeta_pi_inject(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		     const struct nvmeta_pi_injection *inj);
const char *nvmeta_pi_field_name(enum nvmeta_pi_field field);
struct nvmeta_request {
	struct nvmeta_io io;
	uint64_t user_data;
	struct nvmeta_pi_report pi;
	struct nvmeta_pi_error *pi_errors;
	uint32_t pi_errors_max;
	...;
};
int nvmeta_request_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
			struct nvmeta_request *rq, struct nvmeta_status *st);

/* nvmeta-check.h */
const char *nvmeta_check_last_error(void);
struct nvmeta_kpath;
int nvmeta_kpath_open(const struct nvmeta_dev_info *info, struct nvmeta_kpath **kpp);
void nvmeta_kpath_close(struct nvmeta_kpath *kp);
enum nvmeta_check_dir { NVMETA_DIR_READ, NVMETA_DIR_WRITE, NVMETA_DIR_BOTH, ... };
enum nvmeta_check_size { NVMETA_SIZE_ONE, NVMETA_SIZE_FEW, NVMETA_SIZE_MAX, ... };
enum nvmeta_check_flags { NVMETA_CHECK_SHORT_META, NVMETA_CHECK_REFORMAT,
	NVMETA_CHECK_UNTOUCHED, NVMETA_CHECK_READONLY, NVMETA_CHECK_PI,
	NVMETA_CHECK_FIXED_BUF, ... };
struct nvmeta_check_case {
	const char *name;
	enum nvmeta_kind kind;
	enum nvmeta_check_dir dir;
	enum nvmeta_check_size size;
	enum nvmeta_layout layout;
	size_t offset;
	enum nvmeta_backing backing;
	int expect_err;
	uint32_t flags;
	...;
};
enum nvmeta_verdict { NVMETA_VERDICT_PASS, NVMETA_VERDICT_SKIP, NVMETA_VERDICT_FAIL,
	NVMETA_VERDICT_KERNEL_DEFECT, NVMETA_VERDICT_DEVICE_ERROR, ... };
struct nvmeta_check_result {
	const struct nvmeta_check_case *tc;
	enum nvmeta_verdict verdict;
	uint32_t nlb;
	uint64_t slba;
	enum nvmeta_layout layout;
	struct nvmeta_prediction pred;
	int observed;
	char evidence[112];
	int expect_err;
	int err;
	const char *where;
	uint64_t bad_lba;
	size_t bad_offset;
	uint8_t expected, found;
	char detail[384];
	...;
};
int nvmeta_check_table(const struct nvmeta_check_case **cases);
const char *nvmeta_verdict_name(enum nvmeta_verdict verdict);
struct nvmeta_bdev;
struct nvmeta_check_probe {
	const char *name;
	bool known;
	int value;
	char text[24];
	char how[232];
	...;
};
struct nvmeta_check_probes {
	unsigned int count;
	struct nvmeta_check_probe probe[16];
	...;
};
int nvmeta_check_probe(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
		       struct nvmeta_kpath *kp, struct nvmeta_check_probes *out);
int nvmeta_check_run_probed(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			    struct io_uring *ring, struct nvmeta_kpath *kp,
			    const struct nvmeta_check_probes *probes,
			    const struct nvmeta_check_case *tc, unsigned int index,
			    unsigned int run, struct nvmeta_check_result *res);
"""


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "nvmeta", "nvmeta-check"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def _where():
    """(include_dirs, library_dirs) of the library to build against."""
    inc = os.environ.get("NVMETA_INCLUDE_DIR")
    lib = os.environ.get("NVMETA_LIBRARY_PATH")
    if inc or lib:
        return ([d for d in (inc or "").split(":") if d],
                [d for d in (lib or "").split(":") if d])
    cflags = _pkg_config("--cflags-only-I") or []
    libs = _pkg_config("--libs-only-L") or []
    return ([f[2:] for f in cflags if f.startswith("-I")],
            [f[2:] for f in libs if f.startswith("-L")])


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
_inc, _lib = _where()
ffibuilder.set_source(
    "nvmeta._nvmeta_cffi",
    "#include <nvmeta.h>\n#include <nvmeta-check.h>\n",
    include_dirs=_inc,
    library_dirs=_lib,
    libraries=["nvmeta-check", "nvmeta"],
    extra_compile_args=["-Wno-unused-parameter"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

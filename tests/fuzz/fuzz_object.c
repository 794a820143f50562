/*
 * fuzz_object.c - libFuzzer target for the whole object loader
 * (src/loader/: object.c, reloc.c, core_relo.c, elf.c, sec_def.c) on
 * untrusted objects, loaded into the user-space core.
 *
 * Theory of operation.  The input is one settings byte, an optional
 * kconfig text, then an ELF object:
 *
 *   byte 0   settings:
 *              bit 0  btf_custom_path: the small target BTF written at
 *                     start (CO-RE relocations resolve against it; unset,
 *                     against the object's own BTF in user space)
 *              bit 1  kconfig: byte 1 is a length L, then L bytes of
 *                     "CONFIG_X=..." text (L == 0: a built-in text with
 *                     one value of every kind)
 *              bit 2  load the whole object at once (default: each
 *                     program alone, others' autoload off, each into a
 *                     fresh instance)
 *              bit 3  test-run every loaded program once on a 64-byte
 *                     packet (checked, 10,000-instruction budget)
 *              bit 4  the JIT (default: the interpreter)
 *              bit 5  every program asks for a load log (level 1)
 *              bit 6  pin_root_path inside the private pin directory
 *                     (default: "/sys/fs/bpf", which bee maps there too)
 *              bit 7  attach every loaded program as its section says
 *                     (bee_program_attach: a named hook in user space),
 *                     then destroy the link
 *   ...      the object, as bee_object_open_mem() receives it.
 *
 * bee_object_open_mem() must accept the object or refuse it with a
 * negative errno and a message in opts.err.  Every program is then loaded
 * as the settings say into a fresh bee instance (bee_target_of) whose pin
 * directory is private (/tmp/bee-fuzz-object-PID/pins, emptied before each
 * input), programs loading and running checked (trusted_fast_path off:
 * bee's verifier is fuzz_verify's target, and a bounded loop in a seed
 * keeps it busy for seconds under ASan); bee_object_load() returns 0, or
 * a negative errno with a message in bee_object_error().  Every accessor
 * of the object, its programs and its maps is read; then everything is
 * closed and freed.  Nothing may crash, hang, leak or trip ASan/UBSan; a
 * broken promise aborts.  Allocations above 256 MiB fail (see
 * __asan_default_options below), so an object's huge map is refused with
 * -ENOMEM by the core rather than exhausting memory.
 *
 * Seeds: the clang-built objects (the .bpf.o files of build/tests/objects
 * and build/examples), each with a settings byte in front (see
 * README.md).  The target BTF: BEE_FUZZ_TARGET_BTF names a file (raw BTF
 * or an ELF object whose .BTF is used, e.g. core_target.bpf.o) copied at
 * start; without it a small built-in BTF is written.
 */
#include "fuzz_common.h"

#include <unistd.h>

#include <linux/btf.h>

#include "bee/bee.h"
#include "bee/object.h"


enum {
	SET_BTF_PATH = 1 << 0,
	SET_KCONFIG = 1 << 1,
	SET_WHOLE = 1 << 2,
	SET_RUN = 1 << 3,
	SET_JIT = 1 << 4,
	SET_LOG = 1 << 5,
	SET_PIN_ROOT = 1 << 6,
	SET_ATTACH = 1 << 7,
};

/* Programs loaded one by one per input, at most (each is an open and a
 * load): enough for every seed object. */
#define MAX_PROGS 12

static char work_dir[64];
static char pin_dir[96];
static char pin_root[96];
static char btf_path[96];

static const char builtin_kconfig[] =
	"CONFIG_BEE_NUM=42\n"
	"CONFIG_BEE_ON=y\n"
	"CONFIG_BEE_MOD=m\n"
	"CONFIG_BEE_STR=\"hi\"\n"
	"CONFIG_BEE_LETTER=m\n"
	"CONFIG_BPF_SYSCALL=n\n"
	"CONFIG_HZ=0x3e8\n"
	"CONFIG_NEG=-1\n";

/* ---- the built-in target BTF ---- */

static void put32(uint8_t *buf, size_t *at, uint32_t v)
{
	memcpy(buf + *at, &v, 4);
	*at += 4;
}

/*
 * A raw BTF with a few of the names the test objects relocate against:
 * int, struct core_s { int a; long b; struct core_s *next; },
 * enum core_e { CE_A = 10, CE_B = 20 }, struct task_struct { int pid; }.
 */
static size_t builtin_btf(uint8_t *buf)
{
	static const char strs[] = "\0int\0core_s\0a\0b\0next\0long\0core_e\0CE_A\0CE_B\0"
				   "task_struct\0pid";
	/* offsets into strs */
	enum { S_INT = 1, S_CORE_S = 5, S_A = 12, S_B = 14, S_NEXT = 16, S_LONG = 21,
	       S_CORE_E = 26, S_CE_A = 33, S_CE_B = 38, S_TASK = 43, S_PID = 55 };
	size_t at = 24;
	/* 1: int */
	put32(buf, &at, S_INT);
	put32(buf, &at, (uint32_t)BTF_KIND_INT << 24);
	put32(buf, &at, 4);
	put32(buf, &at, (uint32_t)BTF_INT_SIGNED << 24 | 32);
	/* 2: long */
	put32(buf, &at, S_LONG);
	put32(buf, &at, (uint32_t)BTF_KIND_INT << 24);
	put32(buf, &at, 8);
	put32(buf, &at, (uint32_t)BTF_INT_SIGNED << 24 | 64);
	/* 3: struct core_s */
	put32(buf, &at, S_CORE_S);
	put32(buf, &at, (uint32_t)BTF_KIND_STRUCT << 24 | 3);
	put32(buf, &at, 24);
	put32(buf, &at, S_A), put32(buf, &at, 1), put32(buf, &at, 0);
	put32(buf, &at, S_B), put32(buf, &at, 2), put32(buf, &at, 64);
	put32(buf, &at, S_NEXT), put32(buf, &at, 4), put32(buf, &at, 128);
	/* 4: struct core_s * */
	put32(buf, &at, 0);
	put32(buf, &at, (uint32_t)BTF_KIND_PTR << 24);
	put32(buf, &at, 3);
	/* 5: enum core_e */
	put32(buf, &at, S_CORE_E);
	put32(buf, &at, (uint32_t)BTF_KIND_ENUM << 24 | 2);
	put32(buf, &at, 4);
	put32(buf, &at, S_CE_A), put32(buf, &at, 10);
	put32(buf, &at, S_CE_B), put32(buf, &at, 20);
	/* 6: struct task_struct */
	put32(buf, &at, S_TASK);
	put32(buf, &at, (uint32_t)BTF_KIND_STRUCT << 24 | 1);
	put32(buf, &at, 4);
	put32(buf, &at, S_PID), put32(buf, &at, 1), put32(buf, &at, 0);
	uint32_t type_len = (uint32_t)(at - 24);
	memcpy(buf + at, strs, sizeof(strs));
	at += sizeof(strs);
	struct btf_header h = {.magic = BTF_MAGIC, .version = BTF_VERSION,
			       .hdr_len = sizeof(h), .type_off = 0, .type_len = type_len,
			       .str_off = type_len, .str_len = sizeof(strs)};
	memcpy(buf, &h, sizeof(h));
	return at;
}

static void write_target_btf(void)
{
	const char *from = getenv("BEE_FUZZ_TARGET_BTF");
	if (from) {
		FILE *f = fopen(from, "rb");
		if (!f) {
			fprintf(stderr, "fuzz_object: BEE_FUZZ_TARGET_BTF %s: %s\n", from,
				strerror(errno));
			exit(1);
		}
		static uint8_t big[1 << 20];
		size_t n = fread(big, 1, sizeof(big), f);
		fclose(f);
		if (fuzz_write_file(work_dir, "target.btf", big, n))
			exit(1);
		return;
	}
	uint8_t buf[512];
	size_t n = builtin_btf(buf);
	if (fuzz_write_file(work_dir, "target.btf", buf, n))
		exit(1);
}

/* ---- one load ---- */

static void test_run(struct bee *bee, int fd)
{
	uint8_t pkt[64];
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 37 + 1);
	pkt[12] = 0x08, pkt[13] = 0x00; /* IPv4 */
	pkt[14] = 0x45;
	uint8_t out[256];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = fuzz_ptr(pkt);
	a.test.data_size_in = sizeof(pkt);
	a.test.data_out = fuzz_ptr(out);
	a.test.data_size_out = sizeof(out);
	a.test.repeat = 1;
	long r = bee_bpf(bee, BPF_PROG_TEST_RUN, &a, sizeof(a));
	REQUIRE(r <= 0);
	if (!r)
		REQUIRE(a.test.data_size_out <= sizeof(out));
}

static void check_maps(const struct bee_object *obj, bool loaded)
{
	size_t n = 0;
	for (struct bee_object_map *m = bee_object_next_map(obj, NULL); m;
	     m = bee_object_next_map(obj, m)) {
		n++;
		touch_str(bee_object_map_name(m));
		REQUIRE(bee_object_find_map_by_name(obj, bee_object_map_name(m)) != NULL);
		fuzz_sink += bee_object_map_type(m) + bee_object_map_key_size(m) +
			bee_object_map_value_size(m) + bee_object_map_max_entries(m) +
			bee_object_map_flags(m);
		size_t sz = 0;
		void *init = bee_object_map_initial_value(m, &sz);
		if (bee_object_map_is_internal(m)) {
			REQUIRE(init != NULL || sz == 0);
			if (init)
				touch(init, sz);
		}
		if (!loaded)
			REQUIRE(bee_object_map_fd(m) < 0);
	}
	REQUIRE(n == bee_object_map_count(obj));
}

static void check_programs(const struct bee_object *obj, bool loaded)
{
	size_t n = 0;
	for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
	     p = bee_object_next_program(obj, p)) {
		n++;
		touch_str(bee_program_name(p));
		touch_str(bee_program_section_name(p));
		touch_str(bee_program_log(p));
		REQUIRE(bee_object_find_program_by_name(obj, bee_program_name(p)) != NULL);
		fuzz_sink += bee_program_type(p) + bee_program_expected_attach_type(p);
		const struct bpf_insn *insns = bee_program_insns(p);
		size_t cnt = bee_program_insn_cnt(p);
		if (cnt)
			touch(insns, cnt * sizeof(*insns));
		if (!loaded)
			REQUIRE(bee_program_fd(p) < 0);
	}
	REQUIRE(n == bee_object_program_count(obj));
}

/* Open the object; NULL when refused (with a message). */
static struct bee_object *open_obj(const uint8_t *elf, size_t size,
				   const struct bee_object_open_opts *base)
{
	struct bee_error err;
	struct bee_object_open_opts o = *base;
	o.err = &err;
	struct bee_object *obj = bee_object_open_mem(elf, size, &o);
	if (!obj) {
		REQUIRE(err.code < 0);
		REQUIRE(err.msg[0] != '\0');
		return NULL;
	}
	touch_str(bee_object_name(obj));
	check_programs(obj, false);
	check_maps(obj, false);
	return obj;
}

static void set_log_level(struct bee_object *obj, uint8_t set)
{
	if (!(set & SET_LOG))
		return;
	for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
	     p = bee_object_next_program(obj, p)) {
		REQUIRE(bee_program_set_log_level(p, 1) == 0);
		REQUIRE(bee_program_log_level(p) == 1);
	}
}

/* Load obj (its autoload as set) into a fresh instance, test-run what
 * loaded if asked, close it all. */
static void load_obj(struct bee_object *obj, uint8_t set)
{
	fuzz_rm_tree(pin_dir, false);
	struct bee_opts bo = {.sz = sizeof(bo), .pin_dir = pin_dir, .ncpus = 2,
			      .engine = set & SET_JIT ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP,
			      .max_insns = 10000};
	struct bee *bee = bee_new(&bo);
	REQUIRE(bee != NULL);
	struct bee_target t = bee_target_of(bee);
	int rc = bee_object_load(obj, &t);
	if (rc) {
		REQUIRE(rc < 0);
		REQUIRE(bee_object_error(obj)[0] != '\0');
	}
	touch_str(bee_object_error(obj));
	touch_str(bee_object_warnings(obj));
	fuzz_sink += (unsigned)bee_object_btf_fd(obj);
	check_programs(obj, true);
	check_maps(obj, true);
	if (!rc && (set & SET_RUN))
		for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
		     p = bee_object_next_program(obj, p))
			if (bee_program_fd(p) >= 0)
				test_run(bee, bee_program_fd(p));
	if (set & SET_ATTACH)
		for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
		     p = bee_object_next_program(obj, p)) {
			if (bee_program_fd(p) < 0)
				continue;
			struct bee_link *l = bee_program_attach(p);
			if (!l) {
				REQUIRE(errno > 0);
				REQUIRE(bee_object_error(obj)[0] != '\0');
				continue;
			}
			touch_str(bee_link_hook(l));
			REQUIRE(bee_link_fd(l) >= 0);
			REQUIRE(bee_link_destroy(l) == 0);
		}
	/* an object is loaded once */
	REQUIRE(bee_object_load(obj, &t) == -EBUSY);
	bee_object_close(obj);
	bee_free(bee);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t set = data[0];
	data++, size--;
	char kconfig[257];
	struct bee_object_open_opts o = {.sz = sizeof(o)};
	if (set & SET_BTF_PATH)
		o.btf_custom_path = btf_path;
	if (set & SET_PIN_ROOT)
		o.pin_root_path = pin_root;
	if (set & SET_KCONFIG) {
		size_t len = size ? data[0] : 0;
		if (size)
			data++, size--;
		if (len > size)
			len = size;
		if (len) {
			memcpy(kconfig, data, len);
			kconfig[len] = 0;
			o.kconfig = kconfig;
		} else {
			o.kconfig = builtin_kconfig;
		}
		data += len, size -= len;
	}
	o.kern_version = 0x050a11;

	struct bee_object *obj = open_obj(data, size, &o);
	if (!obj)
		return 0;
	size_t nprogs = bee_object_program_count(obj);
	if ((set & SET_WHOLE) || nprogs <= 1) {
		set_log_level(obj, set);
		load_obj(obj, set);
		return 0;
	}
	bee_object_close(obj);
	for (size_t i = 0; i < nprogs && i < MAX_PROGS; i++) {
		obj = open_obj(data, size, &o);
		REQUIRE(obj != NULL); /* it opened once: the same bytes open again */
		REQUIRE(bee_object_program_count(obj) == nprogs);
		size_t k = 0;
		for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
		     p = bee_object_next_program(obj, p), k++)
			REQUIRE(bee_program_set_autoload(p, k == i) == 0);
		set_log_level(obj, set);
		load_obj(obj, set);
	}
	return 0;
}

/*
 * An object may define maps of any size (a per-CPU array of 600 million
 * entries is one edited byte of BTF away), and the core allocates what it
 * is asked for, as the kernel does until memory runs out.  Here memory
 * runs out at 256 MiB per allocation: a larger one returns NULL, the
 * core answers -ENOMEM and the loader must refuse the object with a
 * message, instead of ASan poisoning gigabytes of shadow until the RSS
 * limit stops the run.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=256";
}

static void remove_work_dir(void)
{
	fuzz_rm_tree(work_dir, true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(work_dir, sizeof(work_dir), "/tmp/bee-fuzz-object-%d", (int)getpid());
	snprintf(pin_dir, sizeof(pin_dir), "%s/pins", work_dir);
	snprintf(pin_root, sizeof(pin_root), "%s/root", pin_dir);
	snprintf(btf_path, sizeof(btf_path), "%s/target.btf", work_dir);
	if ((mkdir(work_dir, 0700) && errno != EEXIST) || (mkdir(pin_dir, 0700) && errno != EEXIST)) {
		fprintf(stderr, "fuzz_object: cannot create %s: %s\n", pin_dir, strerror(errno));
		exit(1);
	}
	atexit(remove_work_dir);
	write_target_btf();
	return 0;
}

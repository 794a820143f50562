/*
 * test_core_relo.c - CO-RE relocation resolution and instruction patching.
 *
 *  - core_local.bpf.o against core_target.bpf.o's BTF: every .BTF.ext
 *    record is resolved and compared with the value worked out by hand
 *    from the target's layout (fields moved, removed, inside anonymous
 *    members, bitfields, sizes that grow, a ___flavor, agreeing and
 *    ambiguous candidates, missing types, reordered enums), then the
 *    section's real instructions are patched and checked;
 *  - TYPE_MATCHES on hand-made records (clang 14 cannot emit it);
 *  - core_vmlinux.bpf.o against /sys/kernel/btf/vmlinux when readable:
 *    task_struct's pid, tgid, comm[2], real_parent, compared with the
 *    offsets read from the kernel's BTF by name here;
 *  - malformed records (access strings, kinds, anonymous roots);
 *  - patching hand-made instructions: ldx offsets, size changes, mov
 *    immediates, lddw, validation, s16 overflow, poisoning.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/core_relo.h"
#include "objfile.h"
#include "unit.h"




struct object {
	void *elf;
	size_t size;
	struct bee_btf_data *btf;
	struct bee_btf_ext *ext;
};

static bool object_open(struct object *o, const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(o, 0, sizeof(*o));
	o->elf = objfile_read(path, &o->size);
	CHECK(o->elf, "%s: cannot read", path);
	if (!o->elf)
		return false;
	size_t len = 0;
	const void *b = objfile_section(o->elf, o->size, ".BTF", &len);
	struct bee_error err;
	bee_error_clear(&err);
	o->btf = b ? bee_btf_parse(b, len, NULL, &err) : NULL;
	CHECK(o->btf, "%s: .BTF: %s", name, err.msg);
	if (!o->btf)
		return false;
	b = objfile_section(o->elf, o->size, ".BTF.ext", &len);
	if (b) {
		o->ext = bee_btf_ext_parse(b, len, o->btf, &err);
		CHECK(o->ext, "%s: .BTF.ext: %s", name, err.msg);
	}
	return true;
}

static void object_close(struct object *o)
{
	bee_btf_ext_free(o->ext);
	bee_btf_free(o->btf);
	free(o->elf);
}

enum outcome {
	OK,           /* resolves to value and patches to it */
	POISON,       /* resolves to a poison request */
	PATCH_POISON, /* resolves, then patching poisons (unsafe size change) */
	AMBIGUOUS,    /* resolution fails: candidates disagree */
};
enum { VAL, LOCAL_ID, TARGET_ID };

struct expect {
	const char *root;
	const char *access;
	uint32_t kind;
	enum outcome outcome;
	uint64_t value;
	int value_is;  /* VAL, or the root's id locally / in the target */
	uint32_t new_size; /* LDX/ST/STX: the access size after patching, 0 = unchanged */
	bool seen;
};

/*
 * Values worked out from core_target.bpf.c's layout (see the comments
 * there): core_s {b@0, next@8, arr[6]@16, union{struct{a@40, anon_in@44},
 * both}, in@48 {pad, y@56, x@60}, grow@64 (u64), sgrow@72 (s64)};
 * core_bits {c, hi:40 @bit 8, mid:7 @bit 48, lo:2 @bit 55}.
 */
static struct expect expects[] = {
	/* core_fields */
	{"core_s", "0:0", BPF_CORE_FIELD_BYTE_OFFSET, OK, 40, VAL, 0, false},
	{"core_s", "0:1", BPF_CORE_FIELD_BYTE_OFFSET, OK, 0, VAL, 0, false},
	{"core_s", "0:2", BPF_CORE_FIELD_BYTE_OFFSET, POISON, 0, VAL, 0, false},
	{"core_s", "0:3:0", BPF_CORE_FIELD_BYTE_OFFSET, OK, 44, VAL, 0, false},
	{"core_s", "0:4:1", BPF_CORE_FIELD_BYTE_OFFSET, OK, 56, VAL, 0, false},
	{"core_s", "0:5:2", BPF_CORE_FIELD_BYTE_OFFSET, OK, 24, VAL, 0, false},
	{"core_s", "0:6", BPF_CORE_FIELD_BYTE_OFFSET, OK, 8, VAL, 0, false},
	{"core_s", "0:7", BPF_CORE_FIELD_BYTE_OFFSET, OK, 64, VAL, 8, false},
	{"core_s", "0:8", BPF_CORE_FIELD_BYTE_OFFSET, PATCH_POISON, 72, VAL, 0, false},
	{"core_s", "0:2", BPF_CORE_FIELD_EXISTS, OK, 0, VAL, 0, false},
	{"core_s", "0:4:0", BPF_CORE_FIELD_EXISTS, OK, 1, VAL, 0, false},
	{"core_s", "0:1", BPF_CORE_FIELD_BYTE_SIZE, OK, 8, VAL, 0, false},
	{"core_s", "0:5:3", BPF_CORE_FIELD_BYTE_OFFSET, OK, 28, VAL, 0, false},
	{"core_s", "0:5:1", BPF_CORE_FIELD_BYTE_SIZE, OK, 4, VAL, 0, false},
	/* core_bits: mid (target bits 48..54 of an int: load 4 bytes at 4) */
	{"core_bits", "0:1", BPF_CORE_FIELD_BYTE_OFFSET, OK, 4, VAL, 0, false},
	{"core_bits", "0:1", BPF_CORE_FIELD_BYTE_SIZE, OK, 4, VAL, 0, false},
	{"core_bits", "0:1", BPF_CORE_FIELD_SIGNED, OK, 1, VAL, 0, false},
	{"core_bits", "0:1", BPF_CORE_FIELD_LSHIFT_U64, OK, 64 - (48 + 7 - 32), VAL, 0, false},
	{"core_bits", "0:1", BPF_CORE_FIELD_RSHIFT_U64, OK, 64 - 7, VAL, 0, false},
	/* hi (bits 8..47 of a u64: load 8 bytes at 0) */
	{"core_bits", "0:2", BPF_CORE_FIELD_BYTE_OFFSET, OK, 0, VAL, 0, false},
	{"core_bits", "0:2", BPF_CORE_FIELD_BYTE_SIZE, OK, 8, VAL, 0, false},
	{"core_bits", "0:2", BPF_CORE_FIELD_LSHIFT_U64, OK, 64 - (8 + 40), VAL, 0, false},
	{"core_bits", "0:2", BPF_CORE_FIELD_RSHIFT_U64, OK, 64 - 40, VAL, 0, false},
	/* lo (bits 55..56 of an unsigned int: load 4 bytes at 4) */
	{"core_bits", "0:0", BPF_CORE_FIELD_SIGNED, OK, 0, VAL, 0, false},
	{"core_bits", "0:0", BPF_CORE_FIELD_LSHIFT_U64, OK, 64 - (55 + 2 - 32), VAL, 0, false},
	/* core_types */
	{"core_flav", "0:0", BPF_CORE_FIELD_BYTE_OFFSET, OK, 8, VAL, 0, false},
	{"core_flav", "0", BPF_CORE_TYPE_EXISTS, OK, 1, VAL, 0, false},
	{"core_flav", "0", BPF_CORE_TYPE_SIZE, OK, 16, VAL, 0, false},
	{"core_missing", "0", BPF_CORE_TYPE_EXISTS, OK, 0, VAL, 0, false},
	{"core_missing", "0", BPF_CORE_TYPE_SIZE, OK, 0, VAL, 0, false},
	{"core_s", "0", BPF_CORE_TYPE_ID_LOCAL, OK, 0, LOCAL_ID, 0, false},
	{"core_s", "0", BPF_CORE_TYPE_ID_TARGET, OK, 0, TARGET_ID, 0, false},
	{"core_missing", "0", BPF_CORE_TYPE_ID_TARGET, OK, 0, VAL, 0, false},
	{"core_e", "1", BPF_CORE_ENUMVAL_EXISTS, OK, 1, VAL, 0, false},
	{"core_e", "1", BPF_CORE_ENUMVAL_VALUE, OK, 20, VAL, 0, false},
	{"core_e", "2", BPF_CORE_ENUMVAL_EXISTS, OK, 0, VAL, 0, false},
	{"core_e", "2", BPF_CORE_ENUMVAL_VALUE, POISON, 0, VAL, 0, false},
	/* core_poison */
	{"core_missing", "0:0", BPF_CORE_FIELD_EXISTS, OK, 0, VAL, 0, false},
	{"core_missing", "0:0", BPF_CORE_FIELD_BYTE_OFFSET, POISON, 0, VAL, 0, false},
	/* core_ambiguous, core_agreed */
	{"core_amb", "0:0", BPF_CORE_FIELD_BYTE_OFFSET, AMBIGUOUS, 0, VAL, 0, false},
	{"core_same", "0:0", BPF_CORE_FIELD_BYTE_OFFSET, OK, 4, VAL, 0, false},
};

static struct expect *find_expect(const char *root, const char *access, uint32_t kind)
{
	for (size_t i = 0; i < LEN(expects); i++)
		if (!strcmp(expects[i].root, root) && !strcmp(expects[i].access, access) &&
		    expects[i].kind == kind)
			return &expects[i];
	return NULL;
}

static bool is_poisoned(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) && insn->imm == BEE_CORE_POISON_HELPER &&
	       !insn->src_reg && !insn->dst_reg && !insn->off;
}

static uint64_t insn_value(const struct bpf_insn *insn)
{
	switch (BPF_CLASS(insn->code)) {
	case BPF_LDX:
	case BPF_ST:
	case BPF_STX:
		return (uint64_t)(int64_t)insn->off;
	case BPF_LD:
		return (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32);
	default:
		return (uint64_t)(int64_t)insn->imm;
	}
}

static void test_local_vs_target(const char *dir)
{
	struct object lo, to;
	if (!object_open(&lo, dir, "core_local.bpf.o") || !object_open(&to, dir, "core_target.bpf.o"))
		return;
	CHECK(lo.ext, "core_local.bpf.o has no .BTF.ext");
	if (!lo.ext)
		return;
	int sec = bee_btf_ext_find_sec(lo.ext, BEE_BTF_EXT_CORE_RELO, "socket");
	CHECK(sec >= 0, "no CO-RE records for section socket");
	size_t len = 0;
	const struct bpf_insn *code = objfile_section(lo.elf, lo.size, "socket", &len);
	CHECK(code && len % 8 == 0, "no socket section");
	if (sec < 0 || !code)
		return;
	size_t ninsn = len / 8;
	struct bpf_insn *insns = malloc(len);
	memcpy(insns, code, len);

	long local_s = bee_btf_find_by_name_kind(lo.btf, "core_s", BTF_KIND_STRUCT);
	long target_s = bee_btf_find_by_name_kind(to.btf, "core_s", BTF_KIND_STRUCT);
	CHECK(local_s > 0 && target_s > 0, "core_s ids %ld %ld", local_s, target_s);

	unsigned nr = bee_btf_ext_sec_nr(lo.ext, BEE_BTF_EXT_CORE_RELO, (unsigned)sec);
	CHECK(nr >= 40, "only %u CO-RE records", nr);
	unsigned poisoned = 0, patched = 0;
	for (unsigned i = 0; i < nr; i++) {
		struct bee_btf_core_relo r;
		CHECK(bee_btf_ext_core_relo(lo.ext, (unsigned)sec, i, &r) == 0, "record %u", i);
		const char *root = bee_btf_name(lo.btf, r.type_id);
		struct expect *e = find_expect(root, r.access, r.kind);
		CHECK(e, "unexpected record %s %s %s", root, r.access, bee_btf_core_relo_kind_str(r.kind));
		if (!e)
			continue;
		e->seen = true;
		size_t idx = r.insn_off / 8;
		CHECK(idx < ninsn, "record %u beyond the section", i);
		if (idx >= ninsn)
			continue;

		struct bee_core_result res;
		struct bee_error err;
		bee_error_clear(&err);
		int ret = bee_core_relo_resolve(&r, lo.btf, to.btf, &res, &err);
		if (e->outcome == AMBIGUOUS) {
			CHECK(ret == -EINVAL && strstr(err.msg, "ambiguity") && strstr(err.msg, "core_amb"),
			      "%s %s: %d %s", root, r.access, ret, err.msg);
			continue;
		}
		CHECK(ret == 0, "%s %s %s: %d %s", root, r.access, bee_btf_core_relo_kind_str(r.kind),
		      ret, err.msg);
		if (ret)
			continue;
		uint64_t want = e->value_is == LOCAL_ID	 ? (uint64_t)local_s
				: e->value_is == TARGET_ID ? (uint64_t)target_s
							   : e->value;
		if (e->outcome == POISON) {
			CHECK(res.poison && !res.exists, "%s %s %s: not poisoned", root, r.access,
			      bee_btf_core_relo_kind_str(r.kind));
		} else {
			CHECK(!res.poison && res.value == want, "%s %s %s: value %llu poison %d, want %llu",
			      root, r.access, bee_btf_core_relo_kind_str(r.kind),
			      (unsigned long long)res.value, res.poison, (unsigned long long)want);
		}
		/* The compiled value is what the local BTF implies (bitfield layouts excepted). */
		if (res.validate && !res.poison)
			CHECK(insn_value(&insns[idx]) == res.orig_value, "%s %s: insn has %llu, local %llu",
			      root, r.access, (unsigned long long)insn_value(&insns[idx]),
			      (unsigned long long)res.orig_value);

		uint8_t code_before = insns[idx].code;
		bee_error_clear(&err);
		ret = bee_core_relo_patch(&insns[idx], ninsn - idx, &r, &res, &err);
		if (e->outcome == POISON || e->outcome == PATCH_POISON) {
			CHECK(ret == 1 && is_poisoned(&insns[idx]), "%s %s: patch %d, not poisoned: %s",
			      root, r.access, ret, err.msg);
			CHECK(err.code == 0 && strstr(err.msg, root) && strstr(err.msg, "poisoned"),
			      "poison message: %s", err.msg);
			if (e->kind == BPF_CORE_ENUMVAL_VALUE || e->outcome == PATCH_POISON)
				printf("  %s\n", err.msg);
			if (!strcmp(root, "core_missing"))
				CHECK(strstr(err.msg, "no STRUCT named core_missing in target BTF"), "%s", err.msg);
			else if (e->outcome == POISON)
				CHECK(strstr(err.msg, "not found in target BTF"), "%s", err.msg);
			if (code_before == (BPF_LD | BPF_IMM | BPF_DW))
				CHECK(is_poisoned(&insns[idx + 1]), "second lddw slot not poisoned");
			poisoned++;
			continue;
		}
		CHECK(ret == 0, "%s %s: patch %d %s", root, r.access, ret, err.msg);
		CHECK(insn_value(&insns[idx]) == want, "%s %s %s: patched to %llu, want %llu", root,
		      r.access, bee_btf_core_relo_kind_str(r.kind),
		      (unsigned long long)insn_value(&insns[idx]), (unsigned long long)want);
		if (e->new_size)
			CHECK(BPF_SIZE(insns[idx].code) == BPF_DW && BPF_CLASS(insns[idx].code) == BPF_LDX,
			      "%s %s: code 0x%02x not an 8-byte load", root, r.access, insns[idx].code);
		else
			CHECK(insns[idx].code == code_before, "%s %s: code changed", root, r.access);
		patched++;
	}
	for (size_t i = 0; i < LEN(expects); i++)
		CHECK(expects[i].seen, "no record %s %s %s", expects[i].root, expects[i].access,
		      bee_btf_core_relo_kind_str(expects[i].kind));
	CHECK(poisoned == 4, "%u poisoned", poisoned);
	printf("core_local vs core_target: %u records, %u patched, %u poisoned\n", nr, patched, poisoned);

	/* The spec description names kind, type, access and offset (libbpf's format). */
	struct bee_btf_core_relo r = {.insn_off = 0, .type_id = (uint32_t)local_s, .access = "0:4:1",
				      .kind = BPF_CORE_FIELD_BYTE_OFFSET};
	struct bee_core_result res;
	CHECK(bee_core_relo_resolve(&r, lo.btf, to.btf, &res, NULL) == 0, "in.y");
	char want_desc[96];
	snprintf(want_desc, sizeof(want_desc), "<byte_off> [%ld] struct core_s.in.y (0:4:1 @ offset 28)",
		 local_s);
	CHECK(!strcmp(res.desc, want_desc), "desc '%s'", res.desc);
	CHECK(res.target_type_id == (uint32_t)target_s, "target id %u", res.target_type_id);

	/* TYPE_MATCHES: all local members present with matching types. */
	struct {
		const char *name;
		uint64_t want;
	} matches[] = {
		{"core_inner", 1}, /* {x, y} vs {pad, y, x} */
		{"core_flav", 1},  /* vs core_flav___v2 */
		{"core_s", 0},     /* "removed" is gone */
		{"core_bits", 0},  /* hi: unsigned int vs unsigned long long */
		{"core_missing", 0},
	};
	for (size_t i = 0; i < LEN(matches); i++) {
		long id = bee_btf_find_by_name_kind(lo.btf, matches[i].name, BTF_KIND_STRUCT);
		CHECK(id > 0, "%s", matches[i].name);
		r = (struct bee_btf_core_relo){.type_id = (uint32_t)id, .access = "0", .kind = 12};
		struct bee_error err;
		bee_error_clear(&err);
		int ret = bee_core_relo_resolve(&r, lo.btf, to.btf, &res, &err);
		CHECK(ret == 0 && !res.poison && res.value == matches[i].want,
		      "type_matches %s: %d value %llu (%s)", matches[i].name, ret,
		      (unsigned long long)res.value, err.msg);
	}

	/* Malformed records. */
	long anon = -1;
	struct bee_btf_member_info m;
	if (bee_btf_member(lo.btf, (uint32_t)local_s, 3, &m) == 0)
		anon = m.type;
	struct {
		uint32_t type_id;
		const char *access;
		uint32_t kind;
		int ret;
		const char *msg;
	} bad[] = {
		{(uint32_t)local_s, "0:99", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "member index"},
		{(uint32_t)local_s, "", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "empty"},
		{(uint32_t)local_s, "0:x", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "list of indexes"},
		{(uint32_t)local_s, ":0", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "empty"},
		{(uint32_t)local_s, "0:5:4", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "array index"},
		{(uint32_t)local_s, "0:0:1", BPF_CORE_FIELD_BYTE_OFFSET, -EINVAL, "neither"},
		{(uint32_t)local_s, "0:1", BPF_CORE_TYPE_SIZE, -EINVAL, "\"0\""},
		{(uint32_t)local_s, "0", BPF_CORE_ENUMVAL_VALUE, -EINVAL, "enumerator"},
		{(uint32_t)local_s, "0", 13, -EOPNOTSUPP, "kind 13"},
		{0, "0", BPF_CORE_TYPE_SIZE, -EINVAL, "out of range"},
		{100000, "0", BPF_CORE_TYPE_SIZE, -EINVAL, "out of range"},
		{(uint32_t)anon, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, -EOPNOTSUPP, "anonymous"},
		{(uint32_t)local_s, "0:6", BPF_CORE_FIELD_LSHIFT_U64, 0, NULL},
		{(uint32_t)local_s, "0:5:1", BPF_CORE_FIELD_SIGNED, -EINVAL, "array access"},
	};
	for (size_t i = 0; i < LEN(bad); i++) {
		r = (struct bee_btf_core_relo){.type_id = bad[i].type_id, .access = bad[i].access,
					       .kind = bad[i].kind};
		struct bee_error err;
		bee_error_clear(&err);
		int ret = bee_core_relo_resolve(&r, lo.btf, to.btf, &res, &err);
		CHECK(ret == bad[i].ret && (!bad[i].msg || strstr(err.msg, bad[i].msg)),
		      "bad[%zu] '%s': %d '%s'", i, bad[i].access, ret, err.msg);
	}
	/* TYPE_ID_LOCAL needs no target. */
	r = (struct bee_btf_core_relo){.type_id = (uint32_t)local_s, .access = "0",
				       .kind = BPF_CORE_TYPE_ID_LOCAL};
	CHECK(bee_core_relo_resolve(&r, lo.btf, NULL, &res, NULL) == 0 &&
		      res.value == (uint64_t)local_s && !res.validate,
	      "type_id_local without target");
	r.kind = BPF_CORE_TYPE_SIZE;
	CHECK(bee_core_relo_resolve(&r, lo.btf, NULL, &res, NULL) == -EINVAL, "no target");
	/* Against its own BTF every record resolves to what clang compiled. */
	unsigned same = 0;
	for (unsigned i = 0; i < nr; i++) {
		bee_btf_ext_core_relo(lo.ext, (unsigned)sec, i, &r);
		if (!strcmp(bee_btf_name(lo.btf, r.type_id), "core_amb"))
			continue;
		int ret = bee_core_relo_resolve(&r, lo.btf, lo.btf, &res, NULL);
		CHECK(ret == 0 && res.exists && !res.poison && res.value == res.orig_value,
		      "self %s %s: %d", bee_btf_name(lo.btf, r.type_id), r.access, ret);
		CHECK(!res.validate || insn_value(&code[r.insn_off / 8]) == res.value,
		      "self %s %s: compiled %llu, resolved %llu", bee_btf_name(lo.btf, r.type_id),
		      r.access, (unsigned long long)insn_value(&code[r.insn_off / 8]),
		      (unsigned long long)res.value);
		same++;
	}
	CHECK(same + 1 == nr, "self: %u of %u", same, nr);
	free(insns);
	object_close(&lo);
	object_close(&to);
}

/* Offset in bytes of a direct member of struct id, by name (-1 when absent). */
static long member_offset(const struct bee_btf_data *btf, uint32_t id, const char *name, uint32_t *type)
{
	struct bee_btf_type_info ti;
	if (bee_btf_type(btf, id, &ti))
		return -1;
	for (unsigned i = 0; i < ti.vlen; i++) {
		struct bee_btf_member_info m;
		if (bee_btf_member(btf, id, i, &m) == 0 && !strcmp(m.name, name)) {
			if (type)
				*type = m.type;
			return m.bit_offset / 8;
		}
	}
	return -1;
}

static void test_vmlinux(const char *dir)
{
	size_t vsize = 0;
	void *vraw = objfile_read("/sys/kernel/btf/vmlinux", &vsize);
	if (!vraw) {
		printf("SKIP vmlinux: /sys/kernel/btf/vmlinux not readable\n");
		return;
	}
	struct bee_error err;
	bee_error_clear(&err);
	struct bee_btf_data *vm = bee_btf_parse(vraw, vsize, NULL, &err);
	CHECK(vm, "vmlinux: %s", err.msg);
	struct object o;
	if (!vm || !object_open(&o, dir, "core_vmlinux.bpf.o")) {
		bee_btf_free(vm);
		free(vraw);
		return;
	}
	long task = bee_btf_find_by_name_kind(vm, "task_struct", BTF_KIND_STRUCT);
	CHECK(task > 0, "no task_struct in vmlinux");
	uint32_t comm_type = 0;
	long pid = member_offset(vm, (uint32_t)task, "pid", NULL);
	long tgid = member_offset(vm, (uint32_t)task, "tgid", NULL);
	long comm = member_offset(vm, (uint32_t)task, "comm", &comm_type);
	long parent = member_offset(vm, (uint32_t)task, "real_parent", NULL);
	CHECK(pid > 0 && tgid > 0 && comm > 0 && parent > 0, "offsets %ld %ld %ld %ld", pid, tgid,
	      comm, parent);
	long long task_size = bee_btf_resolve_size(vm, (uint32_t)task);
	long long comm_size = bee_btf_resolve_size(vm, comm_type);
	long mt = bee_btf_find_by_name_kind(vm, "bpf_map_type", BTF_KIND_ENUM);
	int64_t ringbuf = -1;
	struct bee_btf_type_info ti;
	if (mt > 0 && bee_btf_type(vm, (uint32_t)mt, &ti) == 0) {
		for (unsigned i = 0; i < ti.vlen; i++) {
			struct bee_btf_enum_info ei;
			if (!bee_btf_enum_value(vm, (uint32_t)mt, i, &ei) &&
			    !strcmp(ei.name, "BPF_MAP_TYPE_RINGBUF"))
				ringbuf = (int64_t)ei.uval;
		}
	}
	CHECK(ringbuf > 0, "no BPF_MAP_TYPE_RINGBUF in vmlinux");
	printf("vmlinux task_struct [%ld]: size %lld, pid@%ld tgid@%ld comm@%ld real_parent@%ld; "
	       "BPF_MAP_TYPE_RINGBUF = %lld\n",
	       task, task_size, pid, tgid, comm, parent, (long long)ringbuf);

	struct {
		const char *access;
		uint32_t kind;
		long long want;
		bool seen;
	} want[] = {
		{"0:0", BPF_CORE_FIELD_BYTE_OFFSET, pid, false},
		{"0:1", BPF_CORE_FIELD_BYTE_OFFSET, tgid, false},
		{"0:3", BPF_CORE_FIELD_BYTE_OFFSET, parent, false},
		{"0:2:2", BPF_CORE_FIELD_BYTE_OFFSET, comm + 2, false},
		{"0:2", BPF_CORE_FIELD_BYTE_SIZE, comm_size, false},
		{"0:4", BPF_CORE_FIELD_EXISTS, 0, false},
		{"0", BPF_CORE_TYPE_SIZE, task_size, false},
		{"0", BPF_CORE_ENUMVAL_VALUE, ringbuf, false},
	};
	int sec = bee_btf_ext_find_sec(o.ext, BEE_BTF_EXT_CORE_RELO, "kprobe/do_nanosleep");
	size_t len = 0;
	const struct bpf_insn *code = objfile_section(o.elf, o.size, "kprobe/do_nanosleep", &len);
	CHECK(sec >= 0 && code, "no CO-RE records / code");
	unsigned nr = sec >= 0 ? bee_btf_ext_sec_nr(o.ext, BEE_BTF_EXT_CORE_RELO, (unsigned)sec) : 0;
	struct bpf_insn *insns = malloc(len ? len : 8);
	if (code)
		memcpy(insns, code, len);
	for (unsigned i = 0; i < nr; i++) {
		struct bee_btf_core_relo r;
		bee_btf_ext_core_relo(o.ext, (unsigned)sec, i, &r);
		bool found = false;
		for (size_t k = 0; k < LEN(want); k++) {
			if (strcmp(want[k].access, r.access) || want[k].kind != r.kind)
				continue;
			found = want[k].seen = true;
			struct bee_core_result res;
			bee_error_clear(&err);
			int ret = bee_core_relo_resolve(&r, o.btf, vm, &res, &err);
			CHECK(ret == 0 && !res.poison && (long long)res.value == want[k].want,
			      "vmlinux %s %s: %d value %llu want %lld (%s)", r.access,
			      bee_btf_core_relo_kind_str(r.kind), ret, (unsigned long long)res.value,
			      want[k].want, err.msg);
			size_t idx = r.insn_off / 8;
			ret = idx < len / 8 ? bee_core_relo_patch(&insns[idx], len / 8 - idx, &r, &res, &err)
					    : -1;
			CHECK(ret == 0 && (long long)insn_value(&insns[idx]) == want[k].want,
			      "vmlinux patch %s: %d %s", r.access, ret, err.msg);
		}
		CHECK(found, "unexpected vmlinux record %s %s", r.access, bee_btf_core_relo_kind_str(r.kind));
	}
	for (size_t k = 0; k < LEN(want); k++)
		CHECK(want[k].seen, "no vmlinux record %s", want[k].access);
	free(insns);
	object_close(&o);
	bee_btf_free(vm);
	free(vraw);
}

/*
 * Every record of the CO-RE objects against every other BTF (vmlinux,
 * each object's): whatever the answer, it is an answer (no crash, ASan
 * clean), and a resolved record patches or poisons its instruction.
 */
static void test_cross(const char *dir)
{
	size_t vsize = 0;
	void *vraw = objfile_read("/sys/kernel/btf/vmlinux", &vsize);
	struct bee_btf_data *vm = vraw ? bee_btf_parse(vraw, vsize, NULL, NULL) : NULL;
	const char *names[] = {"core_local.bpf.o", "core_target.bpf.o", "core_vmlinux.bpf.o",
			       "btf_core.bpf.o"};
	struct object objs[LEN(names)];
	bool ok[LEN(names)];
	for (size_t i = 0; i < LEN(names); i++)
		ok[i] = object_open(&objs[i], dir, names[i]);
	unsigned resolved = 0, refused = 0;
	for (size_t i = 0; i < LEN(names); i++) {
		if (!ok[i] || !objs[i].ext)
			continue;
		for (unsigned sec = 0; sec < bee_btf_ext_sec_count(objs[i].ext, BEE_BTF_EXT_CORE_RELO); sec++) {
			const char *sname = bee_btf_ext_sec_name(objs[i].ext, BEE_BTF_EXT_CORE_RELO, sec);
			size_t len = 0;
			const void *code = objfile_section(objs[i].elf, objs[i].size, sname, &len);
			if (!code)
				continue;
			struct bpf_insn *insns = malloc(len);
			for (size_t t = 0; t <= LEN(names); t++) {
				const struct bee_btf_data *target = t < LEN(names) ? (ok[t] ? objs[t].btf : NULL) : vm;
				if (!target)
					continue;
				memcpy(insns, code, len);
				unsigned nr = bee_btf_ext_sec_nr(objs[i].ext, BEE_BTF_EXT_CORE_RELO, sec);
				for (unsigned k = 0; k < nr; k++) {
					struct bee_btf_core_relo r;
					bee_btf_ext_core_relo(objs[i].ext, sec, k, &r);
					struct bee_core_result res;
					struct bee_error err;
					bee_error_clear(&err);
					int ret = bee_core_relo_resolve(&r, objs[i].btf, target, &res, &err);
					if (ret) {
						CHECK(ret == -EINVAL && strstr(err.msg, "ambiguity"),
						      "%s -> %zu: %d %s", names[i], t, ret, err.msg);
						refused++;
						continue;
					}
					size_t idx = r.insn_off / 8;
					ret = bee_core_relo_patch(&insns[idx], len / 8 - idx, &r, &res, &err);
					CHECK(ret == 0 || ret == 1 || ret == -EINVAL || ret == -ERANGE,
					      "%s patch: %d %s", names[i], ret, err.msg);
					resolved++;
				}
			}
			free(insns);
		}
	}
	printf("cross resolution: %u resolved, %u refused (ambiguous)\n", resolved, refused);
	CHECK(resolved > 100, "only %u cross resolutions", resolved);
	for (size_t i = 0; i < LEN(names); i++)
		if (ok[i])
			object_close(&objs[i]);
	bee_btf_free(vm);
	free(vraw);
}

/* ---- patching hand-made instructions ----------------------------------- */

static struct bee_core_result field_res(uint64_t orig, uint64_t val)
{
	struct bee_core_result r;
	memset(&r, 0, sizeof(r));
	r.orig_value = orig;
	r.value = val;
	r.validate = true;
	r.exists = true;
	snprintf(r.desc, sizeof(r.desc), "<byte_off> [2] struct foo.bar (0:1 @ offset %llu)",
		 (unsigned long long)orig);
	return r;
}

static void test_patch(void)
{
	struct bee_btf_core_relo relo = {.insn_off = 16, .type_id = 2, .access = "0:1", .kind = 0};
	struct bee_error err;
	struct bee_core_result res = field_res(8, 40);

	/* ldx: offset rewritten, size kept. */
	struct bpf_insn i1 = LDX(BPF_W, 0, 1, 8);
	CHECK(bee_core_relo_patch(&i1, 1, &relo, &res, &err) == 0 && i1.off == 40 &&
		      i1.code == (BPF_LDX | BPF_MEM | BPF_W) && i1.dst_reg == 0 && i1.src_reg == 1,
	      "ldx patch: off %d", i1.off);
	/* st and stx too. */
	struct bpf_insn i2[] = {STX(BPF_DW, 1, 2, 8), ST(BPF_H, 1, 8, 7)};
	CHECK(bee_core_relo_patch(&i2[0], 2, &relo, &res, NULL) == 0 && i2[0].off == 40, "stx");
	CHECK(bee_core_relo_patch(&i2[1], 1, &relo, &res, NULL) == 0 && i2[1].off == 40 &&
		      i2[1].imm == 7, "st");
	/* The compiled value must be what the local BTF says. */
	struct bpf_insn i3 = LDX(BPF_W, 0, 1, 12);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&i3, 1, &relo, &res, &err) == -EINVAL && i3.off == 12 &&
		      err.insn == 2 && strstr(err.msg, "got 12"),
	      "validation: %s", err.msg);
	/* Unless validation is off (bitfields). */
	res.validate = false;
	CHECK(bee_core_relo_patch(&i3, 1, &relo, &res, NULL) == 0 && i3.off == 40, "no validation");
	res.validate = true;
	/* s16 overflow is refused, the instruction untouched. */
	res = field_res(8, 40000);
	struct bpf_insn i4 = LDX(BPF_W, 0, 1, 8);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&i4, 1, &relo, &res, &err) == -ERANGE && i4.off == 8 &&
		      strstr(err.msg, "40000"),
	      "s16 overflow: %s", err.msg);
	res = field_res(8, 32767);
	CHECK(bee_core_relo_patch(&i4, 1, &relo, &res, NULL) == 0 && i4.off == 32767, "s16 max");

	/* Size change: an unsigned field grown from 4 to 8 bytes. */
	res = field_res(8, 16);
	res.orig_size = 4;
	res.new_size = 8;
	struct bpf_insn i5 = LDX(BPF_W, 3, 1, 8);
	CHECK(bee_core_relo_patch(&i5, 1, &relo, &res, NULL) == 0 && i5.off == 16 &&
		      i5.code == (BPF_LDX | BPF_MEM | BPF_DW),
	      "size change: code 0x%02x", i5.code);
	/* ... and shrunk to 2. */
	res.new_size = 2;
	struct bpf_insn i5b = LDX(BPF_W, 3, 1, 8);
	CHECK(bee_core_relo_patch(&i5b, 1, &relo, &res, NULL) == 0 &&
		      i5b.code == (BPF_LDX | BPF_MEM | BPF_H),
	      "size shrink");
	/* The load must have the size the local field has. */
	res.new_size = 8;
	struct bpf_insn i6 = LDX(BPF_B, 3, 1, 8);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&i6, 1, &relo, &res, &err) == -EINVAL && strstr(err.msg, "size"),
	      "size mismatch: %s", err.msg);
	res.new_size = 3;
	struct bpf_insn i6b = LDX(BPF_W, 3, 1, 8);
	CHECK(bee_core_relo_patch(&i6b, 1, &relo, &res, NULL) == -EINVAL, "new size 3");
	/* A signed field that changed size: poisoned. */
	res.new_size = 8;
	res.fail_memsz_adjust = true;
	struct bpf_insn i7 = LDX(BPF_W, 3, 1, 8);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&i7, 1, &relo, &res, &err) == 1 && is_poisoned(&i7) &&
		      err.code == 0 && strstr(err.msg, "struct foo.bar"),
	      "memsz poison: %s", err.msg);

	/* mov imm / add imm (32 and 64 bit). */
	res = field_res(4, 8);
	struct bpf_insn i8[] = {MOV64_IMM(2, 4), ADD64_IMM(2, 4),
				INSN(BPF_ALU | BPF_MOV | BPF_K, 2, 0, 0, 4)};
	for (size_t k = 0; k < LEN(i8); k++)
		CHECK(bee_core_relo_patch(&i8[k], 1, &relo, &res, NULL) == 0 && i8[k].imm == 8,
		      "alu imm %zu", k);
	struct bpf_insn i9 = MOV64_REG(2, 3);
	CHECK(bee_core_relo_patch(&i9, 1, &relo, &res, NULL) == -EINVAL, "alu reg");
	struct bpf_insn i10 = MOV64_IMM(2, 5);
	CHECK(bee_core_relo_patch(&i10, 1, &relo, &res, NULL) == -EINVAL && i10.imm == 5,
	      "alu validation");
	/* Negative enum values fit (sign-extended); 33-bit ones do not. */
	res = field_res((uint64_t)-3, (uint64_t)-7);
	struct bpf_insn i11 = MOV64_IMM(2, -3);
	CHECK(bee_core_relo_patch(&i11, 1, &relo, &res, NULL) == 0 && i11.imm == -7, "negative imm");
	res = field_res(4, 1ull << 33);
	struct bpf_insn i12 = MOV64_IMM(2, 4);
	CHECK(bee_core_relo_patch(&i12, 1, &relo, &res, NULL) == -ERANGE && i12.imm == 4, "imm > 32 bits");
	res = field_res(4, 0xffffffffull);
	CHECK(bee_core_relo_patch(&i12, 1, &relo, &res, NULL) == 0 && i12.imm == -1, "u32 max");

	/* lddw: 64-bit value across both slots. */
	res = field_res(2, 0x100000002ull);
	struct bpf_insn ld[] = {INSN(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 2), INSN(0, 0, 0, 0, 0), EXIT()};
	CHECK(bee_core_relo_patch(ld, 3, &relo, &res, NULL) == 0 && ld[0].imm == 2 && ld[1].imm == 1,
	      "lddw: %d %d", ld[0].imm, ld[1].imm);
	struct bpf_insn ld2[] = {INSN(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 2), INSN(0, 0, 0, 0, 0)};
	CHECK(bee_core_relo_patch(ld2, 1, &relo, &res, NULL) == -EINVAL, "lddw cut short");
	ld2[1].off = 1;
	CHECK(bee_core_relo_patch(ld2, 2, &relo, &res, NULL) == -EINVAL, "lddw bad second slot");
	struct bpf_insn ld3[] = {INSN(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 2),
				 INSN(0, 0, 0, 0, 0)};
	CHECK(bee_core_relo_patch(ld3, 2, &relo, &res, NULL) == -EINVAL, "lddw map form");

	/* Anything else cannot carry a CO-RE value. */
	struct bpf_insn j = JEQ_IMM(1, 4, 2);
	res = field_res(4, 8);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&j, 1, &relo, &res, &err) == -EINVAL && strstr(err.msg, "0x15"),
	      "jmp: %s", err.msg);
	struct bee_btf_core_relo odd = relo;
	odd.insn_off = 12;
	CHECK(bee_core_relo_patch(&i1, 1, &odd, &res, NULL) == -EINVAL, "unaligned insn_off");

	/* Poisoning: call 0xbad2310, both slots of an lddw, a message naming access and reason. */
	res = field_res(8, 0);
	res.poison = true;
	res.exists = false;
	snprintf(res.reason, sizeof(res.reason), "field not found in target BTF");
	struct bpf_insn p1 = LDX(BPF_W, 0, 1, 8);
	bee_error_clear(&err);
	CHECK(bee_core_relo_patch(&p1, 1, &relo, &res, &err) == 1 && is_poisoned(&p1) &&
		      p1.imm == 0xbad2310 && err.code == 0 && err.insn == 2,
	      "poison ldx");
	CHECK(strstr(err.msg, "struct foo.bar") && strstr(err.msg, "0:1") &&
		      strstr(err.msg, "field not found"),
	      "poison message: %s", err.msg);
	struct bpf_insn p2[] = {INSN(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 2), INSN(0, 0, 0, 0, 0)};
	CHECK(bee_core_relo_patch(p2, 2, &relo, &res, NULL) == 1 && is_poisoned(&p2[0]) &&
		      is_poisoned(&p2[1]),
	      "poison lddw");
	struct bpf_insn p3 = MOV64_IMM(2, 1);
	CHECK(bee_core_relo_patch(&p3, 1, &relo, &res, NULL) == 1 && is_poisoned(&p3), "poison mov");
}

int main(void)
{
	const char *dir = BEE_TEST_OBJECTS_DIR;
	test_patch();
	if (*dir) {
		test_local_vs_target(dir);
		test_vmlinux(dir);
		test_cross(dir);
	} else {
		printf("SKIP objects: no clang with a BPF target when configured\n");
	}
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}

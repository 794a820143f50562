/*
 * map.c - `bee map`: bpftool's map commands on a bee instance.
 *
 * Theory of operation.  As prog.c: the instance has every pin of the pin
 * directory open, a MAP is `id N`, `pinned PATH` or `name NAME`, and the
 * commands are thin layers over the bpf() wrappers.  Keys and values are
 * bytes, written as bpftool takes them (`key 1 0 0 0`, `key hex 01 00 00
 * 00`, `0x2a`) and printed as bpftool prints maps without BTF: hex bytes,
 * two spaces every eight, on one line when key and value are short
 * (`key: 01 00 00 00  value: 2a 00 00 00 00 00 00 00`) and on their own
 * lines otherwise; per-CPU values once per CPU.  A map created with BTF
 * for its value (btf_value_type_id in its info) is printed from its types
 * instead (btf_value.c), as bpftool does: in plain text a pretty JSON
 * layout ({"key": ..., "value": ...}, per-CPU maps "values": [{"cpu": N,
 * "value": ...}], a dump being one array of those and no "Found" line);
 * with --json the hex bytes and a "formatted" member holding the same.
 * Changes reach other invocations through the pin files, which the core
 * rewrites when the instance is freed (tool_done()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee_tool.h"
#include "btf/btf.h"
#include "btf_value.h"

static void map_help(FILE *out)
{
	fprintf(out,
		"Usage: bee [OPTIONS] map { show | list } [MAP]\n"
		"       bee [OPTIONS] map create FILE type TYPE key KEY_SIZE value VALUE_SIZE \\\n"
		"                     entries MAX_ENTRIES name NAME [flags FLAGS]\n"
		"       bee [OPTIONS] map dump MAP\n"
		"       bee [OPTIONS] map update MAP [key DATA] [value VALUE] [UPDATE_FLAGS]\n"
		"       bee [OPTIONS] map lookup MAP [key DATA]\n"
		"       bee [OPTIONS] map getnext MAP [key DATA]\n"
		"       bee [OPTIONS] map delete MAP key DATA\n"
		"       bee [OPTIONS] map pin MAP FILE\n"
		"       bee [OPTIONS] map freeze MAP\n"
		"       bee [OPTIONS] map { peek | pop | dequeue } MAP\n"
		"       bee [OPTIONS] map { push | enqueue } MAP value VALUE\n"
		"       bee map help\n"
		"\n"
		"       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }\n"
		"       DATA := { [hex] BYTES }\n"
		"       VALUE := { DATA }\n"
		"       UPDATE_FLAGS := { any | exist | noexist }\n"
		"       TYPE := { hash | array | percpu_hash | percpu_array | lru_hash |\n"
		"                 lru_percpu_hash | lpm_trie | queue | stack | ringbuf |\n"
		"                 bloom_filter | ... (bpftool's names) }\n"
		"       OPTIONS := { -j|--json [-p|--pretty] | --pin-dir DIR }\n"
		"\n"
		"BYTES are numbers (1, 0x2a), or hex digits after 'hex'; exactly the map's key\n"
		"or value size.  State lives in the pin directory: see 'bee prog help'.\n");
}

struct map_ref {
	int fd;
	struct bpf_map_info info;
	struct bee_btf_data *btf; /* the key/value types, when the map has them */
};

static int map_info(struct bee *bee, int fd, struct bpf_map_info *info)
{
	memset(info, 0, sizeof(*info));
	uint32_t len = sizeof(*info);
	return bee_obj_get_info_by_fd(bee, fd, info, &len);
}

/* Parse MAP at argv[0..]; returns the words used or -1 after an error. */
static int map_parse(int argc, char **argv, struct map_ref *m)
{
	struct bee *bee = tool_bee();
	if (!bee)
		return -1;
	if (argc < 2) {
		tool_err("expected MAP: id ID, pinned FILE or name NAME");
		return -1;
	}
	int fd = -1;
	if (tool_is_prefix(argv[0], "id")) {
		uint32_t id;
		if (tool_parse_u32(argv[1], "id", &id))
			return -1;
		fd = bee_map_get_fd_by_id(bee, id);
		if (fd < 0) {
			tool_err("get map by id (%u): %s", id, strerror(-fd));
			return -1;
		}
	} else if (tool_is_prefix(argv[0], "pinned")) {
		fd = bee_obj_get(bee, argv[1]);
		if (fd < 0) {
			tool_pin_err("bpf obj get", argv[1], fd);
			return -1;
		}
		if (tool_fd_kind(bee, fd) != TOOL_FD_MAP) {
			tool_err("%s: not a map", argv[1]);
			return -1;
		}
	} else if (tool_is_prefix(argv[0], "name")) {
		uint32_t id = 0;
		while (bee_map_get_next_id(bee, id, &id) == 0) {
			int f = bee_map_get_fd_by_id(bee, id);
			struct bpf_map_info info;
			if (f < 0)
				continue;
			if (map_info(bee, f, &info) == 0 &&
			    !strncmp(info.name, argv[1], sizeof(info.name))) {
				fd = f;
				break;
			}
			bee_close(bee, f);
		}
		if (fd < 0) {
			tool_err("no map with name %s", argv[1]);
			return -1;
		}
	} else {
		tool_err("expected 'id', 'pinned' or 'name', got '%s'", argv[0]);
		return -1;
	}
	m->fd = fd;
	m->btf = NULL;
	if (map_info(bee, fd, &m->info) < 0) {
		tool_err("can't get map info");
		return -1;
	}
	return 2;
}

/* bpftool's get_map_kv_btf: the BTF of a map whose value has a type. */
static int map_load_btf(struct map_ref *m)
{
	if (!m->info.btf_value_type_id)
		return 0;
	m->btf = tool_btf_by_id(tool_g.bee, m->info.btf_id);
	if (!m->btf) {
		tool_err("failed to get btf");
		return -1;
	}
	return 0;
}

static unsigned ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static bool is_percpu(unsigned type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Bytes a lookup writes: per-CPU maps give one 8-aligned value per CPU. */
/* A per-CPU value's place in the host's buffer: rounded up to 8 bytes. */
static size_t percpu_stride(const struct bpf_map_info *info)
{
	return (info->value_size + 7) / 8 * 8;
}

static size_t value_buf_size(const struct bpf_map_info *info)
{
	if (is_percpu(info->type))
		return percpu_stride(info) * ncpus();
	return info->value_size;
}

/* DATA at argv[*i..]: [hex] exactly n bytes.  -1 after an error. */
static int parse_bytes(int argc, char **argv, int *i, uint8_t *out, uint32_t n, const char *what)
{
	int base = 0;
	if (*i < argc && !strcmp(argv[*i], "hex")) {
		base = 16;
		(*i)++;
	}
	uint32_t got = 0;
	while (got < n && *i < argc) {
		const char *s = argv[*i];
		/* Hex mode takes "01020304" as four bytes too, as bpftool does. */
		if (base == 16 && strlen(s) > 2 && strlen(s) % 2 == 0 && strncmp(s, "0x", 2)) {
			for (size_t k = 0; s[k] && got < n; k += 2) {
				char b[3] = {s[k], s[k + 1], 0}, *end;
				unsigned long v = strtoul(b, &end, 16);
				if (*end) {
					tool_err("error parsing byte: %s", s);
					return -1;
				}
				out[got++] = (uint8_t)v;
			}
			(*i)++;
			continue;
		}
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, base);
		if (*end || !*s || errno || v > 255) {
			if (got == 0 || strchr("aenv", s[0]) == NULL) {
				tool_err("error parsing byte: %s", s);
				return -1;
			}
			break; /* a keyword: too few bytes */
		}
		out[got++] = (uint8_t)v;
		(*i)++;
	}
	if (got != n) {
		tool_err("%s expected %u bytes got %u", what, n, got);
		return -1;
	}
	return 0;
}

/* ---- printing ---- */

/*
 * bpftool's do_dump_btf: {"key": KEY, "value": VALUE} from the types (no
 * "key" for global data maps, whose key has no type), per-CPU maps with
 * "values": [{"cpu": N, "value": VALUE}, ...].  Through the JSON writer;
 * plain: the plain-text leaves.
 */
static void print_btf_kv(const struct bpf_map_info *info, const struct bee_btf_data *btf,
			 const uint8_t *key, const uint8_t *value, bool plain)
{
	jw_start_object();
	int err = 0;
	if (info->btf_key_type_id) {
		jw_key("key");
		err = tool_btf_value(btf, info->btf_key_type_id, key, info->key_size, plain);
	}
	if (!err && !is_percpu(info->type)) {
		jw_key("value");
		tool_btf_value(btf, info->btf_value_type_id, value, info->value_size, plain);
	} else if (!err) {
		size_t stride = percpu_stride(info);
		jw_key("values");
		jw_start_array();
		for (unsigned c = 0; c < ncpus(); c++) {
			jw_start_object();
			jw_key("cpu");
			jw_int(c);
			jw_key("value");
			err = tool_btf_value(btf, info->btf_value_type_id, value + c * stride,
					     info->value_size, plain);
			jw_end_object();
			if (err)
				break;
		}
		jw_end_array();
	}
	jw_end_object();
}

/* Plain output of a map with BTF goes through the JSON writer, pretty:
 * bpftool's own writer for it (get_btf_writer). */
static bool plain_btf_begin(void)
{
	bool was = tool_g.pretty;
	tool_g.pretty = true;
	return was;
}

static void plain_btf_end(bool was) { tool_g.pretty = was; }

static void print_entry(const struct bpf_map_info *info, const struct bee_btf_data *btf,
			const uint8_t *key, const uint8_t *value)
{
	if (btf && !tool_g.json) {
		print_btf_kv(info, btf, key, value, true);
		return;
	}
	if (tool_g.json) {
		jw_start_object();
		jw_key("key");
		jw_hex_bytes(key, info->key_size);
		if (is_percpu(info->type)) {
			size_t stride = percpu_stride(info);
			jw_key("values");
			jw_start_array();
			for (unsigned c = 0; c < ncpus(); c++) {
				jw_start_object();
				jw_key("cpu");
				jw_uint(c);
				jw_key("value");
				jw_hex_bytes(value + c * stride, info->value_size);
				jw_end_object();
			}
			jw_end_array();
		} else {
			jw_key("value");
			jw_hex_bytes(value, info->value_size);
		}
		if (btf) {
			jw_key("formatted");
			print_btf_kv(info, btf, key, value, false);
		}
		jw_end_object();
		return;
	}
	if (is_percpu(info->type)) {
		size_t stride = percpu_stride(info);
		printf("key:\n");
		tool_hex(stdout, key, info->key_size);
		printf("\n");
		for (unsigned c = 0; c < ncpus(); c++) {
			printf("value (CPU %02u):%c", c, info->value_size > 16 ? '\n' : ' ');
			tool_hex(stdout, value + c * stride, info->value_size);
			printf("\n");
		}
		return;
	}
	bool break_names = info->key_size > 16 || info->value_size > 16;
	bool single_line = info->key_size + info->value_size <= 24 && !break_names;
	printf("key:%c", break_names ? '\n' : ' ');
	tool_hex(stdout, key, info->key_size);
	printf(single_line ? "  " : "\n");
	printf("value:%c", break_names ? '\n' : ' ');
	tool_hex(stdout, value, info->value_size);
	printf("\n");
}

static void print_value_only(const struct bpf_map_info *info, const uint8_t *value)
{
	if (tool_g.json) {
		jw_start_object();
		jw_key("value");
		jw_hex_bytes(value, info->value_size);
		jw_end_object();
		return;
	}
	printf("value:%c", info->value_size > 16 ? '\n' : ' ');
	tool_hex(stdout, value, info->value_size);
	printf("\n");
}

static void show_map(const struct bpf_map_info *info, bool frozen)
{
	char id[24], type[48], name[48], flags[32], key[24], val[24], ent[32], mem[32];
	char mname[BPF_OBJ_NAME_LEN + 1] = {0};
	memcpy(mname, info->name, BPF_OBJ_NAME_LEN);
	snprintf(id, sizeof(id), "%u: ", info->id);
	snprintf(type, sizeof(type), "%s  ", tool_map_type_name(info->type));
	snprintf(name, sizeof(name), "name %s  ", mname);
	snprintf(flags, sizeof(flags), "flags 0x%x", info->map_flags);
	snprintf(key, sizeof(key), "\n\tkey %uB", info->key_size);
	snprintf(val, sizeof(val), "  value %uB", info->value_size);
	snprintf(ent, sizeof(ent), "  max_entries %u", info->max_entries);
	uint64_t bytes = (uint64_t)info->max_entries * ((uint64_t)info->key_size + value_buf_size(info));
	uint64_t memlock = (bytes + 4095) / 4096 * 4096 + 4096;
	snprintf(mem, sizeof(mem), "  memlock %" PRIu64 "B", memlock);
	/* bpftool's tail: "btf_id N" on a line of its own with "  frozen"
	 * after it, or "frozen" alone; in JSON frozen always, then btf_id */
	char tail[48] = "";
	if (info->btf_id)
		snprintf(tail, sizeof(tail), "\n\tbtf_id %u%s", info->btf_id, frozen ? "  frozen" : "");
	else if (frozen)
		snprintf(tail, sizeof(tail), "\n\tfrozen");
	struct tool_field f[] = {
		{"id", TF_UINT, .u = info->id, .plain = id},
		{"type", TF_STR, .s = tool_map_type_name(info->type), .plain = type},
		{"name", TF_STR, .s = mname, .plain = name},
		{"flags", TF_UINT, .u = info->map_flags, .plain = flags},
		{"bytes_key", TF_UINT, .u = info->key_size, .plain = key},
		{"bytes_value", TF_UINT, .u = info->value_size, .plain = val},
		{"max_entries", TF_UINT, .u = info->max_entries, .plain = ent},
		{"bytes_memlock", TF_UINT, .u = memlock, .plain = mem},
		{"frozen", TF_UINT, .u = frozen, .plain = tail},
		{"btf_id", TF_UINT, .u = info->btf_id, .plain = ""},
	};
	/* bpftool shows btf_id only when the map has BTF */
	tool_print_fields(f, sizeof(f) / sizeof(f[0]) - (info->btf_id ? 0 : 1));
}

/* ---- commands ---- */

static int do_show(int argc, char **argv)
{
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	if (argc > 0) {
		struct map_ref m;
		int used = map_parse(argc, argv, &m);
		if (used < 0)
			return 1;
		if (argc > used) {
			tool_err("map show: unexpected '%s'", argv[used]);
			return 2;
		}
		show_map(&m.info, bee_map_frozen(bee, m.fd) == 1);
		return 0;
	}
	if (tool_g.json)
		jw_start_array();
	uint32_t id = 0;
	while (bee_map_get_next_id(bee, id, &id) == 0) {
		int fd = bee_map_get_fd_by_id(bee, id);
		struct bpf_map_info info;
		if (fd < 0)
			continue;
		if (map_info(bee, fd, &info) == 0)
			show_map(&info, bee_map_frozen(bee, fd) == 1);
		bee_close(bee, fd);
	}
	if (tool_g.json)
		jw_end_array();
	return 0;
}

static int do_create(int argc, char **argv)
{
	if (argc < 1) {
		tool_err("map create: expected FILE");
		return 2;
	}
	const char *file = argv[0], *name = NULL;
	int type = -1;
	uint32_t ks = 0, vs = 0, entries = 0, flags = 0;
	bool have_k = false, have_v = false, have_e = false;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			tool_err("map create: '%s' needs an argument", argv[i]);
			return 2;
		}
		const char *k = argv[i], *v = argv[++i];
		if (tool_is_prefix(k, "type")) {
			if ((type = tool_map_type_parse(v)) < 0) {
				tool_err("invalid map type '%s'", v);
				return 2;
			}
		} else if (tool_is_prefix(k, "key")) {
			if (tool_parse_u32(v, "key", &ks))
				return 2;
			have_k = true;
		} else if (tool_is_prefix(k, "value")) {
			if (tool_parse_u32(v, "value", &vs))
				return 2;
			have_v = true;
		} else if (tool_is_prefix(k, "entries")) {
			if (tool_parse_u32(v, "entries", &entries))
				return 2;
			have_e = true;
		} else if (tool_is_prefix(k, "name")) {
			name = v;
		} else if (tool_is_prefix(k, "flags")) {
			if (tool_parse_u32(v, "flags", &flags))
				return 2;
		} else {
			tool_err("map create: unexpected '%s'", k);
			return 2;
		}
	}
	if (type < 0 || !name || !have_k || !have_v || !have_e) {
		tool_err("map create: type, key, value, entries and name are required");
		return 2;
	}
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	struct bee_map_create_opts o = {.sz = sizeof(o), .map_flags = flags};
	int fd = bee_map_create(bee, (enum bpf_map_type)type, name, ks, vs, entries, &o);
	if (fd < 0) {
		tool_err("map create failed: %s", strerror(-fd));
		return 1;
	}
	int rc = tool_pin(fd, file);
	bee_close(bee, fd);
	return rc;
}

static int do_dump(int argc, char **argv)
{
	struct map_ref m;
	int used = map_parse(argc, argv, &m);
	if (used < 0)
		return 1;
	struct bee *bee = tool_g.bee;
	const struct bpf_map_info *info = &m.info;
	if (argc > used) {
		tool_err("map dump: unexpected '%s'", argv[used]);
		return 2;
	}
	if (map_load_btf(&m))
		return 1;
	uint8_t *key = calloc(1, info->key_size + 1), *next = calloc(1, info->key_size + 1);
	uint8_t *value = calloc(1, value_buf_size(info) + 1);
	if (!key || !next || !value) {
		free(key), free(next), free(value);
		bee_btf_free(m.btf);
		return 1;
	}
	bool was_pretty = m.btf && !tool_g.json ? plain_btf_begin() : tool_g.pretty;
	if (tool_g.json || m.btf)
		jw_start_array();
	unsigned found = 0;
	bool first = true;
	while (info->key_size && bee_map_get_next_key(bee, m.fd, first ? NULL : key, next) == 0) {
		memcpy(key, next, info->key_size);
		first = false;
		if (bee_map_lookup(bee, m.fd, key, value) != 0)
			continue;
		print_entry(info, m.btf, key, value);
		found++;
		if (found > 10000000)
			break;
	}
	if (tool_g.json || m.btf)
		jw_end_array();
	else
		printf("Found %u element%s\n", found, found != 1 ? "s" : "");
	plain_btf_end(was_pretty);
	free(key), free(next), free(value);
	bee_btf_free(m.btf);
	return 0;
}

/* The words after MAP: key, value and update flags. */
struct kv {
	uint8_t *key, *value;
	bool have_key, have_value;
	uint64_t flags;
};

static int parse_kv(int argc, char **argv, const struct bpf_map_info *info, struct kv *kv,
		    bool allow_flags)
{
	memset(kv, 0, sizeof(*kv));
	kv->key = calloc(1, info->key_size + 1);
	kv->value = calloc(1, value_buf_size(info) + 1);
	if (!kv->key || !kv->value)
		return -1;
	for (int i = 0; i < argc;) {
		if (!strcmp(argv[i], "key")) {
			i++;
			if (parse_bytes(argc, argv, &i, kv->key, info->key_size, "key"))
				return -1;
			kv->have_key = true;
		} else if (!strcmp(argv[i], "value")) {
			i++;
			/* per-CPU maps: one value given, set on every CPU */
			if (parse_bytes(argc, argv, &i, kv->value, info->value_size, "value"))
				return -1;
			if (is_percpu(info->type)) {
				size_t stride = percpu_stride(info);
				for (unsigned c = 1; c < ncpus(); c++)
					memcpy(kv->value + c * stride, kv->value, info->value_size);
			}
			kv->have_value = true;
		} else if (allow_flags && !strcmp(argv[i], "any")) {
			kv->flags = BPF_ANY, i++;
		} else if (allow_flags && !strcmp(argv[i], "noexist")) {
			kv->flags = BPF_NOEXIST, i++;
		} else if (allow_flags && !strcmp(argv[i], "exist")) {
			kv->flags = BPF_EXIST, i++;
		} else {
			tool_err("unexpected '%s'", argv[i]);
			return -1;
		}
	}
	return 0;
}

static void kv_free(struct kv *kv)
{
	free(kv->key);
	free(kv->value);
}

enum kv_op { OP_LOOKUP, OP_UPDATE, OP_DELETE, OP_GETNEXT, OP_PEEK, OP_POP, OP_PUSH };

static int kv_command(int argc, char **argv, enum kv_op op)
{
	struct map_ref m;
	int used = map_parse(argc, argv, &m);
	if (used < 0)
		return 1;
	struct bee *bee = tool_g.bee;
	const struct bpf_map_info *info = &m.info;
	struct kv kv;
	int status = 1;
	if (parse_kv(argc - used, argv + used, info, &kv, op == OP_UPDATE)) {
		status = 2;
		goto out;
	}
	bool keyless = info->key_size == 0;
	if ((op == OP_DELETE || ((op == OP_LOOKUP || op == OP_UPDATE) && !keyless)) &&
	    !kv.have_key) {
		tool_err("command requires a key");
		status = 2;
		goto out;
	}
	if ((op == OP_UPDATE || op == OP_PUSH) && !kv.have_value) {
		tool_err("command requires a value");
		status = 2;
		goto out;
	}
	int err = 0;
	switch (op) {
	case OP_LOOKUP:
	case OP_PEEK:
		err = bee_map_lookup(bee, m.fd, keyless ? NULL : kv.key, kv.value);
		if (err == -ENOENT && op == OP_LOOKUP) {
			if (tool_g.json) {
				jw_null();
			} else {
				printf("key:\n");
				tool_hex(stdout, kv.key, info->key_size);
				printf("\n\nNot found\n");
			}
			status = 0;
			goto out;
		}
		if (err < 0)
			break;
		if (op == OP_PEEK || keyless) {
			print_value_only(info, kv.value);
		} else if (map_load_btf(&m) == 0) {
			bool was_pretty = m.btf && !tool_g.json ? plain_btf_begin() : tool_g.pretty;
			print_entry(info, m.btf, kv.key, kv.value);
			plain_btf_end(was_pretty);
		} else {
			goto out;
		}
		break;
	case OP_POP:
		err = bee_map_lookup_and_delete(bee, m.fd, NULL, kv.value);
		if (err == 0)
			print_value_only(info, kv.value);
		break;
	case OP_UPDATE:
	case OP_PUSH:
		err = bee_map_update(bee, m.fd, keyless ? NULL : kv.key, kv.value, kv.flags);
		break;
	case OP_DELETE:
		err = bee_map_delete(bee, m.fd, kv.key);
		break;
	case OP_GETNEXT: {
		uint8_t *next = calloc(1, info->key_size + 1);
		if (!next)
			goto out;
		err = bee_map_get_next_key(bee, m.fd, kv.have_key ? kv.key : NULL, next);
		if (err == 0) {
			if (tool_g.json) {
				jw_start_object();
				jw_key("key");
				if (kv.have_key)
					jw_hex_bytes(kv.key, info->key_size);
				else
					jw_null();
				jw_key("next_key");
				jw_hex_bytes(next, info->key_size);
				jw_end_object();
			} else {
				if (kv.have_key) {
					printf("key:\n");
					tool_hex(stdout, kv.key, info->key_size);
					printf("\n");
				} else {
					printf("key: None\n");
				}
				printf("next key:\n");
				tool_hex(stdout, next, info->key_size);
				printf("\n");
			}
		}
		free(next);
		break;
	}
	}
	if (err < 0) {
		static const char *const names[] = {"lookup", "update", "delete", "can't get next key",
						    "peek", "pop", "push"};
		if (op == OP_GETNEXT && err == -ENOENT && tool_g.json)
			tool_err("%s: No more elements", names[op]);
		else if (op == OP_GETNEXT)
			tool_err("%s: %s", names[op], err == -ENOENT ? "No more elements" : strerror(-err));
		else
			tool_err("%s failed: %s", names[op], strerror(-err));
		goto out;
	}
	if (tool_g.json && (op == OP_UPDATE || op == OP_PUSH || op == OP_DELETE))
		jw_null();
	status = 0;
out:
	kv_free(&kv);
	bee_btf_free(m.btf);
	return status;
}

static int do_lookup(int argc, char **argv) { return kv_command(argc, argv, OP_LOOKUP); }
static int do_update(int argc, char **argv) { return kv_command(argc, argv, OP_UPDATE); }
static int do_delete(int argc, char **argv) { return kv_command(argc, argv, OP_DELETE); }
static int do_getnext(int argc, char **argv) { return kv_command(argc, argv, OP_GETNEXT); }
static int do_peek(int argc, char **argv) { return kv_command(argc, argv, OP_PEEK); }
static int do_pop(int argc, char **argv) { return kv_command(argc, argv, OP_POP); }
static int do_push(int argc, char **argv) { return kv_command(argc, argv, OP_PUSH); }

static int do_pin(int argc, char **argv)
{
	struct map_ref m;
	int used = map_parse(argc, argv, &m);
	if (used < 0)
		return 1;
	if (argc != used + 1) {
		tool_err("map pin: expected MAP FILE");
		return 2;
	}
	return tool_pin(m.fd, argv[used]);
}

static int do_freeze(int argc, char **argv)
{
	struct map_ref m;
	int used = map_parse(argc, argv, &m);
	if (used < 0)
		return 1;
	if (argc != used) {
		tool_err("map freeze: unexpected '%s'", argv[used]);
		return 2;
	}
	int err = bee_map_freeze(tool_g.bee, m.fd);
	if (err < 0) {
		tool_err("failed to freeze map: %s", strerror(-err));
		return 1;
	}
	if (tool_g.json)
		jw_null();
	return 0;
}

static const struct tool_cmd map_cmds[] = {
	{"show", do_show},       {"list", do_show},     {"create", do_create},
	{"dump", do_dump},       {"lookup", do_lookup}, {"update", do_update},
	{"delete", do_delete},   {"getnext", do_getnext}, {"pin", do_pin},
	{"freeze", do_freeze},   {"peek", do_peek},     {"pop", do_pop},
	{"dequeue", do_pop},     {"push", do_push},     {"enqueue", do_push},
	{NULL, NULL},
};

int cmd_map(int argc, char **argv)
{
	return tool_dispatch(map_cmds, argc - 1, argv + 1, "map", map_help);
}

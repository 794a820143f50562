/*
 * pin.c - BPF_OBJ_PIN / BPF_OBJ_GET: names for objects, kept on disk.
 *
 * The kernel pins objects in bpffs, where they live as long as the kernel
 * does.  A bee instance pins under its pin directory: the object stays
 * pinned in memory (the pin holds a reference), and a file at the pinned
 * path records it so that another process (another instance given the same
 * directory) finds it after this one has gone.  Paths may be written as
 * the kernel's ("/sys/fs/bpf/x" is "x" in the pin directory), as absolute
 * paths inside the pin directory, or relative to it.
 *
 * What the file holds: after the magic, "id <id> <frozen> <origin>" (the
 * object's id when it was pinned: recreating it asks the instance for the
 * same id, bee_obj_request_id, so that ids seen by one process still name
 * the same objects in the next; the origin tells two files of one object
 * apart from two objects, see pin_origin), then for a map its attributes and every element
 * (key, then the host-side value), written when it is pinned and again
 * when the instance is freed, so that a second process reads what the
 * first wrote last.  A program's file holds its xlated instructions and,
 * for each map they reference, the map's id and the path (relative to the
 * pin directory) of a pin of that map.  A map that is not pinned yet gets
 * a pin of its own under .bee/maps/ in the pin directory when the program
 * is saved.  BPF_OBJ_GET of the program gets every map by its path first
 * (so programs and pins share maps), rewrites the lddw map forms from ids
 * to those handles and loads the instructions again.
 * Queues and stacks are saved by popping every element and pushing it
 * back.  Not kept: the contents of other maps without keys (ring buffers,
 * bloom filters) and of prog arrays and map-in-map; a program's
 * run statistics.  A program loaded with BTF and func/line info has, after
 * its instructions, "btfinfo <btf id> <btf size> <nr func> <nr line>" and
 * the BTF bytes, then the func_info and line_info records: BPF_OBJ_GET
 * loads the BTF again (or shares an identical BTF object of that id) and
 * passes the records to BPF_PROG_LOAD.  Two processes running at once do not
 * share memory: each sees the file as it was when it opened the pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define PIN_MAGIC "BEEPIN1\n"
/* Where programs' maps that had no pin of their own get one. */
#define AUTO_MAP_DIR ".bee/maps"

struct pin {
	char *path;            /* the file, inside the pin directory */
	struct bee_obj *obj;   /* one reference */
	char origin[48];       /* which object this is, across processes */
	struct pin *next;
};

/*
 * An object's origin names it across processes: "<pid>.<ns>.<id>" of the
 * process that first pinned it.  Every pin of one object carries the same
 * origin, so that a later process that finds two files of one object (a
 * program pinned twice) recreates it once and shares it, under one id.
 * bee->lock held.
 */
static void pin_origin(struct bee *bee, struct pin *pin)
{
	for (struct pin *p = bee->pins; p; p = p->next) {
		if (p->obj == pin->obj && p->origin[0]) {
			memcpy(pin->origin, p->origin, sizeof(pin->origin));
			return;
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(pin->origin, sizeof(pin->origin), "%d.%lld%09ld.%u", (int)getpid(),
		 (long long)ts.tv_sec, ts.tv_nsec, pin->obj->id);
}

/* A pin (bee->lock held) of the object with this origin and kind. */
static struct pin *pin_by_origin(struct bee *bee, const char *origin, int kind)
{
	for (struct pin *p = bee->pins; p; p = p->next)
		if (origin[0] && !strcmp(p->origin, origin) && (int)p->obj->kind == kind)
			return p;
	return NULL;
}

/* Where a user's path lives; -EINVAL for "..", -EPERM outside the pin
 * directory (the kernel: not on bpffs). */
static int pin_path(struct bee *bee, const char *user, char *out, size_t len)
{
	const char *rel = user;
	size_t dl = strlen(bee->pin_dir);
	if (!strncmp(user, "/sys/fs/bpf/", 12))
		rel = user + 12;
	else if (!strncmp(user, bee->pin_dir, dl) && user[dl] == '/')
		rel = user + dl + 1;
	else if (user[0] == '/')
		return -EPERM;
	if (!*rel)
		return -EINVAL;
	for (const char *p = rel; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if ((n == 2 && !strncmp(p, "..", 2)) || (n == 1 && p[0] == '.'))
			return -EINVAL;
		p += n + (slash ? 1 : 0);
	}
	if ((size_t)snprintf(out, len, "%s/%s", bee->pin_dir, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* mkdir -p of the directories above path. */
static int make_parents(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int write_all(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

/* A queue or stack has no keys to walk: pop everything, write it in push
 * order (a stack's pops reversed), push it back.  Not atomic against
 * programs running meanwhile. */
static int save_queue(FILE *f, struct bee_map *map)
{
	uint32_t vs = map->value_size;
	size_t cap = map->max_entries ? map->max_entries : 1;
	unsigned char *all = malloc(cap * (vs ? vs : 1));
	size_t n = 0;
	if (!all) {
		fprintf(f, "elements 0\n");
		return -ENOMEM;
	}
	while (n < cap && bee_map_sys_lookup_and_delete(map, NULL, all + n * vs, 0) == 0)
		n++;
	if (map->type == BPF_MAP_TYPE_STACK)
		for (size_t i = 0; i < n / 2; i++)
			for (uint32_t b = 0; b < vs; b++) {
				unsigned char t = all[i * vs + b];
				all[i * vs + b] = all[(n - 1 - i) * vs + b];
				all[(n - 1 - i) * vs + b] = t;
			}
	fprintf(f, "elements %zu\n", n);
	int err = write_all(f, all, n * vs);
	for (size_t i = 0; i < n; i++)
		bee_map_sys_update(map, NULL, all + i * vs, BPF_ANY);
	free(all);
	return err;
}

/* Save a map: attributes, then its elements. */
static int save_map(FILE *f, struct bee_map *map)
{
	fprintf(f, "map %u %u %u %u %u %llu %u %s\n", map->type, map->key_size, map->value_size,
		map->max_entries, map->map_flags, (unsigned long long)map->map_extra,
		map->inner_type, map->name[0] ? map->name : "-");
	if (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK)
		return save_queue(f, map);
	bool has_elems = map->key_size > 0 && !map->ops->fd_valued;
	if (!has_elems) {
		fprintf(f, "elements 0\n");
		return 0;
	}
	uint32_t vs = bee_map_sys_value_size(map);
	unsigned char *key = malloc(map->key_size), *next = malloc(map->key_size);
	unsigned char *value = malloc(vs);
	/* Count first, then write: the count leads the binary part. */
	long count = 0;
	int err = (!key || !next || !value) ? -ENOMEM : 0;
	bool first = true;
	while (!err && bee_map_sys_get_next_key(map, first ? NULL : key, next) == 0) {
		memcpy(key, next, map->key_size);
		first = false;
		if (bee_map_sys_lookup(map, key, value, 0) == 0)
			count++;
	}
	if (!err)
		fprintf(f, "elements %ld\n", count);
	first = true;
	long written = 0;
	while (!err && written < count && bee_map_sys_get_next_key(map, first ? NULL : key, next) == 0) {
		memcpy(key, next, map->key_size);
		first = false;
		if (bee_map_sys_lookup(map, key, value, 0) != 0)
			continue;
		err = write_all(f, key, map->key_size);
		if (!err)
			err = write_all(f, value, vs);
		written++;
	}
	/* An element deleted between the two passes: pad with the last one. */
	for (; !err && written < count; written++) {
		err = write_all(f, key, map->key_size);
		if (!err)
			err = write_all(f, value, vs);
	}
	free(key);
	free(next);
	free(value);
	return err;
}

static struct pin *pin_find(struct bee *bee, const char *path);
static int save_pin(struct bee *bee, const struct pin *pin);

/* A pin of obj (bee->lock held), or NULL. */
static struct pin *pin_of(struct bee *bee, const struct bee_obj *obj)
{
	for (struct pin *p = bee->pins; p; p = p->next)
		if (p->obj == obj)
			return p;
	return NULL;
}

/* Pin a program's map under AUTO_MAP_DIR (bee->lock held). */
static struct pin *pin_auto(struct bee *bee, struct bee_map *map)
{
	char path[PATH_MAX];
	struct stat st;
	for (unsigned n = 0;; n++) {
		int len = n ? snprintf(path, sizeof(path), "%s/" AUTO_MAP_DIR "/m%u.%u", bee->pin_dir,
				       map->obj.id, n)
			    : snprintf(path, sizeof(path), "%s/" AUTO_MAP_DIR "/m%u", bee->pin_dir,
				       map->obj.id);
		if (len < 0 || (size_t)len >= sizeof(path))
			return NULL;
		if (!pin_find(bee, path) && stat(path, &st) != 0)
			break;
		if (n > 1000)
			return NULL;
	}
	struct pin *pin = calloc(1, sizeof(*pin));
	if (!pin || !(pin->path = strdup(path)) || make_parents(path)) {
		if (pin)
			free(pin->path);
		free(pin);
		return NULL;
	}
	bee_obj_hold(&map->obj);
	pin->obj = &map->obj;
	pin_origin(bee, pin);
	if (save_pin(bee, pin)) {
		bee_obj_put(&map->obj);
		free(pin->path);
		free(pin);
		return NULL;
	}
	pin->next = bee->pins;
	bee->pins = pin;
	atomic_fetch_add(&map->usercnt, 1);
	return pin;
}

static int save_prog(struct bee *bee, FILE *f, struct bee_prog *prog)
{
	fprintf(f, "prog %u %u %u %zu %zu %s\n", prog->type, prog->expected_attach_type,
		prog->gpl_compatible, prog->len, prog->n_maps, prog->name[0] ? prog->name : "-");
	fprintf(f, "loaded %llu %u\n", (unsigned long long)prog->load_time, prog->uid);
	size_t dl = strlen(bee->pin_dir);
	for (size_t i = 0; i < prog->n_maps; i++) {
		struct bee_map *map = prog->maps[i];
		struct pin *pin = pin_of(bee, &map->obj);
		if (!pin)
			pin = pin_auto(bee, map);
		if (!pin)
			return -ENOMEM;
		fprintf(f, "mapref %u %s\n", map->obj.id, pin->path + dl + 1);
	}
	int err = write_all(f, prog->xlated, prog->len * sizeof(*prog->xlated));
	if (err || !prog->btf)
		return err;
	fprintf(f, "btfinfo %u %u %u %u\n", prog->btf->obj.id, prog->btf->size,
		prog->nr_func_info, prog->nr_line_info);
	if ((err = write_all(f, prog->btf->data, prog->btf->size)) ||
	    (err = write_all(f, prog->func_info, prog->nr_func_info * sizeof(*prog->func_info))))
		return err;
	return write_all(f, prog->line_info, prog->nr_line_info * sizeof(*prog->line_info));
}

static int save_pin(struct bee *bee, const struct pin *pin)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", pin->path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	fputs(PIN_MAGIC, f);
	bool frozen = pin->obj->kind == BEE_OBJ_MAP && atomic_load(&((struct bee_map *)pin->obj)->frozen);
	fprintf(f, "id %u %u %s\n", pin->obj->id, frozen, pin->origin[0] ? pin->origin : "-");
	int err;
	if (pin->obj->kind == BEE_OBJ_MAP)
		err = save_map(f, (struct bee_map *)pin->obj);
	else if (pin->obj->kind == BEE_OBJ_PROG)
		err = save_prog(bee, f, (struct bee_prog *)pin->obj);
	else
		err = fprintf(f, "other %d\n", pin->obj->kind) < 0 ? -EIO : 0;
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, pin->path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static struct pin *pin_find(struct bee *bee, const char *path)
{ /* bee->lock held */
	for (struct pin *p = bee->pins; p; p = p->next)
		if (!strcmp(p->path, path))
			return p;
	return NULL;
}

int bee_cmd_obj_pin(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(file_flags)))
		return -EINVAL;
	if (attr->file_flags)
		return -EINVAL;
	const char *user = u64_to_ptr(attr->pathname);
	if (!user)
		return -EFAULT;
	char path[PATH_MAX];
	int err = pin_path(bee, user, path, sizeof(path));
	if (err)
		return err;
	struct bee_obj *obj = bee_handle_get(bee, (int)attr->bpf_fd, 0);
	if (!obj)
		return -EBADF;
	if (!obj->id) {
		bee_obj_put(obj);
		return -EINVAL; /* not a program, map, link or BTF */
	}
	struct pin *pin = calloc(1, sizeof(*pin));
	if (!pin || !(pin->path = strdup(path))) {
		free(pin);
		bee_obj_put(obj);
		return -ENOMEM;
	}
	pin->obj = obj;
	pthread_mutex_lock(&bee->lock);
	struct stat st;
	if (pin_find(bee, path) || stat(path, &st) == 0)
		err = -EEXIST;
	else
		err = make_parents(path);
	if (!err)
		pin_origin(bee, pin);
	if (!err)
		err = save_pin(bee, pin);
	if (!err) {
		pin->next = bee->pins;
		bee->pins = pin;
		if (obj->kind == BEE_OBJ_MAP)
			atomic_fetch_add(&((struct bee_map *)obj)->usercnt, 1);
	}
	pthread_mutex_unlock(&bee->lock);
	if (err) {
		free(pin->path);
		free(pin);
		bee_obj_put(obj);
	}
	return err;
}

/* ---- reading a pin another process left ---- */

static int load_map(struct bee *bee, FILE *f, uint32_t id, bool frozen)
{
	unsigned type, ks, vs, max, flags, inner_type;
	unsigned long long extra;
	char name[BPF_OBJ_NAME_LEN + 1];
	long count;
	/* Each line ends in exactly one '\n', read with fgetc: a "\n" in a
	 * scanf format skips any run of white space, which would swallow the
	 * binary elements' leading bytes (a first key of 9, 10 or 32). */
	if (fscanf(f, "map %u %u %u %u %u %llu %u %16s", &type, &ks, &vs, &max, &flags, &extra,
		   &inner_type, name) != 8 || fgetc(f) != '\n' ||
	    fscanf(f, "elements %ld", &count) != 1 || fgetc(f) != '\n' || count < 0)
		return -EINVAL;
	if (inner_type && (type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS))
		return -EOPNOTSUPP; /* the inner template is not saved */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	if (strcmp(name, "-"))
		memcpy(a.map_name, name, strnlen(name, BPF_OBJ_NAME_LEN - 1));
	bee_obj_request_id(id);
	int fd = (int)bee_bpf(bee, BPF_MAP_CREATE, &a, sizeof(a));
	bee_obj_request_id(0);
	if (fd < 0)
		return fd;
	struct bee_map *map = bee_map_get_fd(bee, fd);
	uint32_t svs = bee_map_sys_value_size(map);
	unsigned char *key = malloc(ks ? ks : 1), *value = malloc(svs ? svs : 1);
	int err = (!key || !value) ? -ENOMEM : 0;
	/* Restore through the map directly: a frozen or read-only map's file
	 * must load even though the host may not write to it afterwards. */
	for (long i = 0; !err && i < count; i++) {
		if ((ks && fread(key, 1, ks, f) != ks) || fread(value, 1, svs, f) != svs)
			err = -EINVAL;
		else
			err = bee_map_sys_update(map, ks ? key : NULL, value, BPF_ANY);
	}
	free(key);
	free(value);
	if (!err && frozen)
		atomic_store(&map->frozen, true);
	bee_obj_put(&map->obj);
	if (err) {
		bee_close(bee, fd);
		return err;
	}
	return fd;
}

static int obj_get_path(struct bee *bee, const char *path);

/* A program's saved BTF and func/line info ("btfinfo", after its
 * instructions), if any: a BTF handle in *btf_fd (-1 when none). */
struct saved_btf_info {
	int btf_fd;
	struct bpf_func_info *func_info;
	struct bpf_line_info *line_info;
	uint32_t nr_func_info, nr_line_info;
};

static int load_btf_info(struct bee *bee, FILE *f, struct saved_btf_info *si)
{
	si->btf_fd = -1;
	int c = fgetc(f);
	if (c == EOF)
		return 0; /* none (or a file from before btfinfo) */
	ungetc(c, f);
	char line[128];
	unsigned id, size, nf, nl;
	if (!fgets(line, sizeof(line), f) || !strchr(line, '\n') ||
	    sscanf(line, "btfinfo %u %u %u %u", &id, &size, &nf, &nl) != 4 || !size ||
	    size > (64u << 20) || nf > 1000000 || nl > 1000000)
		return -EINVAL;
	void *data = malloc(size);
	si->func_info = calloc(nf ? nf : 1, sizeof(*si->func_info));
	si->line_info = calloc(nl ? nl : 1, sizeof(*si->line_info));
	if (!data || !si->func_info || !si->line_info) {
		free(data);
		return -ENOMEM;
	}
	if (fread(data, 1, size, f) != size ||
	    fread(si->func_info, sizeof(*si->func_info), nf, f) != nf ||
	    fread(si->line_info, sizeof(*si->line_info), nl, f) != nl) {
		free(data);
		return -EINVAL;
	}
	si->nr_func_info = nf;
	si->nr_line_info = nl;
	/* A BTF object of that id with the same bytes (another program of the
	 * same object, got earlier): share it. */
	struct bee_obj *o = bee_obj_by_id(bee, BEE_OBJ_BTF, id);
	if (o) {
		struct bee_btf *b = (struct bee_btf *)o;
		if (b->size == size && !memcmp(b->data, data, size)) {
			si->btf_fd = bee_handle_new(bee, o);
			if (si->btf_fd < 0)
				bee_obj_put(o);
		} else {
			bee_obj_put(o);
		}
	}
	if (si->btf_fd < 0) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.btf = (uint64_t)(uintptr_t)data;
		a.btf_size = size;
		bee_obj_request_id(id);
		si->btf_fd = (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
		bee_obj_request_id(0);
	}
	free(data);
	return si->btf_fd < 0 ? si->btf_fd : 0;
}

static int load_prog(struct bee *bee, FILE *f, uint32_t id)
{
	unsigned type, attach, gpl;
	size_t len, n_maps;
	char name[BPF_OBJ_NAME_LEN + 1];
	if (fscanf(f, "prog %u %u %u %zu %zu %16s", &type, &attach, &gpl, &len, &n_maps, name) != 6 ||
	    fgetc(f) != '\n' || len == 0 || len > 1000000 || n_maps > 4096)
		return -EINVAL;
	unsigned long long load_time = 0;
	unsigned uid = 0;
	int c = fgetc(f);
	ungetc(c, f);
	if (c == 'l' && (fscanf(f, "loaded %llu %u", &load_time, &uid) != 2 || fgetc(f) != '\n'))
		return -EINVAL;
	uint32_t *map_ids = calloc(n_maps ? n_maps : 1, sizeof(*map_ids));
	int *map_fds = malloc((n_maps ? n_maps : 1) * sizeof(*map_fds));
	struct bpf_insn *insns = malloc(len * sizeof(*insns));
	size_t got = 0;
	int fd = (!map_ids || !map_fds || !insns) ? -ENOMEM : 0;
	/* Every map first, by the path of its pin. */
	for (; fd >= 0 && got < n_maps; got++) {
		char rel[PATH_MAX / 2], path[PATH_MAX];
		if (fscanf(f, "mapref %u %2047s", &map_ids[got], rel) != 2 || fgetc(f) != '\n' ||
		    pin_path(bee, rel, path, sizeof(path))) {
			fd = -EINVAL;
			break;
		}
		map_fds[got] = obj_get_path(bee, path);
		if (map_fds[got] < 0) {
			fd = map_fds[got];
			break;
		}
	}
	if (fd >= 0 && fread(insns, sizeof(*insns), len, f) != len)
		fd = -EINVAL;
	struct saved_btf_info si = {.btf_fd = -1};
	if (fd >= 0) {
		int err = load_btf_info(bee, f, &si);
		if (err)
			fd = err;
	}
	/* The lddw map forms name map ids: make them name our handles. */
	for (size_t i = 0; fd >= 0 && i + 1 < len; i++) {
		struct bpf_insn *in = &insns[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
			size_t m = 0;
			while (m < n_maps && map_ids[m] != (uint32_t)in->imm)
				m++;
			if (m == n_maps)
				fd = -EINVAL; /* a map the file does not name */
			else
				in->imm = map_fds[m];
		}
		i++;
	}
	if (fd >= 0) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.prog_type = type;
		a.expected_attach_type = attach;
		a.insns = (uint64_t)(uintptr_t)insns;
		a.insn_cnt = (uint32_t)len;
		a.license = (uint64_t)(uintptr_t)(gpl ? "GPL" : "Proprietary");
		if (strcmp(name, "-"))
			memcpy(a.prog_name, name, strnlen(name, BPF_OBJ_NAME_LEN - 1));
		if (si.btf_fd >= 0) {
			a.prog_btf_fd = (uint32_t)si.btf_fd;
			if (si.nr_func_info) {
				a.func_info = (uint64_t)(uintptr_t)si.func_info;
				a.func_info_cnt = si.nr_func_info;
				a.func_info_rec_size = sizeof(*si.func_info);
			}
			if (si.nr_line_info) {
				a.line_info = (uint64_t)(uintptr_t)si.line_info;
				a.line_info_cnt = si.nr_line_info;
				a.line_info_rec_size = sizeof(*si.line_info);
			}
		}
		bee_obj_request_id(id);
		fd = (int)bee_bpf(bee, BPF_PROG_LOAD, &a, sizeof(a));
		bee_obj_request_id(0);
		struct bee_prog *prog = fd >= 0 && load_time ? bee_prog_get_fd(bee, fd) : NULL;
		if (prog) { /* the same program, as far as anyone can tell */
			prog->load_time = load_time;
			prog->uid = uid;
			bee_obj_put(&prog->obj);
		}
	}
	for (size_t i = 0; map_fds && i < got; i++)
		bee_close(bee, map_fds[i]);
	if (si.btf_fd >= 0)
		bee_close(bee, si.btf_fd);
	free(si.func_info);
	free(si.line_info);
	free(map_ids);
	free(map_fds);
	free(insns);
	return fd;
}

int bee_cmd_obj_get(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(file_flags)))
		return -EINVAL;
	if (attr->bpf_fd || (attr->file_flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY)))
		return -EINVAL;
	const char *user = u64_to_ptr(attr->pathname);
	if (!user)
		return -EFAULT;
	char path[PATH_MAX];
	int err = pin_path(bee, user, path, sizeof(path));
	if (err)
		return err;
	return obj_get_path(bee, path);
}

/* BPF_OBJ_GET of a path inside the pin directory. */
static int obj_get_path(struct bee *bee, const char *path)
{
	pthread_mutex_lock(&bee->lock);
	struct pin *pin = pin_find(bee, path);
	struct bee_obj *obj = pin ? pin->obj : NULL;
	if (obj)
		bee_obj_hold(obj);
	pthread_mutex_unlock(&bee->lock);
	if (obj) {
		int fd = bee_handle_new(bee, obj);
		if (fd < 0)
			bee_obj_put(obj);
		return fd;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char magic[sizeof(PIN_MAGIC)] = {0};
	char origin[48] = "";
	int fd;
	unsigned id = 0, frozen = 0;
	if (fread(magic, 1, sizeof(PIN_MAGIC) - 1, f) != sizeof(PIN_MAGIC) - 1 ||
	    strcmp(magic, PIN_MAGIC)) {
		fd = -EINVAL;
	} else {
		int c = fgetc(f);
		ungetc(c, f);
		char line[128];
		if (c == 'i' && (!fgets(line, sizeof(line), f) || !strchr(line, '\n') ||
				 sscanf(line, "id %u %u %47s", &id, &frozen, origin) < 2))
			fd = -EINVAL;
		else if ((c = fgetc(f)) == EOF)
			fd = -EINVAL;
		else {
			ungetc(c, f);
			if (!strcmp(origin, "-"))
				origin[0] = 0;
			int kind = c == 'm' ? BEE_OBJ_MAP : c == 'p' ? BEE_OBJ_PROG : -1;
			/* Another file of an object this instance already has. */
			pthread_mutex_lock(&bee->lock);
			struct pin *same = pin_by_origin(bee, origin, kind);
			struct bee_obj *obj = same ? same->obj : NULL;
			if (obj)
				bee_obj_hold(obj);
			pthread_mutex_unlock(&bee->lock);
			if (obj) {
				fd = bee_handle_new(bee, obj);
				if (fd < 0)
					bee_obj_put(obj);
			} else {
				fd = c == 'm' ? load_map(bee, f, id, frozen != 0)
				   : c == 'p' ? load_prog(bee, f, id) : -EOPNOTSUPP;
			}
		}
	}
	fclose(f);
	if (fd < 0)
		return fd;
	/* Now pinned in this instance too: later gets share the object. */
	struct bee_obj *o = bee_handle_get(bee, fd, 0);
	struct pin *p = calloc(1, sizeof(*p));
	if (!o || !p || !(p->path = strdup(path))) {
		free(p);
		bee_obj_put(o);
		return fd; /* usable, just not shared with later gets */
	}
	p->obj = o;
	memcpy(p->origin, origin, sizeof(p->origin));
	pthread_mutex_lock(&bee->lock);
	if (!p->origin[0])
		pin_origin(bee, p);
	p->next = bee->pins;
	bee->pins = p;
	if (o->kind == BEE_OBJ_MAP)
		atomic_fetch_add(&((struct bee_map *)o)->usercnt, 1);
	pthread_mutex_unlock(&bee->lock);
	return fd;
}

void bee_pins_flush(struct bee *bee)
{
	pthread_mutex_lock(&bee->lock);
	for (struct pin *p = bee->pins; p; p = p->next) {
		struct stat st;
		if (stat(p->path, &st) == 0) /* unpinned (removed) meanwhile: leave it gone */
			save_pin(bee, p);
	}
	pthread_mutex_unlock(&bee->lock);
}
void bee_pins_free(struct bee *bee)
{
	pthread_mutex_lock(&bee->lock);
	struct pin *p = bee->pins;
	bee->pins = NULL;
	pthread_mutex_unlock(&bee->lock);
	while (p) {
		struct pin *next = p->next;
		if (p->obj->kind == BEE_OBJ_MAP &&
		    atomic_fetch_sub(&((struct bee_map *)p->obj)->usercnt, 1) == 1)
			bee_map_release_uref((struct bee_map *)p->obj);
		bee_obj_put(p->obj);
		free(p->path);
		free(p);
		p = next;
	}
}

/*
 * pin.c - BPF_OBJ_PIN / BPF_OBJ_GET: names for objects, kept on disk.
 *
 * The kernel pins objects in bpffs, where they live as long as the kernel
 * does.  A bee instance pins under its pin directory: the object stays
 * pinned in memory (the pin holds a reference), and a file at the pinned
 * path records it so that another process (another instance given the same
 * directory) finds it after this one has gone.  Paths may be written as
 * the kernel's ("/sys/fs/bpf/x" is "x" in the pin directory), as absolute
 * paths inside the pin directory, or relative to it.  A file is written
 * when the object is pinned and again when the instance is freed (and a
 * link's when it is detached), to a temporary name renamed into place, so
 * that a second process reads what the first wrote last.
 *
 * The file.  "BEEPIN1\n", then "id <id> <frozen> <origin>\n": the object's
 * id when it was pinned (recreating it asks the instance for the same id,
 * bee_obj_request_id, so ids seen by one process still name the same
 * objects in the next); the origin tells two files of one object apart
 * from two objects (see pin_origin).  Then by kind:
 *
 *  map   "map <type> <key size> <value size> <max entries> <flags> <extra>
 *        <inner type> <name>\n"; for ARRAY_OF_MAPS / HASH_OF_MAPS the inner
 *        map template (the inner_map_fd's attributes at creation) as
 *        "inner <type> <key size> <value size> <max entries> <flags>\n";
 *        for a map made with BTF, "btf <btf id> <btf size> <key type id>
 *        <value type id> <vmlinux value type id>\n" and the BTF bytes
 *        (files without it, older ones included, make a map without BTF);
 *        then "elements <n>\n" and n elements: the key's bytes, then
 *        - for maps of data, the host-side value's bytes (queues and
 *          stacks, which have no keys: the values in push order, saved by
 *          popping every element and pushing it back);
 *        - for PROG_ARRAY and map-in-map, "ref <id> <len> <path>\n": the
 *          slot's program or inner map by its id and the path (relative,
 *          len bytes) of a pin of it.
 *  prog  "prog <type> <attach type> <gpl> <insns> <maps> <name>\n",
 *        "loaded <boot ns> <uid>\n", per map "mapref <id> <path>\n", the
 *        xlated instructions (lddw map forms naming map ids), and, when
 *        loaded with BTF, "btfinfo <btf id> <btf size> <nr func> <nr
 *        line>\n", the BTF bytes, the func_info and line_info records.
 *  link  "link <attach type> <target> <attached>\n"; for a named hook
 *        (target >= BEE_HOOK_NAMED_BASE, an id that is only the instance's)
 *        "hook <len> <name>\n"; for an attached link "prog <id> <len>
 *        <path>\n", a pin of its program.
 *  other (BTF objects): "other <kind>\n", which BPF_OBJ_GET refuses.
 *
 * BTF is saved as bytes in each file that needs it (write_btf) and read
 * back in one place (load_saved_btf): the BTF object of the saved id with
 * the same bytes, when one was got already, is shared, so the programs and
 * maps of one object come back with one BTF object again, under its id.
 *
 * An object another file refers to (a program's map, a slot's program or
 * inner map, a link's program) is named by a pin of its own: one the user
 * made if there is one, else one made for it under .bee/maps/ (maps) or
 * .bee/progs/ (programs) in the pin directory.  BPF_OBJ_GET gets those by
 * path first, so that every file naming an object shares it: a program
 * rewrites its lddw map forms from ids to those maps' handles and is loaded
 * again (with its BTF and func/line info); a link is made again on the
 * same hook (named hooks by name) with its program, or detached; a map is
 * made again (map-in-map with a template of its inner map, with its BTF
 * and type ids) and refilled.  The slots of prog arrays and maps of maps
 * are filled last, once the whole get is done, so cycles (a program whose
 * prog array holds it) load: every object's pin is known before any slot
 * needs it.  A file that is truncated, corrupt or names a pin that cannot
 * be got fails the whole BPF_OBJ_GET (every object it recreated is
 * dropped again) with -EINVAL (or the errno of what failed) and a message
 * for bee_pin_error(): which file and what is wrong.
 *
 * Not kept: the contents of ring buffers, bloom filters and perf event
 * arrays; a program's run statistics; BTF objects pinned on their own
 * (only as the BTF of a map or program).
 * Links come back with BPF_OBJ_GET of their pin (as every pin does), and
 * run on their hook from then on: an instance does not attach what it has
 * not got.  Two processes running at once do not share memory: each sees
 * the file as it was when it opened the pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "util/epoch.h"

#define PIN_MAGIC "BEEPIN1\n"
/* Where objects other files refer to get a pin when they have none. */
#define AUTO_MAP_DIR ".bee/maps"
#define AUTO_PROG_DIR ".bee/progs"

struct pin {
	char *path;            /* the file, inside the pin directory */
	struct bee_obj *obj;   /* one reference */
	char origin[48];       /* which object this is, across processes */
	struct pin *next;
	struct pin *added_next; /* pins the BPF_OBJ_GET in progress made */
};

/*
 * One BPF_OBJ_GET in progress on this thread (it may get many pins): the
 * slots of prog arrays and maps of maps still to fill, the pins it made
 * (dropped again if it fails), and why it failed.
 */
struct pending_slot {
	struct bee_map *map;   /* one reference */
	void *key;
	char *path;            /* the pin of what goes in the slot */
	char *owner;           /* the map's own pin (for messages) */
	struct pending_slot *next;
};

static _Thread_local struct {
	struct pending_slot *slots;
	struct pin *added;
	char msg[512];
} get_state;

const char *bee_pin_error(void)
{
	return get_state.msg;
}

/* Record why path is refused (the first reason only: the innermost file
 * of a nested get says what is wrong) and return err. */
static int pin_bad(int err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int pin_bad(int err, const char *path, const char *fmt, ...)
{
	if (get_state.msg[0])
		return err;
	int n = snprintf(get_state.msg, sizeof(get_state.msg), "pin %s: ", path);
	if (n < 0 || (size_t)n >= sizeof(get_state.msg))
		return err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(get_state.msg + n, sizeof(get_state.msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

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
		if (p != pin && p->obj == pin->obj && p->origin[0]) {
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

/* Take pin off the instance's list (bee->lock held). */
static void pin_unlist(struct bee *bee, struct pin *pin)
{
	for (struct pin **pp = &bee->pins; *pp; pp = &(*pp)->next) {
		if (*pp == pin) {
			*pp = pin->next;
			return;
		}
	}
}

/* Drop what a pin holds and the pin (off every list already). */
static void pin_release(struct pin *pin)
{
	struct bee_obj *obj = pin->obj;
	if (obj->kind == BEE_OBJ_MAP &&
	    atomic_fetch_sub(&((struct bee_map *)obj)->usercnt, 1) == 1)
		bee_map_release_uref((struct bee_map *)obj);
	bee_obj_put(obj);
	free(pin->path);
	free(pin);
}

/* List pin (bee->lock held): a pin counts as a user reference of a map. */
static void pin_list(struct bee *bee, struct pin *pin)
{
	pin->next = bee->pins;
	bee->pins = pin;
	if (pin->obj->kind == BEE_OBJ_MAP)
		atomic_fetch_add(&((struct bee_map *)pin->obj)->usercnt, 1);
}

static int write_all(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

/* "<kw> <id> <len> <path>\n": another object, by a pin of it (its path
 * relative to the pin directory, length first so any bytes may follow). */
static int write_ref(FILE *f, const char *kw, uint32_t id, const char *rel)
{
	return fprintf(f, "%s %u %zu %s\n", kw, id, strlen(rel), rel) < 0 ? -EIO : 0;
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

static struct pin *pin_find(struct bee *bee, const char *path);
static int save_pin(struct bee *bee, const struct pin *pin);
static struct pin *pin_ref(struct bee *bee, struct bee_obj *obj);

/*
 * A prog array's or map of maps' slots: the key, then what the slot holds
 * by a pin of it (bee->lock held).  The whole walk is one read section:
 * an object a slot drops meanwhile is not freed under us, and pin_auto
 * will not take a reference to one that is already going (it is left
 * out, as if read after the slot was emptied).
 */
static int save_fd_slots(struct bee *bee, FILE *f, struct bee_map *map)
{
	uint32_t ks = map->key_size;
	size_t n = 0, cap = 16;
	unsigned char *keys = malloc(cap * ks), *key = malloc(ks), *next = malloc(ks);
	struct pin **pins = malloc(cap * sizeof(*pins));
	int err = (!keys || !key || !next || !pins) ? -ENOMEM : 0;
	bool first = true;
	bee_epoch_enter();
	while (!err && bee_map_sys_get_next_key(map, first ? NULL : key, next) == 0) {
		memcpy(key, next, ks);
		first = false;
		struct bee_obj *o = map->ops->fd_lookup(map, key);
		if (!o)
			continue;
		struct pin *pin = pin_ref(bee, o);
		if (!pin) {
			if (atomic_load(&o->refcnt) > 0)
				err = -ENOMEM;
			continue;
		}
		if (n == cap) {
			unsigned char *k2 = realloc(keys, 2 * cap * ks);
			if (k2)
				keys = k2;
			struct pin **p2 = k2 ? realloc(pins, 2 * cap * sizeof(*pins)) : NULL;
			if (p2)
				pins = p2;
			if (!k2 || !p2) {
				err = -ENOMEM;
				break;
			}
			cap *= 2;
		}
		memcpy(keys + n * ks, key, ks);
		pins[n++] = pin;
	}
	if (!err)
		err = fprintf(f, "elements %zu\n", n) < 0 ? -EIO : 0;
	size_t dl = strlen(bee->pin_dir);
	for (size_t i = 0; !err && i < n; i++) {
		if (!(err = write_all(f, keys + i * ks, ks)))
			err = write_ref(f, "ref", pins[i]->obj->id, pins[i]->path + dl + 1);
	}
	bee_epoch_exit();
	free(pins);
	free(keys);
	free(key);
	free(next);
	return err;
}

/* The bytes of a BTF object, after the line of the record that carries
 * them (a map's "btf", a program's "btfinfo"); read back by
 * load_saved_btf. */
static int write_btf(FILE *f, const struct bee_btf *btf)
{
	return write_all(f, btf->data, btf->size);
}

/* Save a map: attributes, then its elements (bee->lock held). */
static int save_map(struct bee *bee, FILE *f, struct bee_map *map)
{
	fprintf(f, "map %u %u %u %u %u %llu %u %s\n", map->type, map->key_size, map->value_size,
		map->max_entries, map->map_flags, (unsigned long long)map->map_extra,
		map->inner_type, map->name[0] ? map->name : "-");
	if (map->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || map->type == BPF_MAP_TYPE_HASH_OF_MAPS)
		fprintf(f, "inner %u %u %u %u %u\n", map->inner_type, map->inner_key_size,
			map->inner_value_size, map->inner_max_entries, map->inner_map_flags);
	if (map->btf) {
		/* The core keeps no btf_vmlinux_value_type_id (it makes no
		 * struct_ops maps): 0, as the map's info reports it. */
		const struct bee_btf *btf = map->btf;
		fprintf(f, "btf %u %u %u %u %u\n", btf->obj.id, btf->size, map->btf_key_type_id,
			map->btf_value_type_id, 0u);
		int err = write_btf(f, btf);
		if (err)
			return err;
	}
	if (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK)
		return save_queue(f, map);
	if (map->ops->fd_valued && map->key_size > 0)
		return save_fd_slots(bee, f, map);
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

/* A pin of obj (bee->lock held), or NULL. */
static struct pin *pin_of(struct bee *bee, const struct bee_obj *obj)
{
	for (struct pin *p = bee->pins; p; p = p->next)
		if (p->obj == obj)
			return p;
	return NULL;
}

/*
 * Pin an object another file refers to under AUTO_MAP_DIR or
 * AUTO_PROG_DIR (bee->lock held).  The pin is listed before its file is
 * written, so that a file it leads to that refers back to it (a prog
 * array holding the program that uses it) finds it instead of pinning the
 * object again, endlessly.
 */
static struct pin *pin_auto(struct bee *bee, struct bee_obj *obj)
{
	char path[PATH_MAX];
	struct stat st;
	const char *dir = obj->kind == BEE_OBJ_MAP ? AUTO_MAP_DIR : AUTO_PROG_DIR;
	char letter = obj->kind == BEE_OBJ_MAP ? 'm' : 'p';
	if (obj->kind != BEE_OBJ_MAP && obj->kind != BEE_OBJ_PROG)
		return NULL;
	for (unsigned n = 0;; n++) {
		int len = n ? snprintf(path, sizeof(path), "%s/%s/%c%u.%u", bee->pin_dir, dir, letter,
				       obj->id, n)
			    : snprintf(path, sizeof(path), "%s/%s/%c%u", bee->pin_dir, dir, letter,
				       obj->id);
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
	if (!bee_obj_tryget(obj)) { /* a slot's object on its way out */
		free(pin->path);
		free(pin);
		return NULL;
	}
	pin->obj = obj;
	pin_origin(bee, pin);
	pin_list(bee, pin);
	if (save_pin(bee, pin)) {
		/* The file that refers to obj holds it too: these are not the
		 * last references (which must not go under bee->lock). */
		pin_unlist(bee, pin);
		if (obj->kind == BEE_OBJ_MAP)
			atomic_fetch_sub(&((struct bee_map *)obj)->usercnt, 1);
		bee_obj_put(obj);
		free(pin->path);
		free(pin);
		return NULL;
	}
	return pin;
}

/* A pin that names obj in another object's file (bee->lock held). */
static struct pin *pin_ref(struct bee *bee, struct bee_obj *obj)
{
	struct pin *pin = pin_of(bee, obj);
	return pin ? pin : pin_auto(bee, obj);
}

static int save_prog(struct bee *bee, FILE *f, struct bee_prog *prog)
{
	fprintf(f, "prog %u %u %u %zu %zu %s\n", prog->type, prog->expected_attach_type,
		prog->gpl_compatible, prog->len, prog->n_maps, prog->name[0] ? prog->name : "-");
	fprintf(f, "loaded %llu %u\n", (unsigned long long)prog->load_time, prog->uid);
	size_t dl = strlen(bee->pin_dir);
	for (size_t i = 0; i < prog->n_maps; i++) {
		struct bee_map *map = prog->maps[i];
		struct pin *pin = pin_ref(bee, &map->obj);
		if (!pin)
			return -ENOMEM;
		fprintf(f, "mapref %u %s\n", map->obj.id, pin->path + dl + 1);
	}
	int err = write_all(f, prog->xlated, prog->len * sizeof(*prog->xlated));
	if (err || !prog->btf)
		return err;
	fprintf(f, "btfinfo %u %u %u %u\n", prog->btf->obj.id, prog->btf->size,
		prog->nr_func_info, prog->nr_line_info);
	if ((err = write_btf(f, prog->btf)) ||
	    (err = write_all(f, prog->func_info, prog->nr_func_info * sizeof(*prog->func_info))))
		return err;
	return write_all(f, prog->line_info, prog->nr_line_info * sizeof(*prog->line_info));
}

/* A link: its hook and, while attached, its program (bee->lock held, so
 * that a detach cannot drop the program while it is written). */
static int save_link(struct bee *bee, FILE *f, struct bee_link_obj *link)
{
	struct bee_prog *prog = atomic_load(&link->prog);
	if (fprintf(f, "link %u %u %u\n", link->attach_type, link->target, prog != NULL) < 0)
		return -EIO;
	if (link->target >= BEE_HOOK_NAMED_BASE) {
		uint32_t i = link->target - BEE_HOOK_NAMED_BASE;
		if (i >= bee->nr_hook_names)
			return -EINVAL;
		const char *name = bee->hook_names[i];
		if (fprintf(f, "hook %zu %s\n", strlen(name), name) < 0)
			return -EIO;
	}
	if (!prog)
		return 0;
	struct pin *pin = pin_ref(bee, &prog->obj);
	if (!pin)
		return -ENOMEM;
	return write_ref(f, "prog", prog->obj.id, pin->path + strlen(bee->pin_dir) + 1);
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
		err = save_map(bee, f, (struct bee_map *)pin->obj);
	else if (pin->obj->kind == BEE_OBJ_PROG)
		err = save_prog(bee, f, (struct bee_prog *)pin->obj);
	else if (pin->obj->kind == BEE_OBJ_LINK)
		err = save_link(bee, f, (struct bee_link_obj *)pin->obj);
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
	bool listed = false;
	pthread_mutex_lock(&bee->lock);
	struct stat st;
	if (pin_find(bee, path) || stat(path, &st) == 0)
		err = -EEXIST;
	else
		err = make_parents(path);
	if (!err) {
		/* Listed first: files this one leads to may refer back to it. */
		pin_list(bee, pin);
		listed = true;
		pin_origin(bee, pin);
		err = save_pin(bee, pin);
		if (err)
			pin_unlist(bee, pin);
	}
	pthread_mutex_unlock(&bee->lock);
	/* Dropped outside the lock: a last reference's destroy takes it. */
	if (err && listed) {
		pin_release(pin);
	} else if (err) {
		free(pin->path);
		free(pin);
		bee_obj_put(obj);
	}
	return err;
}

void bee_pins_save_obj(struct bee *bee, struct bee_obj *obj)
{
	pthread_mutex_lock(&bee->lock);
	for (struct pin *p = bee->pins; p; p = p->next) {
		struct stat st;
		if (p->obj == obj && stat(p->path, &st) == 0)
			save_pin(bee, p);
	}
	pthread_mutex_unlock(&bee->lock);
}

/* ---- reading a pin another process left ---- */

/* The other half of write_ref: "<kw> <id> <len> <path>\n", the path
 * into rel (cap bytes).  0 or -EINVAL. */
static int read_ref(FILE *f, const char *kw, uint32_t *id, char *rel, size_t cap)
{
	char word[16];
	unsigned n;
	size_t len;
	if (fscanf(f, "%15s %u %zu", word, &n, &len) != 3 || strcmp(word, kw) || fgetc(f) != ' ' ||
	    len == 0 || len >= cap || fread(rel, 1, len, f) != len || fgetc(f) != '\n')
		return -EINVAL;
	rel[len] = 0;
	if (strlen(rel) != len)
		return -EINVAL; /* a NUL inside */
	*id = n;
	return 0;
}

static int obj_get_path(struct bee *bee, const char *path);

/* A slot of a prog array or map of maps to fill once the get is done
 * (what it holds may still be loading: see the top of the file). */
static int slot_defer(struct bee_map *map, const void *key, const char *path, const char *owner)
{
	struct pending_slot *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->key = malloc(map->key_size);
	s->path = strdup(path);
	s->owner = strdup(owner);
	if (!s->key || !s->path || !s->owner) {
		free(s->key);
		free(s->path);
		free(s->owner);
		free(s);
		return -ENOMEM;
	}
	memcpy(s->key, key, map->key_size);
	bee_obj_hold(&map->obj);
	s->map = map;
	s->next = get_state.slots;
	get_state.slots = s;
	return 0;
}

static void slot_free(struct pending_slot *s)
{
	bee_obj_put(&s->map->obj);
	free(s->key);
	free(s->path);
	free(s->owner);
	free(s);
}

/* Put the object behind fd into the slot, with the checks BPF_MAP_UPDATE_ELEM
 * makes (a program of the array's type; an inner map of the template's
 * shape), but through the map itself: a read-only map's file must load. */
static int slot_fill(struct bee *bee, struct pending_slot *s, int fd)
{
	struct bee_map *map = s->map;
	bool progs = map->type == BPF_MAP_TYPE_PROG_ARRAY;
	struct bee_obj *obj = bee_handle_get(bee, fd, progs ? BEE_OBJ_PROG : BEE_OBJ_MAP);
	if (!obj)
		return pin_bad(-EINVAL, s->owner, "a slot names %s, which is not a %s", s->path,
			       progs ? "program" : "map");
	int err = 0;
	if (progs) {
		err = bee_prog_array_check_owner(map, (int)((struct bee_prog *)obj)->type);
		if (err)
			pin_bad(err, s->owner, "%s is a program of another type than the array's",
				s->path);
	} else {
		struct bee_map *inner = (struct bee_map *)obj;
		bool same = bee_map_inner_matches(map, inner);
		if (!same)
			err = pin_bad(-EINVAL, s->owner, "%s does not match the inner map template",
				      s->path);
	}
	if (!err) {
		bee_epoch_enter();
		err = map->ops->fd_update(map, s->key, obj, BPF_ANY);
		bee_epoch_exit();
		if (err)
			pin_bad(err, s->owner, "cannot fill a slot with %s: %s", s->path,
				strerror(-err));
	}
	if (err)
		bee_obj_put(obj);
	return err;
}

static void template_free_deferred(void *arg)
{
	struct bee_map *map = arg;
	map->ops->free(map);
}

static void template_destroy(struct bee_obj *obj)
{
	bee_epoch_defer(template_free_deferred, obj);
}

/*
 * A handle to a map of the inner map template's shape, for the
 * inner_map_fd of BPF_MAP_CREATE.  It is made by the maps layer and never
 * registered: it has no id, so it takes none that an object of the pin
 * directory is about to ask for (the outer map's own, typically).
 */
static int template_map(struct bee *bee, const union bpf_attr *attr)
{
	int err;
	if (attr->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || attr->map_type == BPF_MAP_TYPE_HASH_OF_MAPS ||
	    attr->map_type == BPF_MAP_TYPE_PROG_ARRAY)
		return -EINVAL; /* BPF_MAP_CREATE would refuse it */
	struct bee_map *map = bee_map_create_attr(attr, bee->ncpus, NULL, &err);
	if (!map)
		return err;
	map->obj.destroy = template_destroy;
	map->owner = bee;
	int fd = bee_handle_new(bee, &map->obj);
	if (fd < 0)
		bee_obj_put(&map->obj);
	return fd;
}

/* Refill a map just made again (handle fd) with the count elements
 * that follow in f.  Returns fd, or -errno with the map closed. */
static int load_map_elements(struct bee *bee, FILE *f, const char *path, int fd, long count,
			     bool frozen)
{
	struct bee_map *map = bee_map_get_fd(bee, fd);
	uint32_t ks = map->key_size, svs = bee_map_sys_value_size(map);
	unsigned char *key = malloc(ks ? ks : 1), *value = malloc(svs ? svs : 1);
	char rel[PATH_MAX / 2], ref[PATH_MAX];
	int err = (!key || !value) ? -ENOMEM : 0;
	if (!err && map->ops->fd_valued && count > (long)map->max_entries)
		err = pin_bad(-EINVAL, path, "%ld slots in a map of %u", count, map->max_entries);
	/* Restore through the map directly: a frozen or read-only map's file
	 * must load even though the host may not write to it afterwards. */
	for (long i = 0; !err && i < count; i++) {
		uint32_t oid;
		if (ks && fread(key, 1, ks, f) != ks)
			err = pin_bad(-EINVAL, path, "truncated: element %ld of %ld", i, count);
		else if (map->ops->fd_valued) {
			if (read_ref(f, "ref", &oid, rel, sizeof(rel)) ||
			    pin_path(bee, rel, ref, sizeof(ref)))
				err = pin_bad(-EINVAL, path, "slot %ld of %ld: bad or truncated reference",
					      i, count);
			else
				err = slot_defer(map, key, ref, path);
		} else if (fread(value, 1, svs, f) != svs)
			err = pin_bad(-EINVAL, path, "truncated: element %ld of %ld", i, count);
		else if ((err = bee_map_sys_update(map, ks ? key : NULL, value, BPF_ANY)))
			pin_bad(err, path, "element %ld of %ld: %s", i, count, strerror(-err));
	}
	if (!err && map->ops->fd_valued && fgetc(f) != EOF)
		err = pin_bad(-EINVAL, path, "bytes after the last slot");
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

/* The largest BTF a record may carry: what BPF_BTF_LOAD takes. */
#define PIN_BTF_MAX (16u << 20)

/* Bytes left in f after its position (0 when that cannot be told). */
static long bytes_left(FILE *f)
{
	struct stat st;
	long at = ftell(f);
	if (at < 0 || fstat(fileno(f), &st) || st.st_size < at)
		return 0;
	return (long)(st.st_size - at);
}

/*
 * The BTF bytes of a record (a map's "btf", a program's "btfinfo"): size
 * of them, next in f, that were the BTF object id, as a handle.  An
 * object's programs and maps share the one BTF libbpf loaded for it, and
 * each of their pins carries a copy: a BTF object of that id with the
 * same bytes that this instance already has (got with an earlier pin) is
 * shared; else the bytes are loaded again, asking for the id they had.
 * Returns the handle, or -errno with the reason given to pin_bad.
 */
static int load_saved_btf(struct bee *bee, FILE *f, const char *path, uint32_t id, uint32_t size)
{
	if (!size || size > PIN_BTF_MAX)
		return pin_bad(-EINVAL, path, "a BTF of %u bytes (at most %u)", size, PIN_BTF_MAX);
	if ((long)size > bytes_left(f))
		return pin_bad(-EINVAL, path, "truncated: a BTF of %u bytes, %ld left", size,
			       bytes_left(f));
	void *data = malloc(size);
	if (!data)
		return pin_bad(-ENOMEM, path, "no memory for a BTF of %u bytes", size);
	if (fread(data, 1, size, f) != size) {
		free(data);
		return pin_bad(-EINVAL, path, "truncated BTF (%u bytes)", size);
	}
	int fd = -1;
	struct bee_obj *o = bee_obj_by_id(bee, BEE_OBJ_BTF, id);
	if (o) {
		const struct bee_btf *b = (const struct bee_btf *)o;
		if (b->size == size && !memcmp(b->data, data, size))
			fd = bee_handle_new(bee, o);
		if (fd < 0)
			bee_obj_put(o);
	}
	if (fd < 0) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.btf = (uint64_t)(uintptr_t)data;
		a.btf_size = size;
		bee_obj_request_id(id);
		fd = (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
		bee_obj_request_id(0);
		if (fd < 0)
			pin_bad(fd, path, "its BTF (id %u, %u bytes) does not load again: %s", id, size,
				strerror(-fd));
	}
	free(data);
	return fd;
}

/* A map's BTF, if its file has the record: a handle in *btf_fd (-1 when
 * it has none: a map made without BTF, or a file from before the record)
 * and the type ids in a. */
static int load_map_btf(struct bee *bee, FILE *f, const char *path, union bpf_attr *a, int *btf_fd)
{
	*btf_fd = -1;
	int c = fgetc(f);
	ungetc(c, f);
	if (c != 'b')
		return 0;
	unsigned id, size, kid, vid, vmlinux_vid;
	if (fscanf(f, "btf %u %u %u %u %u", &id, &size, &kid, &vid, &vmlinux_vid) != 5 ||
	    fgetc(f) != '\n')
		return pin_bad(-EINVAL, path, "bad or truncated BTF record");
	if (!vid)
		return pin_bad(-EINVAL, path, "a BTF record without a value type");
	int fd = load_saved_btf(bee, f, path, id, size);
	if (fd < 0)
		return fd;
	a->btf_fd = (uint32_t)fd;
	a->btf_key_type_id = kid;
	a->btf_value_type_id = vid;
	a->btf_vmlinux_value_type_id = vmlinux_vid;
	*btf_fd = fd;
	return 0;
}

static int load_map(struct bee *bee, FILE *f, const char *path, uint32_t id, bool frozen)
{
	unsigned type, ks, vs, max, flags, inner_type;
	unsigned long long extra;
	char name[BPF_OBJ_NAME_LEN + 1];
	long count;
	/* Each line ends in exactly one '\n', read with fgetc: a "\n" in a
	 * scanf format skips any run of white space, which would swallow the
	 * binary elements' leading bytes (a first key of 9, 10 or 32). */
	if (fscanf(f, "map %u %u %u %u %u %llu %u %16s", &type, &ks, &vs, &max, &flags, &extra,
		   &inner_type, name) != 8 || fgetc(f) != '\n')
		return pin_bad(-EINVAL, path, "bad or truncated map attributes");
	bool of_maps = type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
	union bpf_attr tmpl, a;
	memset(&tmpl, 0, sizeof(tmpl));
	memset(&a, 0, sizeof(a));
	if (of_maps) {
		/* The inner map template: a map of its shape stands in for the
		 * inner_map_fd the map was created with. */
		unsigned it, iks, ivs, imax, iflags;
		int c = fgetc(f);
		ungetc(c, f);
		if (c != 'i')
			return pin_bad(-EOPNOTSUPP, path, "a map of maps saved without its inner "
							  "map template (by an older bee)");
		if (fscanf(f, "inner %u %u %u %u %u", &it, &iks, &ivs, &imax, &iflags) != 5 ||
		    fgetc(f) != '\n' || it != inner_type)
			return pin_bad(-EINVAL, path, "bad or truncated inner map template");
		tmpl.map_type = it;
		tmpl.key_size = iks;
		tmpl.value_size = ivs;
		tmpl.max_entries = imax;
		tmpl.map_flags = iflags;
	}
	/* The BTF first: its object asks for its id before the map asks for
	 * the map's. */
	int btf_fd;
	int err = load_map_btf(bee, f, path, &a, &btf_fd);
	if (err)
		return err;
	int inner_fd = -1, fd;
	if (fscanf(f, "elements %ld", &count) != 1 || fgetc(f) != '\n' || count < 0) {
		fd = pin_bad(-EINVAL, path, "bad or truncated element count");
		goto out;
	}
	if (of_maps) {
		inner_fd = template_map(bee, &tmpl);
		if (inner_fd < 0) {
			fd = pin_bad(inner_fd, path, "cannot make the inner map template: %s",
				     strerror(-inner_fd));
			goto out;
		}
		a.inner_map_fd = (uint32_t)inner_fd;
	}
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	if (strcmp(name, "-"))
		memcpy(a.map_name, name, strnlen(name, BPF_OBJ_NAME_LEN - 1));
	bee_obj_request_id(id);
	fd = (int)bee_bpf(bee, BPF_MAP_CREATE, &a, sizeof(a));
	bee_obj_request_id(0);
	if (fd < 0 && btf_fd >= 0)
		pin_bad(fd, path, "cannot make the map again with its BTF (key type id %u, value "
				  "type id %u): %s", a.btf_key_type_id, a.btf_value_type_id,
			strerror(-fd));
	else if (fd < 0)
		pin_bad(fd, path, "cannot make the map again: %s", strerror(-fd));
	if (fd >= 0)
		fd = load_map_elements(bee, f, path, fd, count, frozen);
out:
	if (inner_fd >= 0)
		bee_close(bee, inner_fd);
	if (btf_fd >= 0)
		bee_close(bee, btf_fd); /* the map holds the BTF now */
	return fd;
}

/* A program's saved BTF and func/line info ("btfinfo", after its
 * instructions), if any: a BTF handle in *btf_fd (-1 when none). */
struct saved_btf_info {
	int btf_fd;
	struct bpf_func_info *func_info;
	struct bpf_line_info *line_info;
	uint32_t nr_func_info, nr_line_info;
};

static int load_btf_info(struct bee *bee, FILE *f, const char *path, struct saved_btf_info *si)
{
	si->btf_fd = -1;
	int c = fgetc(f);
	if (c == EOF)
		return 0; /* none (or a file from before btfinfo) */
	ungetc(c, f);
	char line[128];
	unsigned id, size, nf, nl;
	if (!fgets(line, sizeof(line), f) || !strchr(line, '\n') ||
	    sscanf(line, "btfinfo %u %u %u %u", &id, &size, &nf, &nl) != 4 || nf > 1000000 ||
	    nl > 1000000)
		return pin_bad(-EINVAL, path, "bad or truncated BTF and func/line info");
	si->func_info = calloc(nf ? nf : 1, sizeof(*si->func_info));
	si->line_info = calloc(nl ? nl : 1, sizeof(*si->line_info));
	if (!si->func_info || !si->line_info)
		return pin_bad(-ENOMEM, path, "no memory for func/line info");
	si->btf_fd = load_saved_btf(bee, f, path, id, size);
	if (si->btf_fd < 0)
		return si->btf_fd;
	if (fread(si->func_info, sizeof(*si->func_info), nf, f) != nf ||
	    fread(si->line_info, sizeof(*si->line_info), nl, f) != nl)
		return pin_bad(-EINVAL, path, "truncated func/line info");
	si->nr_func_info = nf;
	si->nr_line_info = nl;
	return 0;
}

static int load_prog(struct bee *bee, FILE *f, const char *path, uint32_t id)
{
	unsigned type, attach, gpl;
	size_t len, n_maps;
	char name[BPF_OBJ_NAME_LEN + 1];
	if (fscanf(f, "prog %u %u %u %zu %zu %16s", &type, &attach, &gpl, &len, &n_maps, name) != 6 ||
	    fgetc(f) != '\n' || len == 0 || len > 1000000 || n_maps > 4096)
		return pin_bad(-EINVAL, path, "bad or truncated program attributes");
	unsigned long long load_time = 0;
	unsigned uid = 0;
	int c = fgetc(f);
	ungetc(c, f);
	if (c == 'l' && (fscanf(f, "loaded %llu %u", &load_time, &uid) != 2 || fgetc(f) != '\n'))
		return pin_bad(-EINVAL, path, "bad or truncated load time");
	uint32_t *map_ids = calloc(n_maps ? n_maps : 1, sizeof(*map_ids));
	int *map_fds = malloc((n_maps ? n_maps : 1) * sizeof(*map_fds));
	struct bpf_insn *insns = malloc(len * sizeof(*insns));
	size_t got = 0;
	int fd = (!map_ids || !map_fds || !insns) ? -ENOMEM : 0;
	/* Every map first, by the path of its pin. */
	for (; fd >= 0 && got < n_maps; got++) {
		char rel[PATH_MAX / 2], mpath[PATH_MAX];
		if (fscanf(f, "mapref %u %2047s", &map_ids[got], rel) != 2 || fgetc(f) != '\n' ||
		    pin_path(bee, rel, mpath, sizeof(mpath))) {
			fd = pin_bad(-EINVAL, path, "map %zu of %zu: bad or truncated reference", got,
				     n_maps);
			break;
		}
		map_fds[got] = obj_get_path(bee, mpath);
		if (map_fds[got] < 0) {
			fd = pin_bad(map_fds[got], path, "its map %s: %s", rel, strerror(-map_fds[got]));
			break;
		}
	}
	if (fd >= 0 && fread(insns, sizeof(*insns), len, f) != len)
		fd = pin_bad(-EINVAL, path, "truncated instructions");
	struct saved_btf_info si = {.btf_fd = -1};
	if (fd >= 0) {
		int err = load_btf_info(bee, f, path, &si);
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
				fd = pin_bad(-EINVAL, path, "instruction %zu names map id %u, which the "
							   "file does not", i, (unsigned)in->imm);
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
		if (fd < 0)
			pin_bad(fd, path, "cannot load the program again: %s", strerror(-fd));
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

/* A link: made again on its hook (a named hook by its name, interned in
 * this instance), with its program got by the program's pin, or detached. */
static int load_link(struct bee *bee, FILE *f, const char *path, uint32_t id)
{
	unsigned type, target, attached;
	if (fscanf(f, "link %u %u %u", &type, &target, &attached) != 3 || fgetc(f) != '\n' ||
	    attached > 1)
		return pin_bad(-EINVAL, path, "bad or truncated link attributes");
	if (target >= BEE_HOOK_NAMED_BASE) {
		char word[8], name[256];
		size_t len;
		if (fscanf(f, "%7s %zu", word, &len) != 2 || strcmp(word, "hook") ||
		    fgetc(f) != ' ' || len == 0 || len >= sizeof(name) ||
		    fread(name, 1, len, f) != len || fgetc(f) != '\n')
			return pin_bad(-EINVAL, path, "bad or truncated hook name");
		name[len] = 0;
		int err = strlen(name) == len ? bee_hook_id(bee, name, &target) : -EINVAL;
		if (err)
			return pin_bad(err, path, "bad hook name");
	}
	struct bee_prog *prog = NULL;
	if (attached) {
		char rel[PATH_MAX / 2], ppath[PATH_MAX];
		uint32_t prog_id;
		if (read_ref(f, "prog", &prog_id, rel, sizeof(rel)) ||
		    pin_path(bee, rel, ppath, sizeof(ppath)))
			return pin_bad(-EINVAL, path, "bad or truncated program reference");
		int pfd = obj_get_path(bee, ppath);
		if (pfd < 0)
			return pin_bad(pfd, path, "its program %s: %s", rel, strerror(-pfd));
		prog = bee_prog_get_fd(bee, pfd);
		bee_close(bee, pfd);
		if (!prog)
			return pin_bad(-EINVAL, path, "its program %s is not a program", rel);
	}
	if (fgetc(f) != EOF) {
		if (prog)
			bee_obj_put(&prog->obj);
		return pin_bad(-EINVAL, path, "bytes after the link");
	}
	bee_obj_request_id(id);
	int fd = bee_link_new(bee, prog, (enum bpf_attach_type)type, target);
	bee_obj_request_id(0);
	if (fd < 0)
		pin_bad(fd, path, "cannot make the link again: %s", strerror(-fd));
	return fd;
}

/* Drop the pins a failed BPF_OBJ_GET made, and what it left to do. */
static void get_undo(struct bee *bee)
{
	while (get_state.slots) {
		struct pending_slot *s = get_state.slots;
		get_state.slots = s->next;
		slot_free(s);
	}
	pthread_mutex_lock(&bee->lock);
	struct pin *added = get_state.added;
	get_state.added = NULL;
	for (struct pin *p = added; p; p = p->added_next)
		pin_unlist(bee, p);
	pthread_mutex_unlock(&bee->lock);
	while (added) {
		struct pin *next = added->added_next;
		pin_release(added);
		added = next;
	}
}

int bee_cmd_obj_get(struct bee *bee, union bpf_attr *attr)
{
	get_state.msg[0] = 0; /* no reason from an earlier get */
	if (!attr_zero_from(attr, ATTR_END(file_flags)))
		return -EINVAL;
	if (attr->bpf_fd || (attr->file_flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY)))
		return -EINVAL;
	const char *user = u64_to_ptr(attr->pathname);
	if (!user)
		return -EFAULT;
	char path[PATH_MAX];
	int err = pin_path(bee, user, path, sizeof(path));
	if (err == -EPERM)
		return pin_bad(err, user, "outside the pin directory %s", bee->pin_dir);
	if (err)
		return pin_bad(err, user, "not a path in the pin directory: %s", strerror(-err));
	get_state.slots = NULL;
	get_state.added = NULL;
	int fd = obj_get_path(bee, path);
	/* Then the slots: every object the get needs has its pin by now (or
	 * gets it here, leaving more slots to fill). */
	while (fd >= 0 && get_state.slots) {
		struct pending_slot *s = get_state.slots;
		get_state.slots = s->next;
		int ofd = obj_get_path(bee, s->path);
		if (ofd < 0) {
			char rel[PATH_MAX];
			snprintf(rel, sizeof(rel), "%s", s->path + strlen(bee->pin_dir) + 1);
			err = pin_bad(ofd, s->owner, "a slot's %s: %s", rel, strerror(-ofd));
		} else {
			err = slot_fill(bee, s, ofd);
			bee_close(bee, ofd);
		}
		slot_free(s);
		if (err) {
			bee_close(bee, fd);
			fd = err;
		}
	}
	if (fd < 0) {
		get_undo(bee);
		if (!get_state.msg[0])
			pin_bad(fd, path, "%s", strerror(-fd));
		return fd;
	}
	get_state.added = NULL;
	return fd;
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
		fd = pin_bad(-EINVAL, path, "not a bee pin file (no BEEPIN1 magic)");
	} else {
		int c = fgetc(f);
		ungetc(c, f);
		char line[128];
		if (c == 'i' && (!fgets(line, sizeof(line), f) || !strchr(line, '\n') ||
				 sscanf(line, "id %u %u %47s", &id, &frozen, origin) < 2))
			fd = pin_bad(-EINVAL, path, "bad or truncated id line");
		else if ((c = fgetc(f)) == EOF)
			fd = pin_bad(-EINVAL, path, "truncated: no object after the id line");
		else {
			ungetc(c, f);
			if (!strcmp(origin, "-"))
				origin[0] = 0;
			int kind = c == 'm' ? BEE_OBJ_MAP : c == 'p' ? BEE_OBJ_PROG
				 : c == 'l' ? BEE_OBJ_LINK : -1;
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
				fd = c == 'm' ? load_map(bee, f, path, id, frozen != 0)
				   : c == 'p' ? load_prog(bee, f, path, id)
				   : c == 'l' ? load_link(bee, f, path, id)
				   : c == 'o' ? pin_bad(-EOPNOTSUPP, path, "this kind of object is "
									     "not kept")
					      : pin_bad(-EINVAL, path, "unknown object kind");
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
	pin_list(bee, p);
	if (!p->origin[0])
		pin_origin(bee, p);
	p->added_next = get_state.added;
	get_state.added = p;
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
		pin_release(p);
		p = next;
	}
}

// SPDX-License-Identifier: MIT
/*
 * Aliases and flavors from an INI file, parsed by inih (Debian libinih).
 * inih calls us once per key; we keep the first error's text and inih
 * tells us its line. Names cross-reference (a flavor names aliases), which
 * is checked once the whole file is read, so order in the file is free.
 */
#include "host/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli.h"

struct parse_ctx {
	struct host_config *c;
	char err[256];
};

static int bad(struct parse_ctx *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->err[0]) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih: this line is an error */
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= HOST_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* A type directory's name: it becomes part of a sysfs path, so no '/' and no "..". */
static bool valid_mdev_type(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int parse_hex_id(const char *s, unsigned int max, unsigned int *out, unsigned int *digits)
{
	char *end;
	unsigned long v;

	if (!strncasecmp(s, "0x", 2))
		s += 2;
	if (!isxdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 16);
	if (*end || v > max)
		return -1;
	*out = (unsigned int)v;
	if (digits)
		*digits = (unsigned int)(end - s);
	return 0;
}

static struct host_alias *find_alias(struct host_config *c, const char *name)
{
	for (unsigned int i = 0; i < c->nr_aliases; i++)
		if (!strcmp(c->aliases[i].name, name))
			return &c->aliases[i];
	return NULL;
}

static struct host_flavor *find_flavor(struct host_config *c, const char *name)
{
	for (unsigned int i = 0; i < c->nr_flavors; i++)
		if (!strcmp(c->flavors[i].name, name))
			return &c->flavors[i];
	return NULL;
}

static int alias_key(struct parse_ctx *p, struct host_alias *a, const char *key, const char *val)
{
	unsigned int digits;

	if (!strcmp(key, "vendor")) {
		if (parse_hex_id(val, 0xffff, &a->vendor, NULL))
			return bad(p, "alias %s: vendor '%s' is not a 16-bit hex id like 0x10de",
				   a->name, val);
		a->has_vendor = true;
	} else if (!strcmp(key, "device")) {
		if (parse_hex_id(val, 0xffff, &a->device, NULL))
			return bad(p, "alias %s: device '%s' is not a 16-bit hex id like 0x2330",
				   a->name, val);
		a->has_device = true;
	} else if (!strcmp(key, "class")) {
		if (parse_hex_id(val, 0xffffff, &a->cls, &digits) ||
		    (digits != 2 && digits != 4 && digits != 6))
			return bad(p, "alias %s: class '%s' must be 2, 4 or 6 hex digits "
				   "(0x03, 0x0302, 0x010802)", a->name, val);
		a->cls_bits = digits * 4;
	} else if (!strcmp(key, "description")) {
		snprintf(a->description, sizeof(a->description), "%s", val);
	} else if (!strcmp(key, "mdev_type")) {
		if (strlen(val) >= sizeof(a->mdev_type) || !valid_mdev_type(val))
			return bad(p, "alias %s: mdev_type '%s' is not a type name like "
				   "nvidia-471 (letters, digits, . _ -, at most %zu)", a->name, val,
				   sizeof(a->mdev_type) - 1);
		snprintf(a->mdev_type, sizeof(a->mdev_type), "%s", val);
	} else {
		return bad(p, "alias %s: unknown key '%s' (have vendor, device, class, "
			   "mdev_type, description)", a->name, key);
	}
	return 1;
}

static int flavor_devices(struct parse_ctx *p, struct host_flavor *f, const char *val)
{
	char buf[256], *save = NULL, *tok, *colon;
	unsigned long n;

	snprintf(buf, sizeof(buf), "%s", val);
	f->nr_devs = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct host_flavor_dev *d = &f->devs[f->nr_devs];

		if (f->nr_devs == HOST_MAX_FLAVOR_DEVS)
			return bad(p, "flavor %s: at most %d device entries", f->name,
				   HOST_MAX_FLAVOR_DEVS);
		colon = strchr(tok, ':');
		n = 1;
		if (colon) {
			char *end;

			*colon = '\0';
			n = strtoul(colon + 1, &end, 10);
			if (!isdigit((unsigned char)colon[1]) || *end || !n || n > CLI_MAX_DEVICES)
				return bad(p, "flavor %s: '%s:%s': the count must be 1 to %d",
					   f->name, tok, colon + 1, CLI_MAX_DEVICES);
		}
		if (!valid_name(tok))
			return bad(p, "flavor %s: '%s' is not an alias name", f->name, tok);
		snprintf(d->alias, sizeof(d->alias), "%s", tok);
		d->count = (unsigned int)n;
		f->nr_devs++;
	}
	return 1;
}

static int flavor_key(struct parse_ctx *p, struct host_flavor *f, const char *key, const char *val)
{
	char *end;
	unsigned long n;

	if (!strcmp(key, "cpus")) {
		n = strtoul(val, &end, 10);
		if (!isdigit((unsigned char)*val) || *end || !n || n > CLI_MAX_CPUS)
			return bad(p, "flavor %s: cpus '%s' must be 1 to %d", f->name, val,
				   CLI_MAX_CPUS);
		f->cpus = (unsigned int)n;
	} else if (!strcmp(key, "memory")) {
		if (cli_parse_size(val, &f->memory))
			return bad(p, "flavor %s: memory '%s' is not a size like 64G", f->name, val);
	} else if (!strcmp(key, "hugepages")) {
		if (!strcasecmp(val, "2M"))
			f->hugepage_size = 2ULL << 20;
		else if (!strcasecmp(val, "1G"))
			f->hugepage_size = 1ULL << 30;
		else if (!strcasecmp(val, "none"))
			f->hugepage_size = UINT64_MAX;
		else
			return bad(p, "flavor %s: hugepages '%s' must be 2M, 1G or none", f->name,
				   val);
	} else if (!strcmp(key, "devices")) {
		return flavor_devices(p, f, val);
	} else {
		return bad(p, "flavor %s: unknown key '%s' (have cpus, memory, hugepages, devices)",
			   f->name, key);
	}
	return 1;
}

/* "alias h100" -> kind "alias", name "h100". */
static int split_section(struct parse_ctx *p, const char *section, char *kind, char *name)
{
	int end = -1;

	/* Nothing may follow NAME: %31s alone would cut a long one, or drop a third word. */
	if (sscanf(section, "%15s %31s %n", kind, name, &end) != 2 || end < 0 || section[end] ||
	    !valid_name(name) || (strcmp(kind, "alias") && strcmp(kind, "flavor")))
		return bad(p, "section [%s]: expected [alias NAME] or [flavor NAME] (NAME: "
			   "letters, digits, . _ -)", section);
	return 1;
}

static int on_key(void *user, const char *section, const char *key, const char *val)
{
	struct parse_ctx *p = user;
	struct host_config *c = p->c;
	char kind[16], name[HOST_NAME_LEN];
	struct host_alias *a;
	struct host_flavor *f;

	if (!section[0])
		return bad(p, "'%s' outside a section: put it under [alias NAME] or [flavor NAME]",
			   key);
	if (!split_section(p, section, kind, name))
		return 0;
	if (!strcmp(kind, "alias")) {
		a = find_alias(c, name);
		if (!a) {
			if (c->nr_aliases == HOST_MAX_ALIASES)
				return bad(p, "too many aliases (at most %d)", HOST_MAX_ALIASES);
			a = &c->aliases[c->nr_aliases++];
			snprintf(a->name, sizeof(a->name), "%s", name);
		}
		return alias_key(p, a, key, val);
	}
	f = find_flavor(c, name);
	if (!f) {
		if (c->nr_flavors == HOST_MAX_FLAVORS)
			return bad(p, "too many flavors (at most %d)", HOST_MAX_FLAVORS);
		f = &c->flavors[c->nr_flavors++];
		snprintf(f->name, sizeof(f->name), "%s", name);
	}
	return flavor_key(p, f, key, val);
}

/* Rules that need the whole file. */
static int check_refs(struct host_config *c, const char *name, char *err, size_t len)
{
	for (unsigned int i = 0; i < c->nr_aliases; i++) {
		const struct host_alias *a = &c->aliases[i];

		if (a->has_device && !a->has_vendor) {
			snprintf(err, len, "%s: alias %s has a device id but no vendor", name,
				 a->name);
			return -EINVAL;
		}
		if (a->mdev_type[0] && (a->has_vendor || a->cls_bits)) {
			snprintf(err, len, "%s: alias %s: mdev_type names mediated devices; it "
				 "takes no vendor, device or class", name, a->name);
			return -EINVAL;
		}
		if (!a->has_vendor && !a->cls_bits && !a->mdev_type[0]) {
			snprintf(err, len, "%s: alias %s needs a vendor, a class or an mdev_type",
				 name, a->name);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < c->nr_flavors; i++) {
		const struct host_flavor *f = &c->flavors[i];

		for (unsigned int j = 0; j < f->nr_devs; j++) {
			if (find_alias(c, f->devs[j].alias))
				continue;
			snprintf(err, len, "%s: flavor %s uses alias '%s', which is not defined "
				 "(add an [alias %s] section)", name, f->name, f->devs[j].alias,
				 f->devs[j].alias);
			return -EINVAL;
		}
	}
	return 0;
}

static int finish(struct parse_ctx *p, int line, const char *name, char *err, size_t len)
{
	if (line == -2) {
		snprintf(err, len, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (line > 0) {
		snprintf(err, len, "%s:%d: %s", name, line,
			 p->err[0] ? p->err : "not a 'key = value' line (longer than 200 bytes?)");
		return -EINVAL;
	}
	return check_refs(p->c, name, err, len);
}

int host_config_parse(const char *text, const char *name, struct host_config *c, char *err,
		      size_t len)
{
	struct parse_ctx p = { .c = c };

	memset(c, 0, sizeof(*c));
	return finish(&p, ini_parse_string(text, on_key, &p), name, err, len);
}

int host_config_load(const char *path, struct host_config *c, char *err, size_t len)
{
	struct parse_ctx p = { .c = c };
	const char *name = path ? path : HOST_CONFIG_PATH;
	FILE *f;
	int ret;

	memset(c, 0, sizeof(*c));
	f = fopen(name, "r");
	if (!f) {
		ret = -errno;
		if (!path && ret == -ENOENT)
			return 0;
		snprintf(err, len, "%s: %s%s", name, strerror(-ret),
			 path ? "" : " (the system config; see docs/quickstart.md)");
		return ret;
	}
	ret = ini_parse_file(f, on_key, &p);
	fclose(f);
	return finish(&p, ret, name, err, len);
}

const struct host_alias *host_config_alias(const struct host_config *c, const char *name)
{
	return find_alias((struct host_config *)c, name);
}

const struct host_flavor *host_config_flavor(const struct host_config *c, const char *name)
{
	return find_flavor((struct host_config *)c, name);
}

bool host_alias_matches(const struct host_alias *a, unsigned int vendor, unsigned int device,
			unsigned int cls)
{
	if (a->mdev_type[0])
		return false;	/* names mediated devices, not PCI functions */
	if (a->has_vendor && a->vendor != vendor)
		return false;
	if (a->has_device && a->device != device)
		return false;
	return !a->cls_bits || (cls >> (24 - a->cls_bits)) == a->cls;
}

void host_alias_describe(const struct host_alias *a, char *out, size_t len)
{
	char ids[32] = "", cls[32] = "";

	if (a->mdev_type[0]) {
		snprintf(out, len, "mdev type %s", a->mdev_type);
		return;
	}
	if (a->has_vendor && a->has_device)
		snprintf(ids, sizeof(ids), "%04x:%04x", a->vendor, a->device);
	else if (a->has_vendor)
		snprintf(ids, sizeof(ids), "%04x:*", a->vendor);
	if (a->cls_bits)
		snprintf(cls, sizeof(cls), "class 0x%0*x", (int)(a->cls_bits / 4), a->cls);
	snprintf(out, len, "%s%s%s", ids, ids[0] && cls[0] ? ", " : "", cls);
}

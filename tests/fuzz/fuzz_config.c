// SPDX-License-Identifier: MIT
/*
 * host/config.c: the alias/flavor file (/etc/vfio-vmm.conf), the input being
 * the file's text, through host_config_parse (the same on_key callbacks as
 * host_config_load, over inih's string reader). On an error the message must
 * be one line naming the file. A config it accepts must keep every promise
 * host/config.h and docs/quickstart.md make, since host/select.c relies on
 * them without checking again:
 *  - at most 32 aliases and 32 flavors, names valid and unique, each written
 *    in the file as exactly "[alias NAME]" / "[flavor NAME]";
 *  - an alias has a vendor or a class (or only an mdev_type), a device id only with a vendor, ids
 *    within 16 bits, a class of 2, 4 or 6 hex digits; it matches its own ids;
 *  - a flavor has 0-255 cpus, at most 8 device entries, each a defined alias
 *    with a count from 1 to CLI_MAX_DEVICES, hugepages 0, 2M, 1G or none.
 */
#include <ctype.h>
#include <errno.h>

#include "host/config.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/cli.h"

#define NAME "fuzz.conf"
/* inih keeps at most this many bytes of a [section] line (MAX_SECTION - 1). */
#define INIH_SECTION_MAX 49

static struct host_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (!n || n == max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Is there a "[KIND NAME]" (blanks allowed around the words) in the text?
 * Modelled on inih: the section is what lies between '[' and the next ']'
 * on the line, cut to INIH_SECTION_MAX bytes.
 */
static bool section_written(const char *text, const char *kind, const char *name)
{
	size_t kl = strlen(kind), nl = strlen(name);

	for (const char *p = strchr(text, '['); p; p = strchr(p + 1, '[')) {
		const char *q = p + 1, *end = q;

		while (*end && *end != ']' && *end != '\n')
			end++;
		if (*end != ']')
			continue;
		if (end - q > INIH_SECTION_MAX)
			end = q + INIH_SECTION_MAX;
		while (q < end && is_blank(*q))
			q++;
		if ((size_t)(end - q) < kl || strncmp(q, kind, kl))
			continue;
		q += kl;
		if (q == end || !is_blank(*q))
			continue;
		while (q < end && is_blank(*q))
			q++;
		if ((size_t)(end - q) < nl || strncmp(q, name, nl))
			continue;
		q += nl;
		while (q < end && is_blank(*q))
			q++;
		if (q == end)
			return true;
	}
	return false;
}

static void check_alias(const char *text, const struct host_alias *a, unsigned int i)
{
	char desc[48], tiny[4];
	unsigned int cls;

	FUZZ_CHECK(name_ok(a->name, sizeof(a->name)), "alias %u has a bad name", i);
	FUZZ_CHECK(section_written(text, "alias", a->name),
		   "alias '%s' is not written as [alias %s]", a->name, a->name);
	FUZZ_CHECK(host_config_alias(&cfg, a->name) == a, "alias '%s' twice", a->name);
	FUZZ_CHECK(a->has_vendor || a->cls_bits || a->mdev_type[0], "alias '%s' matches every device",
		   a->name);
	FUZZ_CHECK(!a->mdev_type[0] || (!a->has_vendor && !a->cls_bits && !strchr(a->mdev_type, '/')),
		   "alias '%s': mdev_type with PCI ids, or a path", a->name);
	FUZZ_CHECK(!a->has_device || a->has_vendor, "alias '%s': device without vendor", a->name);
	FUZZ_CHECK(a->vendor <= 0xffff && a->device <= 0xffff, "alias '%s': ids %#x:%#x", a->name,
		   a->vendor, a->device);
	FUZZ_CHECK(a->cls_bits == 0 || a->cls_bits == 8 || a->cls_bits == 16 || a->cls_bits == 24,
		   "alias '%s': class of %u bits", a->name, a->cls_bits);
	FUZZ_CHECK(!a->cls_bits || a->cls < 1u << a->cls_bits, "alias '%s': class %#x in %u bits",
		   a->name, a->cls, a->cls_bits);
	FUZZ_CHECK(memchr(a->description, 0, sizeof(a->description)),
		   "alias '%s': description not terminated", a->name);
	cls = a->cls_bits ? a->cls << (24 - a->cls_bits) : 0x030200;
	FUZZ_CHECK(a->mdev_type[0] ? !host_alias_matches(a, 0x10de, 0x2330, 0x030200) :
		   host_alias_matches(a, a->has_vendor ? a->vendor : 0x1af4,
				      a->has_device ? a->device : 0x1234, cls),
		   "alias '%s' does not match its own ids (or an mdev alias a PCI function)",
		   a->name);
	host_alias_describe(a, desc, sizeof(desc));
	FUZZ_CHECK(desc[0] && strlen(desc) < sizeof(desc), "alias '%s' described as '%s'", a->name,
		   desc);
	host_alias_describe(a, tiny, sizeof(tiny));
	FUZZ_CHECK(strlen(tiny) < sizeof(tiny), "describe overflows a small buffer");
}

static void check_flavor(const char *text, const struct host_flavor *f, unsigned int i)
{
	FUZZ_CHECK(name_ok(f->name, sizeof(f->name)), "flavor %u has a bad name", i);
	FUZZ_CHECK(section_written(text, "flavor", f->name),
		   "flavor '%s' is not written as [flavor %s]", f->name, f->name);
	FUZZ_CHECK(host_config_flavor(&cfg, f->name) == f, "flavor '%s' twice", f->name);
	FUZZ_CHECK(f->cpus <= CLI_MAX_CPUS, "flavor '%s': %u cpus", f->name, f->cpus);
	FUZZ_CHECK(f->hugepage_size == 0 || f->hugepage_size == 2ULL << 20 ||
			   f->hugepage_size == 1ULL << 30 || f->hugepage_size == UINT64_MAX,
		   "flavor '%s': hugepages %#llx", f->name, (unsigned long long)f->hugepage_size);
	FUZZ_CHECK(f->nr_devs <= HOST_MAX_FLAVOR_DEVS, "flavor '%s': %u device entries", f->name,
		   f->nr_devs);
	for (unsigned int j = 0; j < f->nr_devs; j++) {
		const struct host_flavor_dev *d = &f->devs[j];

		FUZZ_CHECK(d->count >= 1 && d->count <= CLI_MAX_DEVICES, "flavor '%s': %s:%u",
			   f->name, d->alias, d->count);
		FUZZ_CHECK(host_config_alias(&cfg, d->alias), "flavor '%s' uses undefined '%s'",
			   f->name, d->alias);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[256];
	int ret;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x55, sizeof(err));
	ret = host_config_parse(text, NAME, &cfg, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM, "host_config_parse: %d", ret);
		FUZZ_CHECK(memchr(err, 0, sizeof(err)), "error message not terminated");
		FUZZ_CHECK(!strncmp(err, NAME ":", strlen(NAME ":")) && !strchr(err, '\n'),
			   "error message '%s' is not one line naming the file", err);
		free(text);
		return 0;
	}
	FUZZ_CHECK(cfg.nr_aliases <= HOST_MAX_ALIASES && cfg.nr_flavors <= HOST_MAX_FLAVORS,
		   "%u aliases, %u flavors", cfg.nr_aliases, cfg.nr_flavors);
	for (unsigned int i = 0; i < cfg.nr_aliases; i++)
		check_alias(text, &cfg.aliases[i], i);
	for (unsigned int i = 0; i < cfg.nr_flavors; i++)
		check_flavor(text, &cfg.flavors[i], i);
	free(text);
	return 0;
}

// SPDX-License-Identifier: MIT
#include "devices/power.h"

#include <string.h>

#include "vmm/layout.h"

#define PM1_CNT_SLP_EN	(1u << 13)
#define RST_CNT_RESET	(1u << 2)
#define I8042_CMD_RESET	0xfe

static void test_exit_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = opaque;
	uint32_t v = 0;

	(void)off;
	memcpy(&v, data, len > 4 ? 4 : len);
	p->stop(p->opaque, (int)(v & 0xff), "test exit port");
}

static void pm_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct power *p = opaque;
	uint8_t regs[8] = { 0 };	/* PM1a_STS(2) PM1a_EN(2) PM1a_CNT(2) pad */

	memcpy(&regs[2], &p->pm1_enable, 2);
	memcpy(&regs[4], &p->pm1_control, 2);
	memset(data, 0, len);
	if (off < sizeof(regs))
		memcpy(data, &regs[off], off + len <= sizeof(regs) ? len : sizeof(regs) - off);
}

static void pm_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = opaque;
	uint16_t v = 0;

	memcpy(&v, data, len >= 2 ? 2 : len);
	if (off == 2) {
		p->pm1_enable = v;
	} else if (off == 4) {
		p->pm1_control = v & ~PM1_CNT_SLP_EN;
		/* The only sleep state in our DSDT is S5, so any SLP_EN is off. */
		if (v & PM1_CNT_SLP_EN)
			p->stop(p->opaque, 0, "ACPI power off");
	}
}

static void reset_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)len;
	if (off == 0 && (v & RST_CNT_RESET))
		p->stop(p->opaque, 0, "reset (port 0xcf9)");
}

static void i8042_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	(void)opaque;
	(void)off;
	/* Status: output buffer empty, input buffer empty: nothing to read. */
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct power *p = opaque;

	(void)len;
	if (off == 0 && *(const uint8_t *)data == I8042_CMD_RESET)
		p->stop(p->opaque, 0, "reset (i8042)");
}

static const struct bus_ops test_exit_ops = { .write = test_exit_write };
static const struct bus_ops pm_ops = { .read = pm_read, .write = pm_write };
static const struct bus_ops reset_ops = { .write = reset_write };
static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

int power_register(struct power *p, struct bus *pio,
		   void (*stop)(void *opaque, int exit_code, const char *why), void *opaque)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->stop = stop;
	p->opaque = opaque;
	ret = bus_register(pio, LAYOUT_TEST_EXIT_PORT, 4, &test_exit_ops, p, "test-exit");
	if (!ret)
		ret = bus_register(pio, LAYOUT_PM_PORT, 8, &pm_ops, p, "acpi-pm");
	if (!ret)
		ret = bus_register(pio, LAYOUT_RESET_PORT, 1, &reset_ops, p, "reset");
	if (!ret)
		ret = bus_register(pio, 0x64, 1, &i8042_ops, p, "i8042");
	return ret;
}

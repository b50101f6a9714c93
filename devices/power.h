/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_POWER_H
#define DEVICES_POWER_H

#include <stdint.h>

#include "devices/bus.h"

/*
 * The ways a guest ends the VM:
 *   - test exit port (LAYOUT_TEST_EXIT_PORT, 0xf4): a write of V stops the
 *     VMM with exit status V & 0xff (guest tests report pass/fail here);
 *   - ACPI PM1a control (LAYOUT_PM_PORT + 4): SLP_EN set = power off;
 *   - reset: 0xcf9 with the reset bit, or 0xfe to the i8042 command port.
 * Power-off and reset both end the VMM with status 0 (no reboot).
 */
struct power {
	void (*stop)(void *opaque, int exit_code, const char *why);
	void *opaque;
	uint16_t pm1_enable;
	uint16_t pm1_control;
};

int power_register(struct power *p, struct bus *pio,
		   void (*stop)(void *opaque, int exit_code, const char *why), void *opaque);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

/*
 * The test guest runtime, in one include. By the time main() runs: long
 * mode, identity-mapped 0..4 TiB (2 MiB pages to 64 GiB, 3-4 GiB uncached;
 * 1 GiB pages above, where big 64-bit BARs go; anything higher on demand
 * with map_phys(), paging.h), .bss
 * zeroed, serial ready, boot_info filled from the PVH start info, IDT
 * loaded with failing defaults, interrupts off. main's return value becomes
 * the exit status; a passing test ends with test_pass(name) instead.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idt.h"
#include "io.h"
#include "ioapic.h"
#include "lapic.h"
#include "msi.h"
#include "paging.h"
#include "pci.h"
#include "pvh.h"
#include "serial.h"
#include "string.h"
#include "test.h"

/* Linker-script symbols: the loaded image including .bss, page tables, stack. */
extern char __image_start[], __image_end[];

int main(void);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdbool.h>

/*
 * One small logging module. Errors and warnings always print; trace lines
 * print only for the categories enabled with --trace. The trace output is
 * meant to teach: it names the ioctl, the register and the decoded value.
 */
enum log_cat {
	LOG_VFIO = 1u << 0,	/* VFIO ioctls, regions, reset */
	LOG_PCI = 1u << 1,	/* config space accesses, BAR placement */
	LOG_IRQ = 1u << 2,	/* GSI routes, irqfds, MSI/MSI-X changes */
	LOG_EXIT = 1u << 3,	/* every vCPU exit */
	LOG_BOOT = 1u << 4,	/* kernel loading, memory layout, ACPI */
	LOG_IOMMU = 1u << 5,	/* DMA map/unmap */
	LOG_KVM = 1u << 6,	/* KVM VM/vCPU setup */
};

extern unsigned int log_enabled;

/* Parses "vfio,pci" or "all"; returns -1 and names the bad word on error. */
int log_parse_categories(const char *list, unsigned int *mask, const char **bad);
const char *log_category_names(void);

static inline bool trace_on(enum log_cat cat)
{
	return (log_enabled & cat) != 0;
}

void log_trace(enum log_cat cat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define trace(cat, ...)                                                        \
	do {                                                                   \
		if (trace_on(cat))                                             \
			log_trace(cat, __VA_ARGS__);                           \
	} while (0)

#endif

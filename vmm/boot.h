/* SPDX-License-Identifier: MIT */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include "vmm/vcpu.h"
#include "vmm/vm.h"

/*
 * Loads cfg->kernel (PVH ELF or bzImage), initrd and command line into
 * guest memory, builds the ACPI tables, and returns how the boot CPU
 * starts. Errors are logged with the file name.
 */
int boot_load(struct vm *vm, const struct vm_config *cfg, struct boot_entry *entry);

/*
 * Before any VM exists: --kernel and --initrd can be read and the kernel is
 * a format we boot. Bad input is reported before the host's state (KVM,
 * VFIO) is looked at, so the user learns about their own mistake first.
 */
int boot_check_files(const struct vm_config *cfg);

#endif

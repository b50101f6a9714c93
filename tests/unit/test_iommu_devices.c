// SPDX-License-Identifier: MIT
/* --device naming, group discovery and viability against a fake sysfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iommu/sysfs.h"
#include "test_iommu_fakesys.h"

TestSuite(iommu_devices, .fini = fakesys_cleanup);

static char why[1024];

Test(iommu_devices, bdf_forms_are_canonicalized)
{
	char out[32];

	cr_assert_eq(iommu_parse_bdf("0000:3e:00.0", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0000:3e:00.0");
	cr_assert_eq(iommu_parse_bdf("3e:00.0", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0000:3e:00.0");
	cr_assert_eq(iommu_parse_bdf("0001:3E:1F.7", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0001:3e:1f.7");
	cr_assert_eq(iommu_parse_bdf("10000:e1:00.0", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "10000:e1:00.0");
}

Test(iommu_devices, bad_bdfs_are_refused)
{
	static const char *const bad[] = {
		"", "3e:00", "3e:20.0", "3e:00.8", "zz:00.0", "0000:3e:00.0x", "3e.00.0",
		"100:00.0", ":3e:00.0", "0000:3e::00.0",
	};
	char out[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(iommu_parse_bdf(bad[i], out, sizeof(out)), -EINVAL, "%s", bad[i]);
}

Test(iommu_devices, argument_kinds)
{
	struct iommu_dev_id id;

	cr_assert_eq(iommu_parse_device("3e:00.0", "/fake", &id, why, sizeof(why)), 0);
	cr_assert_eq(id.kind, IOMMU_DEV_PCI);
	cr_assert_str_eq(id.name, "0000:3e:00.0");
	cr_assert_str_eq(id.path, "/fake/bus/pci/devices/0000:3e:00.0");
	cr_assert_eq(id.group, -1);

	cr_assert_eq(iommu_parse_device("/sys/bus/pci/devices/0000:3e:00.1/", NULL, &id, why,
					sizeof(why)), 0);
	cr_assert_eq(id.kind, IOMMU_DEV_PCI);
	cr_assert_str_eq(id.name, "0000:3e:00.1");
	cr_assert_str_eq(id.path, "/sys/bus/pci/devices/0000:3e:00.1");

	cr_assert_eq(iommu_parse_device("/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
					NULL, &id, why, sizeof(why)), 0);
	cr_assert_eq(id.kind, IOMMU_DEV_MDEV);
	cr_assert_str_eq(id.name, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");

	cr_assert_eq(iommu_parse_device("83B8F4F2-509F-382F-3C1E-E6BFE0FA1001", NULL, &id, why,
					sizeof(why)), 0);
	cr_assert_eq(id.kind, IOMMU_DEV_MDEV);
	cr_assert_str_eq(id.path, "/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");

	cr_assert_eq(iommu_parse_device("gpu0", NULL, &id, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, "gpu0: not a device") == why, "%s", why);
	cr_assert_eq(iommu_parse_device("/sys/class/net/eth0", NULL, &id, why, sizeof(why)),
		     -EINVAL);
	cr_assert(strstr(why, "/sys/class/net/eth0: not a PCI device") == why, "%s", why);
}

static int resolve(const char *arg, struct iommu_dev_id *id)
{
	int ret = iommu_parse_device(arg, fakesys_root(), id, why, sizeof(why));

	return ret ? ret : iommu_resolve_group(id, why, sizeof(why));
}

Test(iommu_devices, resolves_group_from_sysfs)
{
	struct iommu_dev_id id;
	char path[1024];

	fakesys_add_pci("0000:3e:00.0", 7, "vfio-pci", NULL);
	cr_assert_eq(resolve("3e:00.0", &id), 0, "%s", why);
	cr_assert_eq(id.group, 7);

	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:3e:00.0", fakesys_root());
	cr_assert_eq(resolve(path, &id), 0, "%s", why);
	cr_assert_eq(id.group, 7);
	cr_assert_str_eq(id.name, "0000:3e:00.0");
}

Test(iommu_devices, missing_device_names_lspci)
{
	struct iommu_dev_id id;

	fakesys_root();
	cr_assert_eq(resolve("0000:3e:00.0", &id), -ENODEV);
	cr_assert_str_eq(why, "0000:3e:00.0: no such PCI device (see lspci -D)");
	cr_assert_eq(resolve("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", &id), -ENODEV);
	cr_assert(strstr(why, "no such mediated device"), "%s", why);
}

Test(iommu_devices, no_group_means_no_iommu)
{
	struct iommu_dev_id id;

	fakesys_add_pci("0000:3e:00.0", 7, "vfio-pci", NULL);
	fakesys_drop_group_link("0000:3e:00.0");
	cr_assert_eq(resolve("3e:00.0", &id), -ENODEV);
	cr_assert_str_eq(why, "0000:3e:00.0 has no IOMMU group: enable the IOMMU (intel_iommu=on / "
			 "amd_iommu=on) on the host kernel command line");
}

Test(iommu_devices, device_must_be_bound_to_vfio)
{
	struct iommu_dev_id id;

	fakesys_add_pci("0000:3e:00.0", 7, "nvidia", NULL);
	fakesys_add_pci("0000:3f:00.0", 8, NULL, NULL);
	fakesys_add_pci("0000:40:00.0", 9, "nvgrace_gpu_vfio_pci", NULL);
	cr_assert_eq(resolve("3e:00.0", &id), -ENODEV);
	cr_assert(strstr(why, "0000:3e:00.0 is bound to nvidia, not vfio-pci: ") == why, "%s", why);
	cr_assert(strstr(why, "/sys/bus/pci/devices/0000:3e:00.0/driver/unbind"), "%s", why);
	cr_assert_eq(resolve("3f:00.0", &id), -ENODEV);
	cr_assert(strstr(why, "0000:3f:00.0 is not bound to any driver: echo vfio-pci > "
			 "/sys/bus/pci/devices/0000:3f:00.0/driver_override") == why, "%s", why);
	cr_assert_eq(resolve("40:00.0", &id), 0, "variant drivers count as vfio: %s", why);
}

Test(iommu_devices, mdev_resolves_like_pci)
{
	static const char uuid[] = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
	struct iommu_dev_id id;
	char path[1024];

	fakesys_add_pci("0000:3e:00.0", 7, "nvidia", NULL);
	fakesys_add_mdev(uuid, "0000:3e:00.0", 21);
	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s", fakesys_root(), uuid);
	cr_assert_eq(resolve(path, &id), 0, "%s", why);
	cr_assert_eq(id.kind, IOMMU_DEV_MDEV);
	cr_assert_eq(id.group, 21);
	cr_assert_eq(iommu_group_viable(fakesys_root(), 21, why, sizeof(why)), 0, "%s", why);
}

Test(iommu_devices, driver_rules)
{
	cr_assert(iommu_driver_allowed(NULL));
	cr_assert(iommu_driver_allowed("vfio-pci"));
	cr_assert(iommu_driver_allowed("mlx5_vfio_pci"));
	cr_assert(iommu_driver_allowed("pci-stub"));
	cr_assert(iommu_driver_allowed("pcieport"));
	cr_assert_not(iommu_driver_allowed("snd_hda_intel"));
	cr_assert_not(iommu_driver_allowed("nvme"));
}

Test(iommu_devices, viable_group_with_allowed_members)
{
	fakesys_add_pci("0000:3e:00.0", 7, "vfio-pci", NULL);
	fakesys_add_pci("0000:3e:00.1", 7, NULL, "0x040300");
	fakesys_add_pci("0000:3e:00.2", 7, "pci-stub", NULL);
	fakesys_add_pci("0000:00:01.0", 7, "pcieport", "0x060400");
	/* Bridges are allowed whatever drives them (the pre-5.19 rule). */
	fakesys_add_pci("0000:00:1e.0", 7, "shpchp", "0x060401");
	cr_assert_eq(iommu_group_viable(fakesys_root(), 7, why, sizeof(why)), 0, "%s", why);
}

Test(iommu_devices, one_offender_named_with_fix)
{
	fakesys_add_pci("0000:3e:00.0", 7, "vfio-pci", NULL);
	fakesys_add_pci("0000:3e:00.1", 7, "snd_hda_intel", "0x040300");
	cr_assert_eq(iommu_group_viable(fakesys_root(), 7, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "group 7 is not viable: 0000:3e:00.1 is bound to snd_hda_intel; "
			 "bind it to vfio-pci too");
}

Test(iommu_devices, every_offender_listed)
{
	fakesys_add_pci("0000:00:1f.3", 12, "snd_hda_intel", "0x040300");
	fakesys_add_pci("0000:00:1f.0", 12, "lpc_ich", "0x060100");
	fakesys_add_pci("0000:00:1f.2", 12, "ahci", "0x010601");
	cr_assert_eq(iommu_group_viable(fakesys_root(), 12, why, sizeof(why)), -EBUSY);
	cr_assert_str_eq(why, "group 12 is not viable: 0000:00:1f.0 is bound to lpc_ich, "
			 "0000:00:1f.2 is bound to ahci, 0000:00:1f.3 is bound to snd_hda_intel; "
			 "bind them to vfio-pci too");
}

Test(iommu_devices, unknown_group_is_an_error)
{
	fakesys_root();
	cr_assert_eq(iommu_group_viable(fakesys_root(), 99, why, sizeof(why)), -ENOENT);
	cr_assert(strstr(why, "group 99: cannot list"), "%s", why);
}

// SPDX-License-Identifier: MIT
/* Criterion wrappers around the shared fake (see test_vfio_fake.h). */
#include "test_vfio_fake.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static const char *fixtures(void)
{
	const char *dir = getenv("FIXTURES");

	cr_assert_not_null(dir, "FIXTURES is not set");
	return dir;
}

void fake_vfio_init_model(struct fake_vfio *f, const char *model, bool msix_mappable)
{
	cr_assert_eq(fake_vfio_load(f, fixtures(), model, msix_mappable), 0,
		     "cannot load the %s fixture", model);
}

void fake_vfio_init(struct fake_vfio *f, bool msix_mappable)
{
	fake_vfio_init_model(f, "h100", msix_mappable);
}

void fake_pci_init_model(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
			 const char *model, bool msix_mappable)
{
	cr_assert_eq(fake_pci_setup(d, f, h, fixtures(), model, msix_mappable), 0,
		     "the %s fake device did not come up", model);
}

void fake_pci_init(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
		   bool msix_mappable)
{
	fake_pci_init_model(d, f, h, "h100", msix_mappable);
}

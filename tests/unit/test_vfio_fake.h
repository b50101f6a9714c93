/* SPDX-License-Identifier: MIT */
#ifndef TESTS_UNIT_TEST_VFIO_FAKE_H
#define TESTS_UNIT_TEST_VFIO_FAKE_H

/*
 * The unit tests' face of the fake VFIO device and fake host
 * (tests/fake/vfio_fake.h): the loaders read $FIXTURES and fail the test
 * when a fixture is missing or the device does not come up.
 */
#include "tests/fake/vfio_fake.h"

/* Loads $FIXTURES/h100-*. */
void fake_vfio_init(struct fake_vfio *f, bool msix_mappable);
/* The same from $FIXTURES/MODEL-* ("h100", "h200"). */
void fake_vfio_init_model(struct fake_vfio *f, const char *model, bool msix_mappable);

/* A device over the fake, with the fake host. */
void fake_pci_init(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
		   bool msix_mappable);
void fake_pci_init_model(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
			 const char *model, bool msix_mappable);

#endif

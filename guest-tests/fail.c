// SPDX-License-Identifier: MIT
/* Negative control: the runner must report this guest as failing. */
#include "lib/runtime.h"

int main(void)
{
	volatile int one = 1;

	printf("fail: asserting 1 == 2 on purpose\n");
	ASSERT_EQ(one, 2);
	test_pass("fail");
}

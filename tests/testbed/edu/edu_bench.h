/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The interface of edu_bench.ko (tests/testbed/edu/edu_bench.c), shared with
 * tb-edubench: ioctls on /dev/edu_bench that drive QEMU's edu device
 * (1234:11e8) from the kernel, where its interrupt can be timed from the
 * register write that raises it to the handler that takes it.
 */
#ifndef EDU_BENCH_H
#define EDU_BENCH_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define EDU_BENCH_DEV		"/dev/edu_bench"
#define EDU_BENCH_MAX_RAISES	65536	/* per EDU_BENCH_IRQ call */
#define EDU_BENCH_MAX_DMA	4095	/* bytes per transfer: see edu_bench.c */
#define EDU_BENCH_MAX_ROUNDS	64	/* per EDU_BENCH_DMA call */

struct edu_bench_info {
	__u32 ident;		/* out: edu's register 0x00 (0x010000ed) */
	__u32 irq;		/* out: the Linux irq of its MSI vector */
	char bdf[32];		/* out: the PCI function, e.g. 0000:00:03.0 */
};

/*
 * count times: stamp, write 0x60 (raise), busy-wait for the MSI handler
 * (which stamps, reads 0x24 and acks through 0x64). Latencies in ns go to
 * lat_ns (count __u32s) when it is not 0.
 */
struct edu_bench_irq {
	__u32 count;		/* in: 1-EDU_BENCH_MAX_RAISES */
	__u32 timeout_us;	/* in: for one interrupt; 0 means 2000000 */
	__u64 lat_ns;		/* in: user address of count __u32, or 0 */
	__u64 elapsed_ns;	/* out: first raise to the last one handled */
	__u32 done;		/* out: raises handled (count unless it timed out) */
	__u32 extra;		/* out: handler calls with no raise outstanding */
};

/*
 * rounds times: a pattern into a coherent buffer, DMA of len bytes to edu's
 * buffer (0x40000), the host buffer cleared, DMA back, compared. Each
 * transfer waits for edu's DMA interrupt.
 */
struct edu_bench_dma {
	__u32 len;		/* in: 1-EDU_BENCH_MAX_DMA */
	__u32 rounds;		/* in: 1-EDU_BENCH_MAX_ROUNDS */
	__u32 timeout_ms;	/* in: for one transfer; 0 means 2000 */
	__u32 done;		/* out: rounds completed */
	__u64 elapsed_ns;	/* out: for the done rounds */
	__u64 bytes;		/* out: moved, both directions */
	__u32 mismatches;	/* out: bytes that came back different */
	__u32 pad;
};

#define EDU_BENCH_MAGIC		0xed
#define EDU_BENCH_INFO		_IOR(EDU_BENCH_MAGIC, 0, struct edu_bench_info)
#define EDU_BENCH_IRQ		_IOWR(EDU_BENCH_MAGIC, 1, struct edu_bench_irq)
#define EDU_BENCH_DMA		_IOWR(EDU_BENCH_MAGIC, 2, struct edu_bench_dma)

#endif

// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <unistd.h>

#include "devices/serial.h"

static int irq_level = -1, irq_changes;

static void set_irq(void *opaque, int level)
{
	(void)opaque;
	irq_level = level;
	irq_changes++;
}

static struct serial s;
static int pipefd[2];

static void setup(void)
{
	cr_assert_eq(pipe(pipefd), 0);
	irq_level = -1;
	irq_changes = 0;
	serial_init(&s, pipefd[1], set_irq, NULL);
}

static void teardown(void)
{
	close(pipefd[0]);
	close(pipefd[1]);
}

TestSuite(serial, .init = setup, .fini = teardown);

Test(serial, transmit_reaches_output)
{
	char buf[8] = { 0 };

	cr_assert(serial_read_reg(&s, 5) & 0x20, "THR must start empty");
	serial_write_reg(&s, 0, 'h');
	serial_write_reg(&s, 0, 'i');
	cr_assert_eq(read(pipefd[0], buf, 2), 2);
	cr_assert_str_eq(buf, "hi");
	cr_assert(serial_read_reg(&s, 5) & 0x60);
}

Test(serial, divisor_latch_does_not_transmit)
{
	char c;

	serial_write_reg(&s, 3, 0x80);	/* DLAB */
	serial_write_reg(&s, 0, 0x01);
	serial_write_reg(&s, 1, 0x00);
	cr_assert_eq(serial_read_reg(&s, 0), 0x01);
	serial_write_reg(&s, 3, 0x03);
	serial_write_reg(&s, 0, 'x');
	cr_assert_eq(read(pipefd[0], &c, 1), 1);
	cr_assert_eq(c, 'x', "only the byte written with DLAB clear is sent");
}

Test(serial, receive_and_rx_interrupt)
{
	const uint8_t in[] = "ok";

	serial_write_reg(&s, 4, 0x08);	/* OUT2 gates the IRQ */
	serial_write_reg(&s, 1, 0x01);	/* RDI */
	cr_assert_eq(irq_changes, 0);
	cr_assert_eq(serial_receive(&s, in, 2), 2);
	cr_assert_eq(irq_level, 1);
	cr_assert_eq(serial_read_reg(&s, 2) & 0x0f, 0x04);
	cr_assert(serial_read_reg(&s, 5) & 0x01);
	cr_assert_eq(serial_read_reg(&s, 0), 'o');
	cr_assert_eq(serial_read_reg(&s, 0), 'k');
	cr_assert_eq(serial_read_reg(&s, 5) & 0x01, 0);
	cr_assert_eq(irq_level, 0);
}

Test(serial, thre_interrupt_raised_and_acked_by_iir_read)
{
	serial_write_reg(&s, 4, 0x08);
	serial_write_reg(&s, 1, 0x02);	/* enabling THRI while empty raises it */
	cr_assert_eq(irq_level, 1);
	cr_assert_eq(serial_read_reg(&s, 2) & 0x0f, 0x02);
	cr_assert_eq(irq_level, 0);
	cr_assert_eq(serial_read_reg(&s, 2) & 0x0f, 0x01);
	serial_write_reg(&s, 0, 'a');
	cr_assert_eq(irq_level, 1);
}

Test(serial, out2_gates_interrupt)
{
	serial_write_reg(&s, 4, 0x00);
	serial_write_reg(&s, 1, 0x02);
	cr_assert_neq(irq_level, 1);
	serial_write_reg(&s, 4, 0x08);
	cr_assert_eq(irq_level, 1);
}

Test(serial, fifo_and_loopback_as_8250_probes_them)
{
	serial_write_reg(&s, 2, 0x01);
	cr_assert_eq(serial_read_reg(&s, 2) & 0xc0, 0xc0, "16550A FIFO bits");
	serial_write_reg(&s, 7, 0xa5);
	cr_assert_eq(serial_read_reg(&s, 7), 0xa5);
	serial_write_reg(&s, 4, 0x10 | 0x0a);	/* loop + RTS + OUT2 */
	cr_assert_eq(serial_read_reg(&s, 6) & 0xf0, 0x90);
	serial_write_reg(&s, 0, 'L');
	cr_assert_eq(serial_read_reg(&s, 0), 'L', "loopback returns the byte");
}

Test(serial, rx_overrun_drops)
{
	uint8_t buf[SERIAL_FIFO_SIZE + 10] = { 0 };

	cr_assert_eq(serial_receive(&s, buf, sizeof(buf)), SERIAL_FIFO_SIZE);
}

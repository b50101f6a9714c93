// SPDX-License-Identifier: MIT
/*
 * devices/serial.c: register reads and writes (directly and through the PIO
 * bus, every width and offset around the 8 ports) and bytes typed on the
 * console, in any order. A model FIFO says what the receive side must do;
 * the target aborts when
 *  - RBR returns a byte the model does not have next (lost, duplicated or
 *    reordered bytes, an overrun that overwrote instead of dropping),
 *  - serial_receive() accepts more than the FIFO has room for,
 *  - the FIFO's head or count leave their bounds, or LSR.DR disagrees with
 *    the count,
 *  - the interrupt line is not exactly "a cause is pending and enabled, and
 *    OUT2 is set" after any access, or set_irq is called without a change.
 */
#include <fcntl.h>
#include <unistd.h>

#include "devices/serial.h"
#include "tests/fuzz/fuzz_input.h"

#define PORT	SERIAL_COM1_PORT
#define LSR_DR	0x01
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08

static struct serial uart;
static struct bus pio;
static int null_fd = -1;
static int irq_line, irq_calls;

/* The FIFO as the guest must see it. */
static uint8_t fifo[SERIAL_FIFO_SIZE];
static unsigned int fifo_head, fifo_count;

static void set_irq(void *opaque, int level)
{
	(void)opaque;
	FUZZ_CHECK(level == 0 || level == 1, "set_irq(%d)", level);
	FUZZ_CHECK(level != irq_line, "set_irq(%d) without a change", level);
	irq_line = level;
	irq_calls++;
}

static void model_push(uint8_t b)
{
	if (fifo_count == SERIAL_FIFO_SIZE)
		return;
	fifo[(fifo_head + fifo_count) % SERIAL_FIFO_SIZE] = b;
	fifo_count++;
}

static void check_state(void)
{
	const struct serial *s = &uart;
	bool pending = ((s->ier & 0x01) && s->rx_count) || ((s->ier & 0x02) && s->iir_thri);

	FUZZ_CHECK(s->rx_count <= SERIAL_FIFO_SIZE && s->rx_head < SERIAL_FIFO_SIZE,
		   "FIFO head %u count %u", s->rx_head, s->rx_count);
	FUZZ_CHECK(s->rx_count == fifo_count, "FIFO holds %u bytes, want %u", s->rx_count,
		   fifo_count);
	FUZZ_CHECK(!(s->lsr & LSR_DR) == !s->rx_count, "LSR.DR %d with %u bytes queued",
		   s->lsr & LSR_DR, s->rx_count);
	FUZZ_CHECK(irq_line == (pending && (s->mcr & MCR_OUT2)),
		   "IRQ line %d, but IER %#x, %u queued, THRI %d, MCR %#x", irq_line, s->ier,
		   s->rx_count, s->iir_thri, s->mcr);
}

/* Mirrors one register access into the model, before the device sees it. */
static void model_before(unsigned int reg, bool write, uint8_t val)
{
	bool dlab = uart.lcr & LCR_DLAB;

	if (reg == 0 && write && !dlab && (uart.mcr & MCR_LOOP))
		model_push(val);	/* loopback: THR goes straight to RBR */
	if (reg == 2 && write && (val & 0x02))
		fifo_count = 0;	/* FCR: clear the receive FIFO */
}

static void model_after_read(unsigned int reg, bool dlab, uint8_t got)
{
	uint8_t want = 0;

	if (reg != 0 || dlab)
		return;
	if (fifo_count) {
		want = fifo[fifo_head];
		fifo_head = (fifo_head + 1) % SERIAL_FIFO_SIZE;
		fifo_count--;
	}
	FUZZ_CHECK(got == want, "RBR read %#x, want %#x", got, want);
}

static void reg_access(unsigned int reg, bool write, uint8_t val)
{
	bool dlab = uart.lcr & LCR_DLAB;

	model_before(reg, write, val);
	if (write) {
		serial_write_reg(&uart, reg, val);
	} else {
		uint8_t got = serial_read_reg(&uart, reg);

		model_after_read(reg, dlab, got);
	}
	check_state();
}

/* The same through the bus: byte i of a wide access is register off + i. */
static void bus_access(uint16_t port, uint32_t len, bool write, uint64_t val)
{
	uint8_t buf[8];
	bool dlab[8] = { false };

	memcpy(buf, &val, 8);
	if (port < PORT || port >= PORT + 8) {
		/* Not ours: the bus must not dispatch it to the UART. */
		if (write)
			bus_write(&pio, port, buf, len);
		else
			bus_read(&pio, port, buf, len);
		for (uint32_t i = 0; !write && i < len; i++)
			FUZZ_CHECK(buf[i] == 0xff, "read at %#x reached the UART", port);
		check_state();
		return;
	}
	/*
	 * A read of several registers takes them in order; the model follows
	 * register by register, so DLAB is what the previous bytes left.
	 */
	for (uint32_t i = 0; i < len && port - PORT + i < 8; i++) {
		dlab[i] = uart.lcr & LCR_DLAB;
		if (write)
			model_before(port - PORT + i, true, buf[i]);
	}
	if (write) {
		bus_write(&pio, port, buf, len);
	} else {
		bus_read(&pio, port, buf, len);
		for (uint32_t i = 0; i < len; i++) {
			if (port - PORT + i >= 8)
				FUZZ_CHECK(buf[i] == 0xff, "read past the UART's ports: %#x", buf[i]);
			else
				model_after_read(port - PORT + i, dlab[i], buf[i]);
		}
	}
	check_state();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	/* Transmitted bytes really are written, to /dev/null. */
	null_fd = open("/dev/null", O_WRONLY);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int ret;

	serial_init(&uart, null_fd, set_irq, NULL);
	bus_init(&pio, "pio");
	ret = serial_register(&uart, &pio, PORT);
	FUZZ_CHECK(ret == 0, "serial_register: %d", ret);
	irq_line = 0;
	irq_calls = 0;
	fifo_head = fifo_count = 0;
	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);

		switch (op % 5) {
		case 0:
			reg_access((op >> 3) & 7, false, 0);
			break;
		case 1:
			reg_access((op >> 3) & 7, true, fuzz_u8(&in));
			break;
		case 2: {
			/* Console input: up to 80 bytes at once, more than the FIFO holds. */
			uint8_t buf[80];
			unsigned int n = fuzz_u8(&in) % sizeof(buf), room = SERIAL_FIFO_SIZE - fifo_count;
			unsigned int got;

			for (unsigned int i = 0; i < n; i++)
				buf[i] = fuzz_u8(&in);
			got = serial_receive(&uart, buf, n);
			FUZZ_CHECK(got == (n < room ? n : room), "serial_receive took %u of %u, room %u",
				   got, n, room);
			for (unsigned int i = 0; i < got; i++)
				model_push(buf[i]);
			check_state();
			break;
		}
		default: {
			uint16_t port = (uint16_t)(PORT - 4 + fuzz_u8(&in) % 16);
			uint32_t len = 1 + fuzz_u8(&in) % 8;

			bus_access(port, len, op & 0x80, fuzz_u64(&in));
			break;
		}
		}
	}
	bus_destroy(&pio);
	pthread_mutex_destroy(&uart.lock);
	return 0;
}

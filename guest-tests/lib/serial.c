// SPDX-License-Identifier: MIT
#include "serial.h"
#include "io.h"

#define UART_THR	0	/* transmit holding register (DLAB=0) */
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define UART_LCR_8N1	0x03

/*
 * Bounded: an emulated UART that never reports THR empty must not hang the
 * guest, the output is then just lost and the runner sees no PASS line.
 */
#define THRE_SPINS	100000

void serial_init(void)
{
	outb(SERIAL_PORT + UART_IER, 0);	/* polled: no UART interrupts */
	outb(SERIAL_PORT + UART_LCR, UART_LCR_8N1);
	outb(SERIAL_PORT + UART_FCR, 0);
	outb(SERIAL_PORT + UART_MCR, 0x03);	/* DTR | RTS */
}

static void serial_tx(char c)
{
	int i;

	for (i = 0; i < THRE_SPINS; i++) {
		if (inb(SERIAL_PORT + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(SERIAL_PORT + UART_THR, (uint8_t)c);
}

/* Plain '\n': the VMM's stdout is usually a log file, not a raw terminal. */
void serial_putc(char c)
{
	serial_tx(c);
}

void puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

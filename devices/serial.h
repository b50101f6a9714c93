/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_SERIAL_H
#define DEVICES_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define SERIAL_COM1_PORT	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_FIFO_SIZE	64

/*
 * A 16550A UART: enough for Linux's 8250 driver (FIFO detection, loopback
 * test, THRE and RX interrupts) and for polled output from tiny guests.
 * Output goes to out_fd; input bytes are pushed with serial_receive().
 */
struct serial {
	pthread_mutex_t lock;
	int out_fd;
	/* Raises/lowers the interrupt line; level-triggered like ISA on a PIC. */
	void (*set_irq)(void *opaque, int level);
	void *irq_opaque;

	uint8_t ier, iir_thri, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	int irq_level;
};

void serial_init(struct serial *s, int out_fd, void (*set_irq)(void *, int), void *opaque);
int serial_register(struct serial *s, struct bus *pio, uint16_t port);
/* Queue bytes typed on the console; returns how many fit. */
unsigned int serial_receive(struct serial *s, const uint8_t *buf, unsigned int len);

/* Register-level access, also used by the unit tests. */
uint8_t serial_read_reg(struct serial *s, unsigned int reg);
void serial_write_reg(struct serial *s, unsigned int reg, uint8_t val);

#endif

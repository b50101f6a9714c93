// SPDX-License-Identifier: MIT
#include "devices/serial.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial_init(struct serial *s, int out_fd, void (*set_irq)(void *, int), void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->set_irq = set_irq;
	s->irq_opaque = opaque;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->mcr = MCR_OUT2;
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->iir_thri)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Called with the lock held: recompute the line from the pending causes. */
static void serial_update_irq(struct serial *s)
{
	/* On a PC, OUT2 gates the UART's interrupt onto the ISA bus. */
	int level = !(serial_iir(s) & IIR_NO_INT) && (s->mcr & MCR_OUT2);

	if (level != s->irq_level && s->set_irq) {
		s->irq_level = level;
		s->set_irq(s->irq_opaque, level);
	}
}

static void serial_rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count == SERIAL_FIFO_SIZE)
		return;	/* overrun: drop, as hardware would */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = b;
	s->rx_count++;
	s->lsr |= LSR_DR;
}

static void serial_tx(struct serial *s, uint8_t b)
{
	if (s->mcr & MCR_LOOP) {
		serial_rx_push(s, b);
	} else if (s->out_fd >= 0) {
		ssize_t n;

		do
			n = write(s->out_fd, &b, 1);
		while (n < 0 && errno == EINTR);
	}
	/* The byte leaves at once: THR is empty again. */
	s->iir_thri = 1;
}

uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t v = 0xff;

	pthread_mutex_lock(&s->lock);
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
			break;
		}
		v = 0;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
			s->rx_count--;
		}
		if (!s->rx_count)
			s->lsr &= ~LSR_DR;
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = serial_iir(s);
		/* Reading IIR acknowledges a THRE interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->iir_thri = 0;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = s->lsr;
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP) {
			/* Loopback wires the modem outputs back to the inputs. */
			v = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
			    ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
		} else {
			v = s->msr;
		}
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void serial_write_reg(struct serial *s, unsigned int reg, uint8_t val)
{
	pthread_mutex_lock(&s->lock);
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = val;
		else
			serial_tx(s, val);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
		} else {
			/* Enabling THRI while THR is empty raises it at once. */
			if (!(s->ier & IER_THRI) && (val & IER_THRI))
				s->iir_thri = 1;
			s->ier = val & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = val & 0xc9;
		if (val & FCR_CLEAR_RX) {
			s->rx_count = 0;
			s->lsr &= ~LSR_DR;
		}
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned int serial_receive(struct serial *s, const uint8_t *buf, unsigned int len)
{
	unsigned int n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < SERIAL_FIFO_SIZE)
		serial_rx_push(s, buf[n++]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void serial_bus_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	uint8_t *d = data;

	/* Wider accesses read consecutive registers, as on an ISA bus. */
	for (uint32_t i = 0; i < len; i++)
		d[i] = off + i < 8 ? serial_read_reg(opaque, off + i) : 0xff;
}

static void serial_bus_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	const uint8_t *d = data;

	for (uint32_t i = 0; i < len && off + i < 8; i++)
		serial_write_reg(opaque, off + i, d[i]);
}

static const struct bus_ops serial_ops = { .read = serial_bus_read, .write = serial_bus_write };

int serial_register(struct serial *s, struct bus *pio, uint16_t port)
{
	return bus_register(pio, port, 8, &serial_ops, s, "serial");
}

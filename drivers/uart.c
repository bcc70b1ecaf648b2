/* 16550 UART, polled transmit. Every wait is bounded: a missing or stuck
 * UART costs a few microseconds per byte, never a hang. */
#include "drivers/uart.h"
#include "arch/x86/cpu.h"

enum { THR = 0, IER = 1, FCR = 2, IIR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
#define LSR_THRE 0x20
#define LCR_DLAB 0x80

bool uart_init(struct uart *u, uint16_t base)
{
	u->base = base;
	outb(base + SCR, 0x5a);
	if (inb(base + SCR) != 0x5a) {
		u->present = false;
		return false;
	}
	outb(base + IER, 0x00);
	outb(base + LCR, LCR_DLAB);
	outb(base + 0, 1);              /* divisor 1: 115200 baud */
	outb(base + 1, 0);
	outb(base + LCR, 0x03);         /* 8N1 */
	outb(base + FCR, 0x07);         /* FIFO on, cleared */
	outb(base + MCR, 0x03);         /* DTR | RTS, OUT2 off: no IRQ */
	/* IIR[7:6] = 11b: the 16-byte FIFOs of a 16550A are enabled (an 8250/16450
	 * reads 00b and has a one-byte holding register) */
	u->fifo = (inb(base + IIR) & 0xc0) == 0xc0 ? 16 : 1;
	u->present = true;
	return true;
}

void uart_putc(struct uart *u, char c)
{
	if (!u->present)
		return;
	for (unsigned int i = 0; i < 100000; i++)
		if (inb(u->base + LSR) & LSR_THRE)
			break;
	outb(u->base + THR, (uint8_t)c);
}

void uart_write(struct uart *u, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

/* In FIFO mode LSR.THRE (bit 5) is set when the transmit FIFO is empty, so a
 * whole FIFO's worth of bytes can be written at once (16550A data sheet, LSR). */
unsigned uart_tx_room(struct uart *u)
{
	if (!u->present)
		return 0;
	return (inb(u->base + LSR) & LSR_THRE) ? u->fifo : 0;
}

void uart_tx_byte(struct uart *u, char c)
{
	outb(u->base + THR, (uint8_t)c);
}

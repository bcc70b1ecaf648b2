/* 16550 UART, polled transmit. Every wait is bounded: a missing or stuck
 * UART costs a few microseconds per byte, never a hang. */
#include "drivers/uart.h"
#include "arch/x86/cpu.h"

enum { THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
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

uint16_t uart_parse_port(const char *name)
{
	static const struct { const char *n; uint16_t base; } ports[] = {
		{ "com1", UART_COM1 }, { "com2", UART_COM2 },
		{ "com3", UART_COM3 }, { "com4", UART_COM4 },
	};
	for (unsigned int i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		const char *a = name, *b = ports[i].n;
		while (*a && *a == *b)
			a++, b++;
		if (!*a && !*b)
			return ports[i].base;
	}
	if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
		uint32_t v = 0;
		const char *p = name + 2;
		for (int i = 0; *p && i < 5; i++, p++) {
			char c = *p;
			uint32_t d = (c >= '0' && c <= '9') ? (uint32_t)(c - '0') :
				     (c >= 'a' && c <= 'f') ? (uint32_t)(c - 'a' + 10) :
				     (c >= 'A' && c <= 'F') ? (uint32_t)(c - 'A' + 10) : 0x100;
			if (d > 15)
				return 0;
			v = v * 16 + d;
		}
		if (*p || v == 0 || v > 0xfff8)
			return 0;
		return (uint16_t)v;
	}
	return 0;
}

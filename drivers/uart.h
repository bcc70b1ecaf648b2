/* 16550 UART (polled, transmit only) for hvmon's console. */
#ifndef HVMON_DRIVERS_UART_H
#define HVMON_DRIVERS_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1 0x3f8
#define UART_COM2 0x2f8
#define UART_COM3 0x3e8
#define UART_COM4 0x2e8
#define UART_NR_PORTS 8          /* I/O ports a 16550 decodes from its base */

struct uart {
	uint16_t base;
	bool present;
	uint8_t fifo;            /* transmit FIFO depth: 16 on a 16550A (FIFO found at init), else 1 */
};

/* 115200 8N1, FIFO on, interrupts off. Returns false (and marks the UART
 * absent) when the scratch register does not hold a value: no UART there. */
bool uart_init(struct uart *u, uint16_t base);
void uart_putc(struct uart *u, char c);
void uart_write(struct uart *u, const char *s, size_t n);
/* Bytes the transmitter takes now without any wait: the FIFO depth when LSR.THRE
 * says the transmit FIFO is empty, else 0 (one LSR read, no spin). */
unsigned uart_tx_room(struct uart *u);
/* Write one byte to THR without checking: only after uart_tx_room() said so. */
void uart_tx_byte(struct uart *u, char c);

/* "com1".."com4" or a hex port "0x3f8" -> base; 0 if not recognised. */

#endif

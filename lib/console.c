/* hvmon console: formatting by newlib, output to the chosen 16550. */
#include <stdio.h>
#include "lib/console.h"
#include "lib/stop.h"
#include "drivers/uart.h"
#include "arch/x86/cpu.h"

static struct {
	struct uart uart;
	unsigned int level;
	int ready;
	volatile int lock;
} con = { .level = HV_LOG_INFO };

static void con_lock(void)
{
	for (unsigned long i = 0; i < 100000000UL; i++)   /* bounded: never deadlock the console */
		if (!__atomic_exchange_n(&con.lock, 1, __ATOMIC_ACQUIRE))
			return;
		else
			cpu_relax();
}

static void con_unlock(void)
{
	__atomic_store_n(&con.lock, 0, __ATOMIC_RELEASE);
}

int console_init(uint16_t port, unsigned int log_level)
{
	con.level = log_level;
	if (!port) {
		con.ready = 0;
		return 0;
	}
	if (!uart_init(&con.uart, port))
		return -1;
	con.ready = 1;
	return 0;
}

uint16_t console_port(void)
{
	return con.ready ? con.uart.base : 0;
}

void console_write(const char *s, size_t n)
{
	if (con.ready) {
		uart_write(&con.uart, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++)     /* early / no console: Bochs debug port */
		outb(0xe9, (uint8_t)s[i]);
}

int hv_vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return n;
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	con_lock();
	console_write(buf, len);
	con_unlock();
	return n;
}

int hv_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = hv_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void hv_log(unsigned int level, const char *fmt, ...)
{
	static const char *const tag[] = { "ERROR: ", "WARN: ", "", "debug: " };
	if (level > con.level)
		return;
	char buf[512];
	int pre = snprintf(buf, sizeof(buf), "hvmon: %s", tag[level & 3]);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + pre, sizeof(buf) - (size_t)pre, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)pre + (size_t)n;
	if (len > sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	con_lock();
	console_write(buf, len);
	con_unlock();
}

void hv_panic(const char *fmt, ...)
{
	va_list ap;
	hv_printf("\nhvmon: PANIC: ");
	va_start(ap, fmt);
	hv_vprintf(fmt, ap);
	va_end(ap);
	hv_printf("\n");
	hv_stop(HV_STOP_PANIC, NULL, "hvmon panic");
}

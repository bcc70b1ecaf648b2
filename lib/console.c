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

/* Event-line queues: [0] bulk (every echoed event), [1] priority (rare alarms:
 * they must not wait behind a backlog of process events). */
struct evq {
	char *buf;
	size_t mask;             /* size - 1 (size a power of two) */
	uint64_t head, tail;     /* bytes queued / sent since boot */
};
static struct evq evq[2];
static int evq_cur = -1;         /* queue whose line is partly in the UART, -1: none */

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

static void evq_out(char c, bool wait)
{
	if (!con.ready)
		outb(0xe9, (uint8_t)c);
	else if (wait)
		uart_putc(&con.uart, c);
	else
		uart_tx_byte(&con.uart, c);
}

static bool q_empty(const struct evq *q)
{
	return q->head == q->tail;
}

/* The queue to send from: the one whose line is in flight, else priority first. */
static struct evq *q_next(void)
{
	if (evq_cur >= 0)
		return &evq[evq_cur];
	if (!q_empty(&evq[1])) {
		evq_cur = 1;
		return &evq[1];
	}
	if (!q_empty(&evq[0])) {
		evq_cur = 0;
		return &evq[0];
	}
	return NULL;
}

/* Send one byte of the current line; false when there is nothing to send. */
static bool evq_send(bool wait)
{
	struct evq *q = q_next();
	if (!q || q_empty(q)) {
		evq_cur = -1;
		return false;
	}
	char c = q->buf[q->tail++ & q->mask];
	evq_out(c, wait);
	if (c == '\n')
		evq_cur = -1;
	return true;
}

/* A log line must not land inside an event line: finish the one in flight. */
static void evq_finish_line(void)
{
	while (evq_cur >= 0 && evq_send(true))
		;
}

void console_evq_init(void *buf, size_t size, bool prio)
{
	if (!buf || !size || (size & (size - 1)))
		return;
	struct evq *q = &evq[prio];
	q->buf = buf;
	q->mask = size - 1;
	q->head = q->tail = 0;
}

size_t console_evq_room(bool prio)
{
	const struct evq *q = &evq[prio];
	return q->buf ? q->mask + 1 - (size_t)(q->head - q->tail) : 0;
}

bool console_evq_pending(void)
{
	return !q_empty(&evq[0]) || !q_empty(&evq[1]);
}

bool console_evq_put(const char *s, size_t n, bool prio)
{
	struct evq *q = &evq[prio];
	size_t need = n;
	for (size_t i = 0; i < n; i++)
		need += s[i] == '\n';
	if (need > console_evq_room(prio))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			q->buf[q->head++ & q->mask] = '\r';
		q->buf[q->head++ & q->mask] = s[i];
	}
	return true;
}

void console_evq_pump(void)
{
	if (!console_evq_pending() || __atomic_exchange_n(&con.lock, 1, __ATOMIC_ACQUIRE))
		return;
	/* without a UART the bytes go to the Bochs debug port, which never waits */
	uint64_t room = con.ready ? uart_tx_room(&con.uart) : ~0ULL;
	while (room-- && evq_send(false))
		;
	con_unlock();
}

void console_evq_flush(void)
{
	con_lock();
	while (evq_send(true))
		;
	con_unlock();
}

void console_write(const char *s, size_t n)
{
	evq_finish_line();
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

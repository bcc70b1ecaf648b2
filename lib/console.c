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
/* Producers of queued lines: the event drain (one CPU at a time) and, since the
 * monitors' report lines are queued too (hv_log_queued), any CPU in an exit: they
 * take this lock; the UART side (con.lock) only moves tail. */
static volatile int evq_put_lock;
static uint64_t log_queued, log_skipped;   /* hv_log_queued lines (under evq_put_lock) */

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
	/* head is published once per whole line (console_evq_put): a line is never seen in part */
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == q->tail;
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
	return q->buf ? q->mask + 1 - (size_t)(q->head - __atomic_load_n(&q->tail, __ATOMIC_RELAXED)) : 0;
}

bool console_evq_pending(void)
{
	return !q_empty(&evq[0]) || !q_empty(&evq[1]);
}

static bool put_lock(void)
{
	for (unsigned long i = 0; i < 100000000UL; i++)   /* bounded, as con_lock */
		if (!__atomic_exchange_n(&evq_put_lock, 1, __ATOMIC_ACQUIRE))
			return true;
		else
			cpu_relax();
	return false;
}

static void put_unlock(void)
{
	__atomic_store_n(&evq_put_lock, 0, __ATOMIC_RELEASE);
}

/* Under evq_put_lock. The bytes go in first, then head moves once (release): the
 * UART side never sees half a line, so a log line never lands inside one. */
static bool evq_put_locked(const char *s, size_t n, bool prio)
{
	struct evq *q = &evq[prio];
	size_t need = n;
	for (size_t i = 0; i < n; i++)
		need += s[i] == '\n';
	if (!q->buf || need > console_evq_room(prio))
		return false;
	uint64_t h = q->head;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			q->buf[h++ & q->mask] = '\r';
		q->buf[h++ & q->mask] = s[i];
	}
	__atomic_store_n(&q->head, h, __ATOMIC_RELEASE);
	return true;
}

bool console_evq_put(const char *s, size_t n, bool prio)
{
	if (!put_lock())
		return false;
	bool ok = evq_put_locked(s, n, prio);
	put_unlock();
	return ok;
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

/* "hvmon: TAG" + the message into buf; the length (without NUL), or -1. */
static int log_format(char *buf, size_t size, unsigned int level, const char *fmt, va_list ap)
{
	static const char *const tag[] = { "ERROR: ", "WARN: ", "", "debug: " };
	int pre = snprintf(buf, size, "hvmon: %s", tag[level & 3]);
	int n = vsnprintf(buf + pre, size - (size_t)pre, fmt, ap);
	if (n < 0)
		return -1;
	size_t len = (size_t)pre + (size_t)n;
	return (int)(len > size - 1 ? size - 1 : len);
}

void hv_log(unsigned int level, const char *fmt, ...)
{
	if (level > con.level)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int len = log_format(buf, sizeof(buf), level, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	con_lock();
	console_write(buf, (size_t)len);
	con_unlock();
}

void hv_log_queued(unsigned int level, const char *fmt, ...)
{
	if (level > con.level)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int len = log_format(buf, sizeof(buf), level, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (len && buf[len - 1] != '\n') {   /* a queued line is whole: a cut one gets its end */
		if (len < (int)sizeof(buf) - 1)
			len++;
		buf[len - 1] = '\n';
	}
	if (!evq[1].buf) {                    /* no queue yet (early boot): as hv_log */
		con_lock();
		console_write(buf, (size_t)len);
		con_unlock();
		return;
	}
	if (!put_lock())
		return;
	if (evq_put_locked(buf, (size_t)len, true))
		log_queued++;
	else
		log_skipped++;                /* the queue is full: counted, never waited for */
	put_unlock();
}

void console_log_queued_stats(uint64_t *queued, uint64_t *skipped)
{
	*queued = __atomic_load_n(&log_queued, __ATOMIC_RELAXED);
	*skipped = __atomic_load_n(&log_skipped, __ATOMIC_RELAXED);
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

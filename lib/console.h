/*
 * hvmon's console: one 16550 chosen by console= (or none), printf through
 * newlib's vsnprintf, log levels from log=. Before console_init() output goes
 * to the Bochs debug port 0xE9 only.
 */
#ifndef HVMON_LIB_CONSOLE_H
#define HVMON_LIB_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* log= levels (docs/OPTIONS.md); the option parser stores one of these. */
enum hv_log_level { HV_LOG_ERROR = 0, HV_LOG_WARN = 1, HV_LOG_INFO = 2, HV_LOG_DEBUG = 3 };


/* port = 16550 base, 0 = no console. Returns 0, or -1 when no UART answers there. */
int console_init(uint16_t port, unsigned int log_level);
uint16_t console_port(void);           /* 0 when none */
void console_write(const char *s, size_t n);

/*
 * Event lines (events/ring1.c) go through a byte queue that never waits: the
 * producer puts whole lines or nothing, console_evq_pump() hands the UART only
 * what its transmit FIFO takes right now. hvmon's own log lines (console_write,
 * hv_printf, hv_log) keep priority: they first finish the event line the UART is
 * in the middle of (so lines never interleave), then go out ahead of the queue.
 */
/* Two queues: the bulk one (@prio false) and a priority one for rare alarm
 * lines, sent first (a line in flight is always finished first).
 * @buf: @size bytes (a power of two), owned by the console from now on. */
void console_evq_init(void *buf, size_t size, bool prio);
/* Bytes free in that queue (0 when there is none). */
size_t console_evq_room(bool prio);
/* Queue one line (every '\n' becomes "\r\n"). false, nothing queued, when it does not fit. */
bool console_evq_put(const char *s, size_t n, bool prio);
/* true while queued bytes wait for the UART */
bool console_evq_pending(void);
/* Non-blocking: one LSR read, then at most one FIFO's worth of bytes. */
void console_evq_pump(void);
/* Blocking (bounded by the queue size): everything queued, e.g. at power-off. */
void console_evq_flush(void);

int hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hv_vprintf(const char *fmt, va_list ap);
void hv_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A log line from a monitor's report path (an exit, a probe hit, a tick): formatted
 * now (same text as hv_log), then queued in the priority event-line queue and sent
 * by the console pump as the UART takes it — never waited for in ring -1 (a line
 * of ~200 bytes is ~17 ms at 115,200 baud, which the guest would wait). Ordered
 * with the alarm events' lines; hvmon's own hv_log lines may overtake it. Before
 * the queue exists it is hv_log; when the queue is full the line is skipped and
 * counted (console_log_queued_stats; the event itself is in the event ring).
 */
void hv_log_queued(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void console_log_queued_stats(uint64_t *queued, uint64_t *skipped);
#define pr_warn_queued(...)  hv_log_queued(HV_LOG_WARN, __VA_ARGS__)
#define pr_info_queued(...)  hv_log_queued(HV_LOG_INFO, __VA_ARGS__)

#define pr_err(...)   hv_log(HV_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  hv_log(HV_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  hv_log(HV_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) hv_log(HV_LOG_DEBUG, __VA_ARGS__)

/* Print, then end the run: hv_stop(HV_STOP_PANIC) (lib/stop.h). */
void hv_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

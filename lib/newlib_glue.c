/*
 * newlib system-call layer for ring -1: write -> hvmon's console,
 * sbrk -> hvmon's heap, everything else fails cleanly; _exit halts.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "lib/console.h"
#include "lib/heap.h"
#include "lib/stop.h"
#include "arch/x86/cpu.h"

#undef errno
extern int errno;

int _write(int fd, const void *buf, size_t n)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, n);
	return (int)n;
}

void *_sbrk(ptrdiff_t incr)
{
	void *p = heap_sbrk(incr);
	if (p == (void *)-1)
		errno = ENOMEM;
	return p;
}

int _read(int fd, void *buf, size_t n) { errno = EBADF; return -1; }
int _close(int fd) { errno = EBADF; return -1; }
off_t _lseek(int fd, off_t off, int whence) { errno = ESPIPE; return -1; }
int _isatty(int fd) { return fd <= 2; }
int _getpid(void) { return 1; }
int _kill(int pid, int sig) { errno = EINVAL; return -1; }
int _open(const char *path, int flags, int mode) { errno = ENOENT; return -1; }

int _fstat(int fd, struct stat *st)
{
	st->st_mode = S_IFCHR;
	return 0;
}

void _exit(int code)
{
	hv_printf("\nhvmon: _exit(%d) called in ring -1\n", code);
	hv_stop(HV_STOP_PANIC, NULL, "_exit in ring -1");
}

/* newlib's abort() ends in _exit via raise; keep a direct one for assert(). */
void __assert_func(const char *file, int line, const char *func, const char *expr)
{
	hv_panic("assertion \"%s\" failed: %s:%d (%s)", expr, file, line, func ? func : "?");
}

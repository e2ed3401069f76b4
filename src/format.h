/*
 * format.h -- the library's snprintf (format.c): text into a caller's
 * buffer, no output, no state.  struct vmm_msg and its vmm_msg_* appenders
 * (vmm.h) are built on it.
 */
#ifndef VMM_FORMAT_H
#define VMM_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Like vsnprintf for the subset %s %c %d %i %u %x %p %% with the length
 * modifiers l, ll and z: writes at most size - 1 characters and a
 * terminating NUL (nothing when size is 0).  Returns the length written,
 * not the length the whole text would have.
 */
size_t vmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) size_t
vmm_snprintf(char *buf, size_t size, const char *fmt, ...);

#endif

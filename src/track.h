/*
 * track.h -- the annotation contract between the allocator and dynamic
 * analysis tools (valgrind).  Every macro is a no-op unless a backend is
 * compiled in; the valgrind backend belongs to tools/valgrind's issue.
 *
 * Contract (sizes are the sizes the program asked for):
 *   VMM_TRACK_MALLOC(p, size, zeroed)  a block was handed out
 *   VMM_TRACK_FREE(p)                  a block was given back
 *   VMM_TRACK_RESIZE(p, old, new)      a block changed size in place
 *   VMM_TRACK_USABLE(p, size)          the program learnt the usable size
 *   VMM_TRACK_POOL(base, size)         the pool was created
 */
#ifndef VMM_TRACK_H
#define VMM_TRACK_H 1

#define VMM_TRACK_MALLOC(p, size, zeroed) ((void)(p), (void)(size), (void)(zeroed))
#define VMM_TRACK_FREE(p) ((void)(p))
#define VMM_TRACK_RESIZE(p, old_size, new_size) \
	((void)(p), (void)(old_size), (void)(new_size))
#define VMM_TRACK_USABLE(p, size) ((void)(p), (void)(size))
#define VMM_TRACK_POOL(base, size) ((void)(base), (void)(size))

#endif /* VMM_TRACK_H */

# engine.cmake -- what a program's environment may not do to the private
# engine (MALLOC_CONF, /etc/malloc.conf), and what its idle threads'
# caches may hold back from the pool.

# ---- MALLOC_CONF is the system jemalloc's: the library ignores it ----
vmm_test_program(vmmtest-habits-malloc-conf malloc_conf.c)
foreach(cell "invalid-pair=lg_chunk:21" "stats=stats_print:true"
    "junk=junk:true" "abort=abort_conf:true,lg_chunk:21"
    "garbage=no_such_option:1,,:::" "all=junk:true,zero:false,tcache:false,stats_print:true,narenas:1,retain:false")
  string(REGEX REPLACE "=.*" "" name "${cell}")
  string(REGEX REPLACE "^[^=]*=" "" conf "${cell}")
  vmm_habit_test(malloc_conf.${name} vmmtest-habits-malloc-conf SIZE 64M
    ARGS "${conf}")
endforeach()
# /etc/malloc.conf too (a symlink on an overlay in a mount namespace)
vmm_habit_test(malloc_conf.etc vmmtest-habits-malloc-conf SIZE 64M
  ARGS --etc "abort_conf:true,lg_chunk:21,junk:true,stats_print:true")
# the private archive asks libc for no environment variable and no link:
# secure_getenv and readlink are renamed to the library's own answers
add_test(NAME habits.malloc_conf.archive COMMAND sh -c
  "! ${CMAKE_NM} \"$1\" | grep -Ew 'U (secure_getenv|getenv|readlink|readlinkat)'"
  sh "${VMM_JEMALLOC_ARCHIVE}")
set_tests_properties(habits.malloc_conf.archive PROPERTIES LABELS habits)

# ---- idle threads' caches: what they may hold back from the pool ----
vmm_test_program(vmmtest-habits-tcache-idle tcache_idle.c)
vmm_habit_test(tcache.idle vmmtest-habits-tcache-idle SIZE 14M)
foreach(mode 1 2)
  vmm_habit_test(tcache.idle.fork${mode} vmmtest-habits-tcache-idle SIZE 14M
    ENV VMMALLOC_FORK=${mode} ARGS fork)
endforeach()
vmm_test_program(vmmtest-habits-tcache-worst tcache_worst.c)
foreach(size 14M 64M)
  vmm_habit_test(tcache.worst.${size} vmmtest-habits-tcache-worst
    SIZE ${size} ARGS 8)
endforeach()
vmm_habit_test(tcache.worst.one.14M vmmtest-habits-tcache-worst SIZE 14M
  ARGS 1)
# the richest cache, from 1.6 GiB: every class up to 64 KiB, 20 blocks each
vmm_habit_test(tcache.worst.one.2G vmmtest-habits-tcache-worst SIZE 2G
  ARGS 1)

# ---- threads writing their own small blocks: no cache line in common ----
vmm_test_program(vmmtest-habits-thread-lines thread_lines.c)
vmm_habit_test(threads.own_lines vmmtest-habits-thread-lines SIZE 64M)

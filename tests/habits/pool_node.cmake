# (after pool.cmake, which defines the program: topics are included sorted)
# a pool on NUMA node 0 (VMMALLOC_POOL_NODE): the program takes the memfd's
# descriptor away (dup2 over it, closefrom, close); commits then go through
# the bound mapping (MADV_POPULATE_WRITE), mode 1 gives the child a memfd
# copy, mode 2 copies as always -- as root and as nobody
foreach(how dup2 closefrom closed)
  foreach(mode 1 2)
    vmm_habit_test(fd.${how}.node.mode${mode} vmmtest-habit-fd_takeover
      SIZE 32M NODE 0 ENV VMMALLOC_FORK=${mode} ARGS ${how} TIMEOUT 120
      UNPRIVILEGED)
  endforeach()
endforeach()

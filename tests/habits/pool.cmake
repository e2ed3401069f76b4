# descriptors, environment, working directory and resource limits: what the
# pool file's life must survive (issue 12, items 1, 2 and 7)
foreach(prog fd_takeover env_rewrite chdir_rel ulimit_fsize)
  vmm_test_program(vmmtest-habit-${prog} ${prog}.c)
endforeach()

foreach(how dup2 closefrom closed)
  foreach(mode 0 1 2 3)
    vmm_habit_test(fd.${how}.mode${mode} vmmtest-habit-fd_takeover
      SIZE 32M ENV VMMALLOC_FORK=${mode} ARGS ${how} TIMEOUT 120 UNPRIVILEGED)
  endforeach()
endforeach()
foreach(mode 2 3)
  vmm_habit_test(env-rewrite.mode${mode} vmmtest-habit-env_rewrite
    ENV VMMALLOC_FORK=${mode} UNPRIVILEGED)
  vmm_habit_test(chdir.mode${mode} vmmtest-habit-chdir_rel
    ENV VMMALLOC_FORK=${mode} UNPRIVILEGED)
endforeach()
vmm_habit_test(ulimit-fsize vmmtest-habit-ulimit_fsize SIZE 64M UNPRIVILEGED)

# tests/habits/mutants.cmake -- cases that tests/mutants/ showed missing:
# each kills a mutant (a deliberate breakage of src/) that every other test
# let survive.  See tests/mutants/README.md.

vmm_test_program(vmmtest-mut-small-aligned mut_small_aligned.c)
vmm_habit_test(mut_small_aligned vmmtest-mut-small-aligned SIZE 16M)

vmm_test_program(vmmtest-mut-memalign-round mut_memalign_round.c)
vmm_habit_test(mut_memalign_round vmmtest-mut-memalign-round SIZE 16M)

vmm_test_program(vmmtest-mut-retry-reclaim mut_retry_reclaim.c)
vmm_habit_test(mut_retry_reclaim vmmtest-mut-retry-reclaim SIZE 14M)

vmm_test_program(vmmtest-mut-foreign-free mut_foreign_free.c)
vmm_habit_test(mut_foreign_free vmmtest-mut-foreign-free SIZE 16M)

vmm_test_program(vmmtest-mut-mallocx-zero mut_mallocx_zero.c)
vmm_habit_test(mut_mallocx_zero vmmtest-mut-mallocx-zero SIZE 16M)

vmm_test_program(vmmtest-mut-prealloc-backed mut_prealloc_backed.c)
vmm_habit_test(mut_prealloc_backed vmmtest-mut-prealloc-backed SIZE 16M
  ENV VMMALLOC_POOL_PREALLOC=1)

vmm_test_program(vmmtest-mut-fork1-punch mut_fork1_punch.c)
vmm_habit_test(mut_fork1_punch vmmtest-mut-fork1-punch SIZE 32M
  ENV VMMALLOC_FORK=1)

vmm_test_program(vmmtest-mut-calloc-wrap mut_calloc_wrap.c)
vmm_habit_test(mut_calloc_wrap vmmtest-mut-calloc-wrap SIZE 16M)
# the same under memcheck (exits 77 without valgrind)
vmm_preloaded_test(habits.mut_calloc_wrap.memcheck
  ${PROJECT_SOURCE_DIR}/tools/valgrind/vmm-valgrind LABELS habits valgrind
  SIZE 16M TIMEOUT 300 ARGS -t memcheck -l $<TARGET_FILE:vmmalloc> -s 0
  -- $<TARGET_FILE:vmmtest-mut-calloc-wrap>)

# valgrind exits 99 when memcheck reported an error: here it must
vmm_test_program(vmmtest-mut-vg-overrun-far mut_vg_overrun_far.c)
vmm_preloaded_test(habits.mut_vg_overrun_far.memcheck
  ${PROJECT_SOURCE_DIR}/tools/valgrind/vmm-valgrind LABELS habits valgrind
  SIZE 16M TIMEOUT 300 ARGS -t memcheck -l $<TARGET_FILE:vmmalloc> -s 99
  -- $<TARGET_FILE:vmmtest-mut-vg-overrun-far>)

vmm_test_program(vmmtest-mut-fork2-holes mut_fork2_holes.c)
vmm_habit_test(mut_fork2_holes vmmtest-mut-fork2-holes SIZE 32M
  ENV VMMALLOC_FORK=2)

# the debug variant's trace output (vmm_habit_test runs the release one)
vmm_test_program(vmmtest-mut-log-fd-reuse mut_log_fd_reuse.c)
vmm_preloaded_test(habits.mut_log_fd_reuse vmmtest-mut-log-fd-reuse
  LABELS habits LIB vmmalloc_debug SIZE 16M ENV VMMALLOC_LOG_LEVEL=4)

vmm_test_program(vmmtest-mut-thread-keys mut_thread_keys.c)
vmm_habit_test(mut_thread_keys vmmtest-mut-thread-keys SIZE 16M)

vmm_test_program(vmmtest-mut-vg-uaf-reuse mut_vg_uaf_reuse.c)
vmm_preloaded_test(habits.mut_vg_uaf_reuse.memcheck
  ${PROJECT_SOURCE_DIR}/tools/valgrind/vmm-valgrind LABELS habits valgrind
  SIZE 16M TIMEOUT 300 ARGS -t memcheck -l $<TARGET_FILE:vmmalloc> -s 99
  -- $<TARGET_FILE:vmmtest-mut-vg-uaf-reuse>)

vmm_test_program(vmmtest-mut-fd-high mut_fd_high.c)
vmm_habit_test(mut_fd_high vmmtest-mut-fd-high SIZE 16M UNPRIVILEGED)

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

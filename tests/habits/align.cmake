# align.cmake -- alignment, thread-specific data and foreign pointers: what
# programs ask of memalign & co, of many pthread keys, and of fork.
vmm_test_program(vmmhabit-align align.c)
vmm_habit_test(align vmmhabit-align)
vmm_habit_test(align.14M vmmhabit-align SIZE 14M)
vmm_test_program(vmmhabit-tsd tsd.c)
vmm_habit_test(tsd vmmhabit-tsd SIZE 14M TIMEOUT 300)

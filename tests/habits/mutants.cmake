# tests/habits/mutants.cmake -- cases that tests/mutants/ showed missing:
# each kills a mutant (a deliberate breakage of src/) that every other test
# let survive.  See tests/mutants/README.md.

vmm_test_program(vmmtest-mut-small-aligned mut_small_aligned.c)
vmm_habit_test(mut_small_aligned vmmtest-mut-small-aligned SIZE 16M)

vmm_test_program(vmmtest-mut-memalign-round mut_memalign_round.c)
vmm_habit_test(mut_memalign_round vmmtest-mut-memalign-round SIZE 16M)

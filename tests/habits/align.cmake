# align.cmake -- alignment, thread-specific data and foreign pointers: what
# programs ask of memalign & co, of many pthread keys, and of fork.
vmm_test_program(vmmhabit-align align.c)
vmm_habit_test(align vmmhabit-align)
vmm_habit_test(align.14M vmmhabit-align SIZE 14M)
vmm_test_program(vmmhabit-tsd tsd.c)
vmm_habit_test(tsd vmmhabit-tsd SIZE 14M TIMEOUT 300)
add_library(vmmhabit-foreign-lib MODULE foreign_lib.c)
vmm_test_program(vmmhabit-foreign-fork foreign_fork.c)
vmm_habit_test(foreign_fork vmmhabit-foreign-fork
  ARGS $<TARGET_FILE:vmmhabit-foreign-lib> 200 TIMEOUT 600)
vmm_test_program(vmmhabit-foreign-ctor foreign_ctor.c)
vmm_habit_test(foreign_ctor vmmhabit-foreign-ctor
  ARGS $<TARGET_FILE:vmmhabit-foreign-lib> TIMEOUT 60)
vmm_test_program(vmmhabit-foreign-jeapi foreign_jeapi.c)
vmm_habit_test(foreign_jeapi vmmhabit-foreign-jeapi
  ARGS $<TARGET_FILE:vmmtest-deeplib>)

# cmake/VmmTest.cmake -- tests registered from what the test programs list.
#
# A test program with several named cases keeps them in a table in C and
# prints them with `--list`, one per line: the case's name, then optional
# KEY=VALUE words (a ctest property such as TIMEOUT=180, or ARGS=word: one
# more argument for that case).  The functions below register one ctest
# test <prefix>.<case> per line, the way gtest_discover_tests does: a
# POST_BUILD step writes the list next to the program, and a file that
# ctest includes (TEST_INCLUDE_FILES) reads it.  So adding a case is one
# table row in C and nothing here; before the first build the tests of a
# program are one <prefix>.NOT_BUILT test that fails.
#
# vmm_add_test(<prefix> <program> [COMMAND args...] [LIST_COMMAND args...]
#              [LABELS l...] [CASE_LABELS label regex...] [TIMEOUT t]
#              [PROPERTIES name value...])
#   runs COMMAND (default: the program with the case's name) in which the
#   word @CASE@ stands for the case's name.  LIST_COMMAND (default:
#   `<program> --list`) prints the cases, after each build of <program>
#   (a script's cases: a program the script runs).
# vmm_add_matrix(<prefix> <program> [SIZE s] [NODE n] [ARGS a...]
#                [LABELS l...] [CASE_LABELS label regex...] [TIMEOUT t]
#                [PROPERTIES name value...])
#   the cells of a matrix such as VMMALLOC_FORK: a cell named "baseline"
#   runs `<program> --baseline ARGS` without the library; every other cell
#   runs the program preloaded (tests/common/run-preloaded, pool SIZE,
#   default 256M), with VMMALLOC_FORK=N when its name ends in modeN and the
#   pool on NUMA node NODE when it starts with "node."; the cell alone
#   decides VMMALLOC_FORK, MALLOC_CONF and LD_PRELOAD (ENVIRONMENT_MODIFICATION).
# Both: SKIP_RETURN_CODE 77; LABELS default to the prefix's first word;
#   CASE_LABELS adds each label to the cases whose name its regex matches
#   (dax, dax-short, dax-device: the subsets the pmem guests run).
include_guard(GLOBAL)

function(_vmm_discover kind prefix program)
  cmake_parse_arguments(A "" "TIMEOUT;SIZE;NODE" "COMMAND;LIST_COMMAND;LABELS;CASE_LABELS;ARGS;PROPERTIES"
    ${ARGN})
  if(NOT A_LABELS)
    string(REGEX REPLACE "\\..*" "" A_LABELS "${prefix}")
  endif()
  if(NOT A_SIZE)
    set(A_SIZE 256M)
  endif()
  if(NOT A_COMMAND)
    set(A_COMMAND $<TARGET_FILE:${program}> @CASE@)
  endif()
  if(NOT A_LIST_COMMAND)
    set(A_LIST_COMMAND $<TARGET_FILE:${program}> --list)
  endif()
  set(cases "${CMAKE_CURRENT_BINARY_DIR}/${prefix}.cases")
  set(inc "${CMAKE_CURRENT_BINARY_DIR}/${prefix}.tests.cmake")
  add_custom_command(TARGET ${program} POST_BUILD
    COMMAND sh -c "out=$0; \"$@\" >\"$out.new\" && mv \"$out.new\" \"$out\""
      ${cases} ${A_LIST_COMMAND}
    COMMENT "Listing the cases of ${program}" VERBATIM)

  # the properties every case gets, as one set_tests_properties call
  set(props "LABELS \"\${labels}\" SKIP_RETURN_CODE 77")
  # CASE_LABELS label regex ...: the label for the cases the regex matches
  set(case_labels "")
  while(A_CASE_LABELS)
    list(POP_FRONT A_CASE_LABELS label re)
    string(APPEND case_labels "  if(case MATCHES [==[${re}]==])
    list(APPEND labels ${label})
  endif()
")
  endwhile()
  if(A_TIMEOUT)
    string(APPEND props " TIMEOUT ${A_TIMEOUT}")
  endif()
  while(A_PROPERTIES)
    list(POP_FRONT A_PROPERTIES key value)
    string(APPEND props " ${key} [==[${value}]==]")
  endwhile()
  if(kind STREQUAL "matrix")
    set(cmd [=[
  if(case STREQUAL "baseline")
    set(cmd "@PROG@" --baseline ${args})
  else()
    set(opts "")
    if(case MATCHES "^node\\.")
      list(APPEND opts -n @NODE@)
    endif()
    if(case MATCHES "(^|\\.)mode([0-3])$")
      list(APPEND opts -e VMMALLOC_FORK=${CMAKE_MATCH_2})
    endif()
    set(cmd "@RUN@" "@LIB@" -s @SIZE@ ${opts} -- "@PROG@" ${args})
  endif()]=])
    string(REPLACE "@PROG@" "$<TARGET_FILE:${program}>" cmd "${cmd}")
    string(REPLACE "@RUN@" "${VMM_RUN_PRELOADED}" cmd "${cmd}")
    string(REPLACE "@LIB@" "$<TARGET_FILE:vmmalloc>" cmd "${cmd}")
    string(REPLACE "@SIZE@" "${A_SIZE}" cmd "${cmd}")
    string(REPLACE "@NODE@" "${A_NODE}" cmd "${cmd}")
    set(args "${A_ARGS}")
    string(APPEND props " ENVIRONMENT_MODIFICATION [==[VMMALLOC_FORK=unset:;MALLOC_CONF=unset:;LD_PRELOAD=unset:]==]")
  else()
    set(cmd "  string(REPLACE @CASE@ \"\${case}\" cmd [==[${A_COMMAND}]==])
  list(APPEND cmd \${args})")
    set(args "")
  endif()
  file(GENERATE OUTPUT "${inc}" CONTENT "# written by cmake/VmmTest.cmake
if(NOT EXISTS [==[${cases}]==])
  add_test([==[${prefix}.NOT_BUILT]==] /bin/sh -c
    [==[echo \"${program} is not built: no list of its cases yet\" >&2; exit 1]==])
  return()
endif()
file(STRINGS [==[${cases}]==] lines)
foreach(line IN LISTS lines)
  separate_arguments(words UNIX_COMMAND \"\${line}\")
  list(POP_FRONT words case)
  set(args [==[${args}]==])
  set(labels [==[${A_LABELS}]==])
${case_labels}
  set(extra \"\")
  foreach(word IN LISTS words)
    string(FIND \"\${word}\" = eq)
    string(SUBSTRING \"\${word}\" 0 \${eq} key)
    math(EXPR eq \"\${eq} + 1\")
    string(SUBSTRING \"\${word}\" \${eq} -1 value)
    if(key STREQUAL ARGS)
      list(APPEND args \"\${value}\")
    else()
      list(APPEND extra \${key} \"\${value}\")
    endif()
  endforeach()
${cmd}
  set(name \"${prefix}.\${case}\")
  add_test(\"\${name}\" \${cmd})
  set_tests_properties(\"\${name}\" PROPERTIES ${props})
  if(extra)
    set_tests_properties(\"\${name}\" PROPERTIES \${extra})
  endif()
endforeach()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${inc}")
endfunction()

function(vmm_add_test prefix program)
  _vmm_discover(test ${prefix} ${program} ${ARGN})
endfunction()

function(vmm_add_matrix prefix program)
  _vmm_discover(matrix ${prefix} ${program} ${ARGN})
endfunction()

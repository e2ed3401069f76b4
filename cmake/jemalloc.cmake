# jemalloc.cmake -- a private, symbol-renamed copy of Debian's jemalloc.
#
# Takes libjemalloc_pic.a (package libjemalloc-dev, 5.3.x), drops its C++
# member, and renames every public name (and its pthread_atfork,
# pthread_key_create, secure_getenv, readlink, mmap, munmap and
# pthread_mutex_init references) to a vmm_je_ prefix: src/engine_conf.c
# answers secure_getenv and readlink, so that MALLOC_CONF and
# /etc/malloc.conf (the system jemalloc's) never reach the private copy,
# and wraps the last three, so that race detectors are told which mappings
# are jemalloc's metadata and which locks its fork child handler resets.
# Its libm calls (exp, log, round) are renamed the same way and answered
# by src/je_math.c, so that the library does not load libm.
# One jump is then redirected: malloc's inline path serves from the thread
# cache and otherwise jumps to its slow path, a jump the assembler resolved
# (no relocation left to rename).  src/je_miss.S is linked into the same
# section with `ld -r` and cmake/je_patch.c points that jump at it, so that
# the slow path passes through override.c first: the library's malloc is
# jemalloc's own, with no check of ours in front (docs/design-engine.md).
# The build fails if the jump is not found as expected.
# The result is linked into libvmmalloc.so.1 and hidden with --exclude-libs,
# so the library needs only libc (not libm) and exports only its own 11
# names and jemalloc's 7.

find_file(VMM_JEMALLOC_PIC libjemalloc_pic.a
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/lib64 /usr/lib
  NO_DEFAULT_PATH)
find_path(VMM_JEMALLOC_INCLUDE jemalloc/jemalloc.h)
if(NOT VMM_JEMALLOC_PIC OR NOT VMM_JEMALLOC_INCLUDE)
  message(FATAL_ERROR
    "vmmalloc needs jemalloc 5.3's position-independent archive "
    "(libjemalloc_pic.a) and header: apt-get install libjemalloc-dev")
endif()

file(STRINGS "${VMM_JEMALLOC_PIC}" _je_version LIMIT_COUNT 1
  REGEX "^[0-9]+\\.[0-9]+\\.[0-9]+-[0-9]+-g[0-9a-f]+$")
file(STRINGS "${VMM_JEMALLOC_INCLUDE}/jemalloc/jemalloc.h" _je_hdr
  REGEX "#define JEMALLOC_VERSION \"")
if(NOT _je_version MATCHES "^5\\.3\\." OR NOT _je_hdr MATCHES "\"5\\.3\\.")
  message(FATAL_ERROR
    "vmmalloc is built on jemalloc 5.3.x (its extent hooks and "
    "experimental.arenas_create_ext); found archive '${_je_version}' at "
    "${VMM_JEMALLOC_PIC} and header '${_je_hdr}'. Install Debian 12's "
    "libjemalloc-dev 5.3.0.")
endif()
message(STATUS "jemalloc archive: ${VMM_JEMALLOC_PIC} (${_je_version})")

find_program(VMM_OBJCOPY NAMES objcopy REQUIRED)
find_program(VMM_AR NAMES ar REQUIRED)

set(_je_names malloc free calloc realloc posix_memalign aligned_alloc
  memalign valloc malloc_usable_size mallocx rallocx xallocx sallocx dallocx
  sdallocx nallocx mallctl mallctlnametomib mallctlbymib malloc_stats_print
  malloc_conf malloc_conf_2_conf_harder malloc_message pthread_atfork
  pthread_key_create secure_getenv readlink mmap munmap pthread_mutex_init
  exp log round)
set(_je_syms "")
foreach(n IN LISTS _je_names)
  string(APPEND _je_syms "${n} vmm_je_${n}\n")
endforeach()
# malloc's slow path, which src/je_miss.S and override.c call
string(APPEND _je_syms "je_malloc_default vmm_je_malloc_default\n")
set(_je_dir "${CMAKE_BINARY_DIR}/jemalloc")
file(MAKE_DIRECTORY "${_je_dir}")
file(WRITE "${_je_dir}/rename.syms" "${_je_syms}")

# malloc's jump to its slow path, resolved by the assembler, is pointed at
# src/je_miss.S once that is linked into the same section (je_patch.c)
add_executable(vmm_je_patch "${CMAKE_CURRENT_LIST_DIR}/je_patch.c")
set(_je_miss "${CMAKE_CURRENT_SOURCE_DIR}/src/je_miss.S")

set(VMM_JEMALLOC_ARCHIVE "${_je_dir}/libvmm_jemalloc.a")
add_custom_command(OUTPUT "${VMM_JEMALLOC_ARCHIVE}"
  COMMAND ${CMAKE_COMMAND} -E copy "${VMM_JEMALLOC_PIC}" "${_je_dir}/tmp.a"
  COMMAND ${VMM_AR} d "${_je_dir}/tmp.a" jemalloc_cpp.pic.o
  COMMAND ${VMM_OBJCOPY} --redefine-syms=${_je_dir}/rename.syms
    "${_je_dir}/tmp.a" "${_je_dir}/renamed.a"
  COMMAND ${VMM_AR} x "${_je_dir}/renamed.a" jemalloc.pic.o
  COMMAND ${CMAKE_C_COMPILER} -c "${_je_miss}" -o je_miss.o
  COMMAND ${CMAKE_LINKER} -r -o jemalloc_miss.pic.o jemalloc.pic.o je_miss.o
  COMMAND $<TARGET_FILE:vmm_je_patch> jemalloc_miss.pic.o vmm_je_malloc
    vmm_je_malloc_default vmm_je_malloc_missed
  COMMAND ${CMAKE_COMMAND} -E rename jemalloc_miss.pic.o jemalloc.pic.o
  COMMAND ${VMM_AR} r "${_je_dir}/renamed.a" jemalloc.pic.o
  COMMAND ${CMAKE_COMMAND} -E rename "${_je_dir}/renamed.a"
    "${VMM_JEMALLOC_ARCHIVE}"
  COMMAND ${CMAKE_COMMAND} -E remove "${_je_dir}/tmp.a" jemalloc.pic.o
    je_miss.o
  WORKING_DIRECTORY "${_je_dir}"
  DEPENDS "${VMM_JEMALLOC_PIC}" "${CMAKE_CURRENT_LIST_FILE}" "${_je_miss}"
    vmm_je_patch
  COMMENT "Renaming jemalloc's public symbols into a private copy")
add_custom_target(vmm_jemalloc_archive DEPENDS "${VMM_JEMALLOC_ARCHIVE}")
add_library(vmm_jemalloc STATIC IMPORTED GLOBAL)
set_target_properties(vmm_jemalloc PROPERTIES
  IMPORTED_LOCATION "${VMM_JEMALLOC_ARCHIVE}")
add_dependencies(vmm_jemalloc vmm_jemalloc_archive)

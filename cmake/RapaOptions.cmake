# Compiler warnings and sanitizers live on an interface target that our own targets link PRIVATE,
# so third-party code and the global CMAKE_CXX_FLAGS stay untouched.
add_library(rapa_options INTERFACE)
add_library(rapa::options ALIAS rapa_options)

target_compile_options(rapa_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
# g++ 12 at -O2/-O3 reports overlaps in std::string's inlined copies that cannot happen (GCC bug
# 105329). Whether it fires depends on inlining, which moves with unrelated code and even
# with the length of the build's path, so no source-level workaround holds: the check is off there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(rapa_options INTERFACE -Wno-restrict)
endif()
if(RAPA_WERROR)
  target_compile_options(rapa_options INTERFACE -Werror)
endif()

if(RAPA_SANITIZE)
  target_compile_options(rapa_options INTERFACE
    -fsanitize=${RAPA_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(rapa_options INTERFACE -fsanitize=${RAPA_SANITIZE})
endif()

# Library targets link this helper so that the same include root serves every layer:
# headers are included as "support/x.hpp", "parser/y.hpp".
function(rapa_library name)
  add_library(${name} STATIC ${ARGN})
  add_library(rapa::${name} ALIAS ${name})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE rapa::options)
endfunction()

# Every ```cpp block of README.md is a whole program: each is written out as
# readme/block_<line>.cpp (a #line directive points errors at the README), built
# against heed and run by a test named readme_line_<line>, in a scratch folder.
# Runs at configure time; editing README.md reconfigures. A block fenced
# ```cpp fragment is only shown, never built (GitHub still colours it as C++).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/README.md)
file(READ ${PROJECT_SOURCE_DIR}/README.md heed_readme_rest)
set(heed_readme_line 1)
set(heed_readme_dir ${PROJECT_BINARY_DIR}/readme)
while(TRUE)
  string(FIND "${heed_readme_rest}" "\n```cpp\n" start)
  if(start EQUAL -1)
    break()
  endif()
  # Count the lines up to and including the fence: the code starts on the next one.
  string(SUBSTRING "${heed_readme_rest}" 0 ${start} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines n)
  math(EXPR heed_readme_line "${heed_readme_line} + ${n} + 2")
  math(EXPR start "${start} + 8")
  string(SUBSTRING "${heed_readme_rest}" ${start} -1 heed_readme_rest)
  string(FIND "${heed_readme_rest}" "\n```" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "README.md: the ```cpp block at line ${heed_readme_line} is never closed")
  endif()
  string(SUBSTRING "${heed_readme_rest}" 0 ${end} code)
  string(SUBSTRING "${heed_readme_rest}" ${end} -1 heed_readme_rest)

  set(name readme_line_${heed_readme_line})
  set(source ${heed_readme_dir}/block_${heed_readme_line}.cpp)
  # Written only when changed, so an unchanged block is not rebuilt.
  set(text "#line ${heed_readme_line} \"${PROJECT_SOURCE_DIR}/README.md\"\n${code}\n")
  set(old "")
  if(EXISTS ${source})
    file(READ ${source} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${source} "${text}")
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE heed::heed)  # as a learner's program would: no heed flags
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/tests_scratch/${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/tests_scratch/${name})

  # The code ends one line before the closing fence.
  string(REGEX MATCHALL "\n" newlines "${code}")
  list(LENGTH newlines n)
  math(EXPR heed_readme_line "${heed_readme_line} + ${n}")
endwhile()

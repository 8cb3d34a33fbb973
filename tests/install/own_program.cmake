# A learner's own program against an installed heed, exactly as README.md's
# "Your own program" shows it: `cmake --install` into a scratch prefix, the
# README's two files (the ```cpp block that starts `// main.cpp` and the
# ```cmake block that starts `# CMakeLists.txt`) written out, configured with
# find_package(heed), built and run.
#   cmake -DHEED_SOURCE=<repo> -DHEED_BUILD=<build> -DSCRATCH=<dir> -DCXX=<compiler> -P own_program.cmake
cmake_minimum_required(VERSION 3.20)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "own program: `${command}` failed (${rc}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

# The README block fenced ```<lang> whose first line is <first>, into `var`.
function(readme_block lang first var)
  file(READ ${HEED_SOURCE}/README.md readme)
  set(fence "```${lang}\n${first}\n")
  string(FIND "${readme}" "${fence}" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "own program: README.md has no ```${lang} block starting `${first}`")
  endif()
  string(LENGTH "```${lang}\n" skip)
  math(EXPR start "${start} + ${skip}")
  string(SUBSTRING "${readme}" ${start} -1 readme)
  string(FIND "${readme}" "\n```" end)
  string(SUBSTRING "${readme}" 0 ${end} block)
  set(${var} "${block}\n" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH}/src)
run(${CMAKE_COMMAND} --install ${HEED_BUILD} --prefix ${SCRATCH}/prefix)

readme_block(cpp "// main.cpp" main)
readme_block(cmake "# CMakeLists.txt" lists)
file(WRITE ${SCRATCH}/src/main.cpp "${main}")
file(WRITE ${SCRATCH}/src/CMakeLists.txt "${lists}")
string(REGEX MATCH "add_executable\\(([A-Za-z0-9_-]+)" found "${lists}")
if(NOT found)
  message(FATAL_ERROR "own program: README's CMakeLists.txt has no add_executable(<name> ...)")
endif()
set(program ${CMAKE_MATCH_1})

run(${CMAKE_COMMAND} -S ${SCRATCH}/src -B ${SCRATCH}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${SCRATCH}/prefix)
run(${CMAKE_COMMAND} --build ${SCRATCH}/build)
execute_process(COMMAND ${SCRATCH}/build/${program} WORKING_DIRECTORY ${SCRATCH}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "own program: ${program} exited with ${rc}")
endif()

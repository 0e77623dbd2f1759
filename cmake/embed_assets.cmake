# Writes a C++ source holding the bytes of every studio asset (cmake -P):
#   -DOUT=<generated .cpp>  -DROOT=<studio/assets>
# Each file under ROOT, named by its path below ROOT, becomes a byte array and a row of the table that
# studio/assets.hpp's find_asset() searches; its Content-Type comes from its
# extension here, and an extension without one stops the build (so nothing
# is ever served under a guessed type). Run at build time, again whenever an
# asset changes (the custom command in ../CMakeLists.txt depends on them).
cmake_minimum_required(VERSION 3.25)

function(content_type name out)
  string(TOLOWER "${name}" lower)
  set(utf8 "; charset=utf-8")
  if(lower MATCHES "\\.html$")
    set(type "text/html${utf8}")
  elseif(lower MATCHES "\\.m?js$")
    set(type "text/javascript${utf8}")
  elseif(lower MATCHES "\\.css$")
    set(type "text/css${utf8}")
  elseif(lower MATCHES "\\.txt$")
    set(type "text/plain${utf8}")
  elseif(lower MATCHES "\\.json$")
    set(type "application/json")
  elseif(lower MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(lower MATCHES "\\.png$")
    set(type "image/png")
  elseif(lower MATCHES "\\.ico$")
    set(type "image/x-icon")
  elseif(lower MATCHES "\\.woff2$")
    set(type "font/woff2")
  elseif(lower MATCHES "\\.woff$")
    set(type "font/woff")
  elseif(lower MATCHES "\\.ttf$")
    set(type "font/ttf")
  else()
    message(FATAL_ERROR "studio asset '${name}': no Content-Type for its extension "
      "(add one to cmake/embed_assets.cmake)")
  endif()
  set(${out} "${type}" PARENT_SCOPE)
endfunction()

set(arrays "")
set(rows "")
set(index 0)
file(GLOB_RECURSE names RELATIVE "${ROOT}" "${ROOT}/*")
list(SORT names)
foreach(name IN LISTS names)
  set(path "${ROOT}/${name}")
  if(NOT name MATCHES "^[A-Za-z0-9_][A-Za-z0-9_./-]*$" OR name MATCHES "\\.\\.")
    message(FATAL_ERROR "studio asset '${name}' (${path}): a name may hold only letters, digits, '_', '-', '.', '/'")
  endif()
  content_type("${name}" type)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  if(size EQUAL 0)
    set(bytes "0")
  else()
    string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
  endif()
  string(APPEND arrays "// ${name}\nconstexpr unsigned char asset_${index}[] = {\n${bytes}};\n")
  string(APPEND rows "    {\"${name}\", \"${type}\", asset_${index}, ${size}},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(text "// Generated at build time by cmake/embed_assets.cmake from studio/assets/: do not edit.
#include \"dagrad/studio/assets.hpp\"

namespace dagrad::studio {

namespace {
${arrays}
constexpr EmbeddedAsset table[] = {
${rows}    {\"\", \"\", nullptr, 0},  // keeps the array non-empty
};
}  // namespace

std::span<const EmbeddedAsset> embedded_assets() {
  return {table, sizeof(table) / sizeof(table[0]) - 1};
}

}  // namespace dagrad::studio
")
# Rewritten only when the text changes, so an unchanged asset set compiles nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")

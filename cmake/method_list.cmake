# Writes exe/access/v1/methods.h: every rpc of the .proto services, once,
# as the X-macro list EXA_METHOD_LIST(X), so that the service's method
# table and the client library's typed calls are expanded from the .proto
# itself and cannot drift from it.
# Usage: cmake -DPROTO_FILES="a.proto;b.proto" -DOUTPUT=... -P method_list.cmake
#
# X is called as X(Service, service, Method, method, fn, Request, request,
# Response, response): each name in CamelCase and in the snake_case that
# protoc-c gives its descriptor; `fn` names the client call exa_<fn> (Check's
# is authz_check, since exa_check is the hot path's own call).

function(snake out name)
  string(REGEX REPLACE "([a-z0-9])([A-Z])" "\\1_\\2" s "${name}")
  string(TOLOWER "${s}" s)
  set(${out} "${s}" PARENT_SCOPE)
endfunction()

set(rows "")
foreach(path ${PROTO_FILES})
  file(STRINGS ${path} lines)
  set(service "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^service ([A-Za-z0-9]+) {")
      set(service ${CMAKE_MATCH_1})
    elseif(line MATCHES "^}")
      set(service "")
    elseif(service AND line MATCHES
           "^ *rpc ([A-Za-z0-9]+) *\\(([A-Za-z0-9]+)\\) *returns *\\(([A-Za-z0-9]+)\\)")
      set(method ${CMAKE_MATCH_1})
      set(req ${CMAKE_MATCH_2})
      set(resp ${CMAKE_MATCH_3})
      snake(service_s ${service})
      snake(method_s ${method})
      snake(req_s ${req})
      snake(resp_s ${resp})
      set(fn ${method_s})
      if(fn STREQUAL "check")
        set(fn "authz_check")
      endif()
      string(APPEND rows "\tX(${service}, ${service_s}, ${method}, ${method_s}, ${fn}, ${req}, ${req_s}, ${resp}, ${resp_s}) \\\n")
    elseif(service AND line MATCHES "^ *rpc ")
      message(FATAL_ERROR "${path}: cannot read the rpc line: ${line}")
    endif()
  endforeach()
endforeach()
if(rows STREQUAL "")
  message(FATAL_ERROR "no rpc found in ${PROTO_FILES}")
endif()

set(body "/* Generated from the .proto services by cmake/method_list.cmake: every\n")
string(APPEND body " * RPC method of exe.access.v1, once, in .proto order. EXA_METHOD_LIST(X)\n")
string(APPEND body " * calls X(Service, service, Method, method, fn, Request, request,\n")
string(APPEND body " * Response, response) for each (see cmake/method_list.cmake). */\n")
string(APPEND body "#ifndef EXE_ACCESS_V1_METHODS_H\n#define EXE_ACCESS_V1_METHODS_H\n\n")
string(APPEND body "#define EXA_METHOD_LIST(X) \\\n${rows}\n#endif\n")
file(WRITE ${OUTPUT}.tmp "${body}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)

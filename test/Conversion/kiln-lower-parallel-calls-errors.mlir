// kiln-lower-parallel-calls runs on the LLVM dialect: a parallel body must
// take (i64 begin, i64 end, ...) by then.
// RUN: kiln-opt %s -kiln-lower-parallel-calls -verify-diagnostics

// expected-error @+1 {{a parallel body takes (i64 begin, i64 end, ...); lower it to the LLVM dialect first}}
llvm.func @body(%p: !llvm.ptr) attributes {kiln.parallel_body} {
  llvm.return
}

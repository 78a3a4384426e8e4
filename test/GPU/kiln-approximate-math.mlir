// RUN: kiln-opt --kiln-approximate-math %s | FileCheck %s

// Without libdevice, the functions that the NVVM lowering would call it for
// become plain arithmetic.
// CHECK-LABEL: func.func @functions
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.powf
// CHECK-NOT: math.expm1
// CHECK-NOT: math.log1p
// CHECK: return
func.func @functions(%x: f32, %y: f32) -> (f32, f32, f32, f32, f32, f32, f32) {
  %e = math.exp %x : f32
  %l = math.log %x : f32
  %t = math.tanh %x : f32
  %r = math.erf %x : f32
  %p = math.powf %x, %y : f32
  %em1 = math.expm1 %x : f32
  %l1p = math.log1p %x : f32
  return %e, %l, %t, %r, %p, %em1, %l1p : f32, f32, f32, f32, f32, f32, f32
}

// Functions with a PTX instruction become that instruction, in both widths;
// PTX's copysign takes the sign from its first operand.
// CHECK-LABEL: func.func @instructions
// CHECK: llvm.inline_asm "sqrt.rn.f32 $0, $1;", "=f,f" %{{.*}} : (f32) -> f32
// CHECK: llvm.inline_asm "cvt.rmi.f32.f32 $0, $1;", "=f,f"
// CHECK: llvm.inline_asm "cvt.rpi.f64.f64 $0, $1;", "=d,d"
// CHECK: llvm.inline_asm "abs.f32 $0, $1;", "=f,f"
// CHECK: llvm.inline_asm "fma.rn.f32 $0, $1, $2, $3;", "=f,f,f,f" %[[X:.*]], %[[Y:.*]], %[[X]]
// CHECK: llvm.inline_asm "copysign.f32 $0, $1, $2;", "=f,f,f" %[[Y]], %[[X]]
// CHECK-NOT: math.
func.func @instructions(%x: f32, %y: f32, %d: f64) -> (f32, f32, f64, f32, f32, f32) {
  %s = math.sqrt %x : f32
  %f = math.floor %x : f32
  %c = math.ceil %d : f64
  %a = math.absf %x : f32
  %m = math.fma %x, %y, %x : f32
  %g = math.copysign %x, %y : f32
  return %s, %f, %c, %a, %m, %g : f32, f32, f64, f32, f32, f32
}

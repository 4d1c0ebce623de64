// A cache prefetch hint for the GEMM driver (PrnKernel/GEMM+Driver.swift) and the Winograd
// transforms' gathers (PrnKernel/Conv+WinogradTransforms.swift), and the sliding weight gradient's gy rows
// (PrnKernel/Conv+SlidingWeightGradient.swift). Swift has no prefetch instruction
// of its own, and clang's _m_prefetch imported from the compiler's intrinsics module compiles to
// nothing. A hint never changes a result: it only asks the core to start a load early.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Starts bringing the 64-byte line holding `p` into the L2 cache (prefetcht1).
static inline __attribute__((always_inline)) void prn_prefetch_l2(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

/// Starts bringing the 64-byte line holding `p` into the L1 cache (prefetcht0).
static inline __attribute__((always_inline)) void prn_prefetch_l1(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif

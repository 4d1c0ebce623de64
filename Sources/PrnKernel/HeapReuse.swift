#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed tensor memory in the process for the next allocation instead of returning it to
/// the kernel.
///
/// glibc serves blocks above its mmap threshold (at most 32 MB) with a fresh `mmap` and gives them
/// back with `munmap` when freed, and trims the heap top past 128 KB. A training step frees and
/// allocates the same activation sizes every step, so each step paid a page fault per 4 KB of
/// every large tensor: 49 s of system time in 375 s of CPU for a CIFAR grid. With mmap off and
/// trimming off, freed blocks are reused; the resident size stays at the high-water mark.
@usableFromInline
enum HeapReuse {
    @usableFromInline
    static let enabled: Bool = {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which the Glibc module leaves out; the option numbers are
        // glibc's M_TRIM_THRESHOLD (-1) and M_MMAP_MAX (-4).
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        return mallopt(-4, 0) == 1 && mallopt(-1, Int32.max) == 1
        #else
        return false
        #endif
    }()
}

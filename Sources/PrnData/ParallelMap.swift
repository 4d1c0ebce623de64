import Dispatch
import PrnKernel

/// Runs `body` for 0..<count concurrently and returns the results in index order.
///
/// Used to read a data set's files at once: inflating the large training-image file overlaps with
/// the small ones, and iterations are handed out dynamically, so the uneven sizes balance. When
/// several iterations fail, the error of the lowest index is thrown, so the message users see does
/// not depend on scheduling.
func parallelMap<T>(_ count: Int, _ body: (Int) throws -> T) throws -> [T] {
    var results = [Result<T, Error>?](repeating: nil, count: count)
    if Parallel.threads <= 1 || count <= 1 {
        for i in 0..<count { results[i] = Result { try body(i) } }
    } else {
        results.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            DispatchQueue.concurrentPerform(iterations: count) { i in
                slots[i] = Result { try body(i) }   // each iteration writes only its own slot
            }
        }
    }
    return try results.map { try $0!.get() }
}

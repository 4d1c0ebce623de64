import XCTest

final class PrnKernelPlaceholderTests: XCTestCase {}

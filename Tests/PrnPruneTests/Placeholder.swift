import XCTest

final class PrnPrunePlaceholderTests: XCTestCase {}

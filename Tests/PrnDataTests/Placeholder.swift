import XCTest

final class PrnDataPlaceholderTests: XCTestCase {}

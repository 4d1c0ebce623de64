import XCTest

final class PrnLangPlaceholderTests: XCTestCase {}

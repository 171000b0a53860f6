import CapsizeCore
import Foundation
import Testing

@testable import CloudModel

/// A JSON file that Foundation's decoder refuses as a whole ("not valid JSON", on Linux even for a number that does
/// not fit its field) is refused naming the place: the line and column, and the field where there is one.
@Suite struct JSONPlaceTests {
    /// The embedded price catalog, pretty-printed (one field a line), with `replace` applied to its text.
    static func catalog(_ replace: (String) -> String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(EmbeddedData.sources["prices.json"]!.utf8))
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return replace(String(decoding: data, as: UTF8.self))
    }

    static func error(_ text: String) -> InputError? {
        do {
            _ = try PriceCatalog.decode(Data(text.utf8), source: "prices.json")
            return nil
        } catch {
            return error
        }
    }

    /// The 1-based line of the first occurrence of `needle`.
    static func line(of needle: String, in text: String) -> Int {
        text.components(separatedBy: "\n").firstIndex { $0.contains(needle) }! + 1
    }

    @Test("a fraction in a whole-number field names the field, its line and the value")
    func fractionInWholeNumber() throws {
        let text = try Self.catalog {
            $0.replacingOccurrences(of: #""billingGranularityMs" : 1"#, with: #""billingGranularityMs" : 1.5"#)
        }
        let error = try #require(Self.error(text))
        let line = Self.line(of: "billingGranularityMs", in: text)
        #expect(error.field.hasPrefix("prices.json:\(line):") && error.field.hasSuffix(": lambda.billingGranularityMs"))
        #expect(error.value == "1.5" && error.allowed == "a whole number")
    }

    @Test("fractions where fractions are allowed are passed over to find the whole-number field that has one")
    func fractionsElsewhereAreFine() throws {
        // Every price before it is a fraction in a field of its own that takes one.
        let text = try Self.catalog {
            $0.replacingOccurrences(of: #""billingGranularityMs" : 1"#, with: #""billingGranularityMs" : 1e300"#)
        }
        let error = try #require(Self.error(text))
        #expect(error.field.hasSuffix(": lambda.billingGranularityMs"), "\(error)")
        #expect(error.value == "1e300")
    }

    @Test("a number beyond a Double's range names its field")
    func overflow() throws {
        let text = try Self.catalog {
            $0.replacingOccurrences(of: #""perRequest" : "#, with: #""perRequest" : 1e400, "x" : "#)
        }
        let error = try #require(Self.error(text))
        #expect(error.field.hasSuffix(": lambda.perRequest") && error.value == "1e400", "\(error)")
        #expect(error.allowed.contains("1.8e308"))
    }

    @Test("text that is not JSON is named by line and column")
    func notJSON() throws {
        let error = try #require(Self.error("{\n  \"lambda\": {\n    \"perRequest\": 0.2,,\n  }\n}"))
        #expect(error.field == "prices.json:3:23" && error.value == "(not JSON here)", "\(error)")
        let unterminated = try #require(Self.error("{\"lambda\": \"open"))
        #expect(unterminated.field == "prices.json:1:17", "\(unterminated)")
    }

    @Test("a document nested a hundred thousand deep is refused, not a crash")
    func deepNesting() throws {
        let error = try #require(Self.error(String(repeating: "[", count: 100_000)))
        #expect(error.field.hasPrefix("prices.json:1:"), "\(error)")
    }
}

import CapsizeCore
import Foundation
import Planning
import Testing

/// A saved recommendation is checked where it is read, so that an export never writes or traps on a number it
/// cannot hold.
@Suite struct SavedRecommendationTests {
    /// A recommendation saved as `recommend --json` writes it, with `edit` applied to its first option.
    static func saved(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
        let profile = try WorkloadProfile(localSeconds: 0.2, peakMemoryMB: 300)
        let recommendation = try recommend(profile: profile, runs: 10, strategy: .cost)
        var json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(recommendation)) as? [String: Any])
        var options = try #require(json["options"] as? [[String: Any]])
        edit(&options[0])
        json["options"] = options
        return try JSONSerialization.data(withJSONObject: ["recommendation": json])
    }

    @Test("a saved recommendation as recommend writes it is read back")
    func valid() throws {
        let recommendation = try Recommendation(saved: try Self.saved(), file: "rec.json")
        #expect(recommendation.runs == 10 && !recommendation.options.isEmpty)
    }

    @Test(
        "a runtime, memory, vCPU or GPU count an export cannot write is refused with its place in the file",
        arguments: [
            ("runtime", #"{"seconds": 1e300, "provenance": "measured", "basis": ""}"#, "runtime.seconds"),
            ("memoryMB", "-1", "memoryMB"), ("vcpus", "0", "vcpus"), ("gpus", "1000000", "gpus"),
            ("startup", "[-1, 5]", "startup[0]"),
        ])
    func outOfRange(key: String, value: String, field: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        let data = try Self.saved { $0[key] = parsed }
        let error = try #require(throws: InputError.self) { try Recommendation(saved: data, file: "rec.json") }
        #expect(error.field == "rec.json: recommendation.options[0].\(field)", "\(error)")
    }

    @Test("a file that is not a saved recommendation names the file")
    func notARecommendation() throws {
        let error = try #require(throws: InputError.self) {
            try Recommendation(saved: Data("[1, 2]".utf8), file: "rec.json")
        }
        #expect(error.field == "rec.json", "\(error)")
    }
}

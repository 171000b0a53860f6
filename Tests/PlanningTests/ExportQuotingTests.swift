import CapsizeCore
import CloudModel
import Foundation
import TestSupport
import Testing

@testable import Planning

/// The exported files with hostile values (an option's summary and a name from a saved recommendation, the words of
/// a command): the sbatch header stays comments and `#SBATCH` lines and runs nothing injected, the YAML and JSON
/// files read back as the same values.
@Suite struct ExportQuotingTests {
    func option(_ id: String) throws -> PlanOption {
        let profile = try WorkloadProfile(localSeconds: 60, localThreads: 2, peakMemoryMB: 1000)
        let recommendation = try recommend(profile: profile, runs: 4, strategy: .cost)
        return try #require(recommendation.options.first { $0.id == id })
    }

    @Test(
        "a hostile summary or job name leaves the sbatch header all comments and #SBATCH lines; nothing runs"
    )
    func sbatch() throws {
        let scratch = try Scratch("export-sbatch")
        let (directory, marker) = (scratch.path, scratch.marker)
        var option = try option("batch-c7i.large")
        for value in hostileValues(marker: marker) {
            option.summary = value
            let header = Export.sbatchHeader(for: option, jobName: value, runs: 4)
            let lines = header.split(separator: "\n")
            #expect(lines.allSatisfy { $0.hasPrefix("#") }, "\(header)")
            #expect(lines.filter { $0.hasPrefix("# ") }.count == 1, "the summary is one comment line: \(header)")
            let jobName = try #require(lines.first { $0.hasPrefix("#SBATCH --job-name=") })
            #expect(
                jobName.dropFirst("#SBATCH --job-name=".count).allSatisfy {
                    $0.isLetter || $0.isNumber || "-_.".contains($0)
                })
            let result = try runScript(header + "echo ran\n", in: directory, marker: marker)
            #expect(result.stdout == "ran\n", "\(header)")
        }
    }

    @Test(
        "a hostile summary, command and code URI read back from the SAM and CloudFormation YAML and the JSON")
    func documents() throws {
        let scratch = try Scratch("export-yaml")
        let directory = scratch.path
        let values = hostileValues(marker: scratch.marker)
        var batch = try option("batch-c7i.large")
        var lambda = try option("lambda-1024-x86_64")
        batch.summary = values.joined(separator: " ")
        lambda.summary = batch.summary
        let json = try Export.batchJobDefinition(for: batch, name: "job", image: "capsize:latest", command: values)
        let container = try #require(
            (try JSONSerialization.jsonObject(with: json) as? [String: Any])?["containerProperties"] as? [String: Any])
        #expect(container["command"] as? [String] == values)
        let template = try Export.batchJobDefinitionTemplate(
            for: batch, name: "job", image: "capsize:latest", command: values)
        let sam = try Export.samTemplate(for: lambda, functionName: "f", codeUri: values.joined())
        guard let cloudFormation = try readYAML(template, in: directory),
            let function = try readYAML(sam, in: directory)
        else {
            return  // no python3 with PyYAML here: the JSON was checked
        }
        #expect((cloudFormation["Description"] as? String)?.contains(batch.summary) == true)
        let properties = (cloudFormation["Resources"] as? [String: Any])?["CapsizeJobDefinition"] as? [String: Any]
        let containerProperties = (properties?["Properties"] as? [String: Any])?["ContainerProperties"]
        #expect((containerProperties as? [String: Any])?["Command"] as? [String] == values)
        #expect((function["Description"] as? String)?.contains(lambda.summary) == true)
        let code = ((function["Resources"] as? [String: Any])?["CapsizeFunction"] as? [String: Any])?["Properties"]
        #expect((code as? [String: Any])?["CodeUri"] as? String == values.joined())
    }
}

import CapsizeCore
import Foundation
import Planning
import TestSupport
import Testing

@testable import Studies

/// `Recommend.exportFiles` (what `capsize recommend --export DIR` writes) with hostile values, and `ContainedPath`,
/// which keeps every file it writes inside DIR.
@Suite struct ExportFilesTests {
    let scratch: Scratch
    var directory: String { scratch.path }

    init() throws { scratch = try Scratch("export-files") }

    /// A recommendation whose pick is a Lambda option and whose Batch option `batch` is given `id` and `summary`.
    func recommendation(id: String = "batch-c7i.large", summary: String? = nil) throws -> (Recommendation, String) {
        var recommendation = try recommend(
            profile: try WorkloadProfile(localSeconds: 1, peakMemoryMB: 300), runs: 4, strategy: .cost)
        let index = try #require(recommendation.options.firstIndex { $0.id == "batch-c7i.large" })
        recommendation.options[index].id = id
        if let summary {
            recommendation.options[index].summary = summary
            recommendation.pick?.summary = summary
        }
        #expect(recommendation.pick?.service == .lambda)
        return (recommendation, id)
    }

    /// A job of the user's: an image and a command.
    static func job() throws -> DeployedJob {
        try DeployedJob(image: "public.ecr.aws/capsize/job:1", command: ["echo", "ran"])
    }

    /// Every file under `directory`, relative to it.
    func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    @Test(
        "recommend --export's files with a hostile summary stay in the folder; the sbatch runs nothing injected"
    )
    func hostileSummary() throws {
        let marker = directory + "/pwned"
        let out = directory + "/out"
        let (recommendation, id) = try recommendation(summary: hostileValues(marker: marker).joined(separator: " "))
        let written = try Recommend.exportFiles(
            recommendation, to: out, option: id, name: "command", job: try Self.job())
        #expect(written.count == 4 && written.allSatisfy { $0.hasPrefix(out + "/") }, "\(written)")
        #expect(files(under: directory) == ["out"] + written.map { "out/" + $0.dropFirst(out.count + 1) }.sorted())
        let sbatch = try #require(written.first { $0.hasSuffix(".sbatch") })
        let script = try String(contentsOfFile: sbatch, encoding: .utf8)
        #expect(script.split(separator: "\n").dropLast().allSatisfy { $0.hasPrefix("#") }, "\(script)")
        #expect(script.hasSuffix("\n'echo' 'ran'\n"), "\(script)")
        #expect(try runScript(script, in: directory, marker: marker).stdout == "ran\n")
        let json = try #require(written.first { $0.hasSuffix(".json") })
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) is [String: Any])
    }

    @Test(
        "an option id leaving the folder (x/../../T, /…, a newline) is refused naming export; nothing is written"
    )
    func traversal() throws {
        let out = directory + "/a/out"
        for id in ["batch-x/../../T", "batch-/../../../T", "batch-x\n/T"] {
            let (recommendation, _) = try recommendation(id: id)
            let error = try #require(throws: InputError.self) {
                try Recommend.exportFiles(recommendation, to: out, option: id, name: "command", job: try Self.job())
            }
            #expect(error.isSetting && error.field == "export", "\(error)")
            #expect(!error.description.contains("\n"))
            #expect(files(under: directory).isEmpty, "\(files(under: directory))")
        }
    }

    @Test(
        "a file is written new in its folder: never over a file, through a link, or named .., / or a path"
    )
    func containedPath() throws {
        let outside = directory + "/outside"
        let folder = directory + "/folder"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let written = try ContainedPath.writeNew(Data("a".utf8), named: "a.txt", in: folder, setting: "export")
        #expect(try String(contentsOfFile: written, encoding: .utf8) == "a")
        for name in ["..", ".", "", "/etc/x", "a/b", "../outside", ".hidden", "a b", "ü"] {
            let error = try #require(throws: InputError.self) {
                try ContainedPath.writeNew(Data(), named: name, in: folder, setting: "export")
            }
            #expect(error.field == "export" && error.isSetting, "\(name)")
        }
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: folder + "/up", withDestinationPath: "../outside")
        try "o".write(toFile: directory + "/outside.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: folder + "/out", withDestinationPath: "../outside.txt")
        for name in ["a.txt", "dangling", "up", "out"] {
            #expect(throws: InputError.self) {
                try ContainedPath.writeNew(Data("b".utf8), named: name, in: folder, setting: "export")
            }
        }
        #expect(try String(contentsOfFile: written, encoding: .utf8) == "a")
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(try String(contentsOfFile: directory + "/outside.txt", encoding: .utf8) == "o")
    }
}

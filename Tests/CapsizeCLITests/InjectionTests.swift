import Foundation
import TestSupport
import Testing

/// What an attacker with the command line and a --prices file tried: commands injected into exported scripts and
/// files written outside `--export DIR`. (SlurmQuotingTests submits to a real Slurm.)
@Suite struct InjectionTests {
    let scratch: Scratch
    var home: String { scratch.path }
    var marker: String { scratch.marker }

    init() throws { scratch = try Scratch("capsize-injection") }

    /// The embedded price catalog with `ec2.instances[index]` edited, written into `home`.
    func prices(_ index: Int, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: packageRoot.appendingPathComponent("data/prices.json"))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var ec2 = try #require(json["ec2"] as? [String: Any])
        var instances = try #require(ec2["instances"] as? [[String: Any]])
        edit(&instances[index])
        ec2["instances"] = instances
        json["ec2"] = ec2
        let path = home + "/prices-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Every file and folder under `home`, relative to it.
    var everything: [String] { (FileManager.default.enumerator(atPath: home)?.allObjects as? [String] ?? []).sorted() }

    func recommend(prices: String, option: String, export: String) throws -> ProcessOutput {
        try capsize(
            [
                "recommend", "command", "--runs", "10", "--prices", prices, "--export", export, "--option", option,
                "--image", "public.ecr.aws/capsize/job:1", "--", "/bin/true",
            ], environment: ["CAPSIZE_HOME": home + "/home"])
    }

    @Test(
        "an instance named x/../../T (or with a newline) exported with --option exits 2 naming it; nothing written"
    )
    func traversal() throws {
        for name in ["x/../../T", "x\ntouch \(marker)"] {
            let file = try prices(3) { $0["name"] = name }
            let before = everything
            let result = try recommend(prices: file, option: "batch-\(name)", export: home + "/a/b/export")
            #expect(result.status == 2, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(
                lines.count == 1 && lines[0].hasPrefix("capsize: invalid \(file): ec2.instances[3].name '"),
                "\(result.stderr)")
            #expect(everything == before, "written: \(Set(everything).subtracting(before))")
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test(
        "recommend --export with a hostile GPU model: the sbatch runs nothing injected, the JSON and YAML read back"
    )
    func recommendExport() throws {
        let model = hostileValues(marker: marker).filter { !$0.contains(where: \.isNewline) && !$0.contains("\t") }
            .joined(separator: " ")
        var name = ""
        let file = try prices(6) { instance in
            name = instance["name"] as? String ?? ""
            instance["gpu"] = ["model": model, "count": 1, "memoryGiB": 16, "fp32TFLOPS": 8]
        }
        let out = home + "/out"
        let result = try recommend(prices: file, option: "batch-\(name)", export: out)
        #expect(result.status == 0, "\(result.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(written.count == 4 && written.contains("job-batch-\(name).sbatch"), "\(written)")
        for file in written {
            let text = try String(contentsOfFile: out + "/" + file, encoding: .utf8)
            if file.hasSuffix(".sbatch") {
                #expect(text.contains(model), "the summary comment keeps the model as given: \(text)")
                #expect(try runScript(text + "echo ran\n", in: home, marker: marker).stdout == "ran\n")
            } else if file.hasSuffix(".json") {
                #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
            } else if let document = try readYAML(text, in: home), file.contains("batch-") {
                #expect((document["Description"] as? String)?.contains(model) == true, "\(text)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test(
        "export --format sbatch with a hostile summary and --name prints a header that runs nothing injected"
    )
    func exportSbatch() throws {
        let recommend = try capsize(
            ["recommend", "command", "--runs", "10", "--json", "--", "/bin/true"],
            environment: ["CAPSIZE_HOME": home + "/home"])
        #expect(recommend.status == 0, "\(recommend.stderr)")
        var saved = try json(recommend.stdout)
        var recommendation = try #require(saved["recommendation"] as? [String: Any])
        let summary = hostileValues(marker: marker).joined(separator: " ")
        recommendation["options"] = (recommendation["options"] as? [[String: Any]])?.map { option in
            option.merging(["summary": summary]) { $1 }
        }
        saved["recommendation"] = recommendation
        let file = home + "/recommendation.json"
        try JSONSerialization.data(withJSONObject: saved).write(to: URL(fileURLWithPath: file))
        for name in hostileValues(marker: marker) {
            let export = try capsize(
                ["export", file, "--format", "sbatch", "--option", "batch-c7i.large", "--name", name],
                environment: ["CAPSIZE_HOME": home + "/home"])
            #expect(export.status == 0, "\(export.stderr)")
            let lines = export.stdout.split(separator: "\n")
            #expect(
                lines.dropLast().allSatisfy { $0.hasPrefix("#") } && lines.last == "'/bin/true'", "\(export.stdout)")
            #expect(try runScript(export.stdout + "echo ran\n", in: home, marker: marker).stdout == "ran\n")
        }
        let template = try capsize(
            ["export", file, "--format", "cloudformation-batch", "--option", "batch-c7i.large", "--placeholder"],
            environment: ["CAPSIZE_HOME": home + "/home"])
        #expect(template.status == 0, "\(template.stderr)")
        if let document = try readYAML(template.stdout, in: home) {
            #expect((document["Description"] as? String)?.contains(summary) == true, "\(template.stdout)")
        }
    }
}

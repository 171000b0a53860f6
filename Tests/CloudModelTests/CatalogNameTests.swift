import CapsizeCore
import Foundation
import Testing

@testable import CloudModel

extension CatalogAdditionsTests {
    /// The catalog with the name (and GPU model) of `ec2.instances[3]` changed.
    func loadInstance(name: String? = nil, model: String? = nil) throws -> InputError? {
        try load { json in
            var ec2 = json["ec2"] as! [String: Any]
            var instances = ec2["instances"] as! [[String: Any]]
            if let name { instances[3]["name"] = name }
            if let model { instances[3]["gpu"] = ["model": model, "count": 1, "memoryGiB": 16, "fp32TFLOPS": 8] }
            ec2["instances"] = instances
            json["ec2"] = ec2
        }
    }

    @Test(
        "an instance name that is not a plain name is refused at load, naming the file, ec2.instances[3].name",
        arguments: ["x/../../T", "c7i.large\ntouch /tmp/pwned", "$(touch pwned)", "a b", "", "..", ".x", "ü", "/T"])
    func instanceNames(_ name: String) throws {
        let error = try #require(try loadInstance(name: name))
        #expect(error.field.hasPrefix("/") && error.field.hasSuffix(".json: ec2.instances[3].name"), "\(error)")
        #expect(error.value == name && error.allowed.contains("A-Z a-z 0-9 . _ -") && !error.isSetting)
        #expect(!error.description.contains("\n"))
    }

    @Test(
        "a name used twice or a GPU model with a control character is refused; dots, dashes and digits load"
    )
    func instanceNameRules() throws {
        let twice = try #require(try loadInstance(name: "c7i.large"))
        #expect(twice.field.hasSuffix("ec2.instances[3].name") && twice.allowed == "a name not used before")
        let model = try #require(try loadInstance(model: "T4\n$(touch pwned)"))
        #expect(model.field.hasSuffix("ec2.instances[3].gpu.model"))
        #expect(try loadInstance(name: "u-6tb1.metal_2", model: "NVIDIA \"T4\" $(x) `y` ü") == nil)
        #expect(try loadInstance(name: String(repeating: "a", count: 65)) != nil)
    }
}

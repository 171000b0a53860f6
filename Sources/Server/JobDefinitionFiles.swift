import CapsizeCore
import Foundation

/// The job definitions `RegisterJobDefinition` made, kept across `capsize serve` runs as AWS Batch keeps them: one
/// JSON file per name (`NAME.json`, its revisions oldest first, deregistered ones INACTIVE) under
/// `$CAPSIZE_HOME/job-definitions`. A name is 1 to 128 letters, digits, hyphens and underscores (checked before it
/// gets here), so it is a file name as it is.
struct JobDefinitionFiles: Sendable {
    let directory: String

    /// What is on disk: each name's revisions (names sorted), and the files that could not be read, with why; those
    /// are left as they are, and their names refused until they are fixed or removed.
    func load() -> (revisions: [String: [JobDefinitionShape]], unreadable: [String: String]) {
        var revisions: [String: [JobDefinitionShape]] = [:]
        var unreadable: [String: String] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in files.sorted() where file.hasSuffix(".json") {
            let name = String(file.dropLast(".json".count))
            let path = directory + "/" + file
            do {
                let read = try JSONDecoder().decode(
                    [JobDefinitionShape].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                guard !read.isEmpty, read.allSatisfy({ $0.jobDefinitionName == name }) else {
                    unreadable[name] = "\(path) does not hold revisions of \(name)"
                    continue
                }
                revisions[name] = read
            } catch {
                unreadable[name] = "\(path) is not a list of job definitions (\(error.localizedDescription))"
            }
        }
        return (revisions, unreadable)
    }

    /// Writes a name's revisions (atomically: a crash leaves the old file or the new one).
    func save(_ revisions: [JobDefinitionShape], name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try JSONEncoder.pretty().encode(revisions).write(
            to: URL(fileURLWithPath: directory + "/" + name + ".json"), options: .atomic)
    }
}

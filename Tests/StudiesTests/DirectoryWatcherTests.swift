import CapsizeCore
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Studies

#if canImport(Glibc)
    import Glibc
#endif

/// The watched directory with real files: what lands is reported once, with its key, size and MD5; what is still
/// being written is not.
@Suite(.timeLimit(.minutes(1))) struct DirectoryWatcherTests {
    /// A watched directory `watched` inside a scratch folder (whose other folders are on the same file system).
    static func scratch() throws -> (root: String, watched: String) {
        let root = try temporaryDirectory("capsize-watch")
        let watched = root + "/incoming"
        try FileManager.default.createDirectory(atPath: watched, withIntermediateDirectories: false)
        return (root, watched)
    }

    typealias Reports = AsyncThrowingStream<LandedFile, any Error>.AsyncIterator

    /// Runs `body` with the reports of a watch on a new scratch folder's `watched` directory, and removes the folder;
    /// `before` lays out files before the watch starts.
    static func watching(
        before: (_ root: String, _ watched: String) throws -> Void = { _, _ in },
        _ body: (_ root: String, _ watched: String, _ files: inout Reports) async throws -> Void
    ) async throws {
        let (root, watched) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try before(root, watched)
        let watcher = try DirectoryWatcher(directory: watched)
        defer { withExtendedLifetime(watcher) {} }
        var files = watcher.files.makeAsyncIterator()
        try await body(root, watched, &files)
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func md5(_ text: String) -> String {
        var digest = MD5()
        digest.update(Array(text.utf8))
        return digest.hexDigest()
    }

    @Test("a file written then closed is reported once, with its key, size and MD5")
    func writtenAndClosed() async throws {
        try await Self.watching { _, watched, files in
            try Self.write("hello, world\n", to: watched + "/greeting one.txt")
            let first = try #require(try await files.next())
            #expect(first.key == "greeting one.txt")
            #expect(first.size == 13)
            #expect(first.md5 == Self.md5("hello, world\n"))
            // The next report is the next file: the first was reported once.
            try Self.write("x", to: watched + "/second.txt")
            let second = try #require(try await files.next())
            #expect(second.key == "second.txt")
            #expect(second.sequence > first.sequence)
        }
    }

    @Test("a file renamed into the directory is reported once")
    func renamedIn() async throws {
        try await Self.watching { root, _ in
            try Self.write("made elsewhere", to: root + "/staged.csv")
        } _: { root, watched, files in
            try FileManager.default.moveItem(atPath: root + "/staged.csv", toPath: watched + "/data.csv")
            let moved = try #require(try await files.next())
            #expect(moved.key == "data.csv")
            #expect(moved.size == 14)
            #expect(moved.md5 == Self.md5("made elsewhere"))
            try Self.write("x", to: watched + "/after.txt")
            #expect(try await files.next()?.key == "after.txt")
        }
    }

    @Test("a file still being written is not reported until it is closed, then with all of it")
    func partiallyWritten() async throws {
        try await Self.watching { _, watched, files in
            let descriptor = open(watched + "/big.bin", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            try #require(descriptor >= 0)
            let writer = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try writer.write(contentsOf: Data("part one, ".utf8))
            // Another file closed meanwhile is reported first: nothing was reported for the open one.
            try Self.write("y", to: watched + "/small.txt")
            #expect(try await files.next()?.key == "small.txt")
            try writer.write(contentsOf: Data("part two".utf8))
            try writer.close()
            let whole = try #require(try await files.next())
            #expect(whole.key == "big.bin")
            #expect(whole.size == 18)
            #expect(whole.md5 == Self.md5("part one, part two"))
        }
    }

    @Test("files already there when the watch starts are not reported; files in new folders are, with their path")
    func existingAndFolders() async throws {
        try await Self.watching { _, watched in
            try Self.write("old", to: watched + "/old.txt")
        } _: { root, watched, files in
            // A folder made with a file already in it (moved in whole): its file is found by listing it.
            try FileManager.default.createDirectory(atPath: root + "/batch", withIntermediateDirectories: false)
            try Self.write("inside", to: root + "/batch/one.txt")
            try FileManager.default.moveItem(atPath: root + "/batch", toPath: watched + "/batch 7")
            let listed = try #require(try await files.next())
            #expect(listed.key == "batch 7/one.txt")
            #expect(listed.size == 6)
            // A file written into the new folder later comes from its own watch, once.
            try Self.write("later", to: watched + "/batch 7/two.txt")
            #expect(try await files.next()?.key == "batch 7/two.txt")
            try Self.write("z", to: watched + "/last.txt")
            #expect(try await files.next()?.key == "last.txt")
        }
    }

    @Test("files landing while the watch starts are each reported once at most, and every one after it is reported")
    func landingWhileStarting() async throws {
        let (root, watched) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let written = Atomic<Int>(0)
        let writer = Task.detached {
            for index in 0..<400 {
                try Self.write("file \(index)", to: watched + "/f\(index)")
                written.store(index + 1, ordering: .sequentiallyConsistent)
            }
        }
        while written.load(ordering: .sequentiallyConsistent) < 50 { try await Task.sleep(for: .milliseconds(1)) }
        let before = written.load(ordering: .sequentiallyConsistent)
        let watcher = try DirectoryWatcher(directory: watched)
        defer { withExtendedLifetime(watcher) {} }
        let after = written.load(ordering: .sequentiallyConsistent)
        try await writer.value
        try Self.write("end", to: watched + "/zz-end")
        var seen: [String: Int] = [:]
        for try await file in watcher.files {
            if file.key == "zz-end" { break }
            seen[file.key, default: 0] += 1
        }
        #expect(seen.values.allSatisfy { $0 == 1 })
        // Written before the watch began: not reported. Begun after it started: all reported.
        #expect((0..<before).allSatisfy { seen["f\($0)"] == nil })
        #expect((min(after + 1, 400)..<400).allSatisfy { seen["f\($0)"] == 1 })
    }

    @Test("a file written into a folder the moment it is made is reported once")
    func newFolderRace() async throws {
        try await Self.watching { _, watched, files in
            for index in 0..<20 {
                try FileManager.default.createDirectory(
                    atPath: watched + "/d\(index)", withIntermediateDirectories: false)
                try Self.write("inside \(index)", to: watched + "/d\(index)/data.txt")
            }
            try Self.write("end", to: watched + "/zz-end")
            var seen: [String] = []
            while let file = try await files.next(), file.key != "zz-end" { seen.append(file.key) }
            #expect(seen.sorted() == (0..<20).map { "d\($0)/data.txt" }.sorted())
        }
    }

    @Test("a directory that does not exist is refused, naming it")
    func missingDirectory() {
        #expect {
            try DirectoryWatcher(directory: "/nonexistent/capsize-watch")
        } throws: { error in
            (error as? InputError)?.value == "/nonexistent/capsize-watch"
        }
    }
}

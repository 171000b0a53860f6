import Foundation
import Testing

@testable import Execution

/// The uids jobs and functions run as when capsize is root.
@Suite(.serialized) struct SandboxUserTests {
    @Test("as root, leases held at once get different unprivileged uids, and a released one can be drawn again")
    func leases() throws {
        guard geteuid() == 0 else {
            #expect(try SandboxUser.lease() == nil)
            return
        }
        let first = try #require(try SandboxUser.lease())
        let second = try #require(try SandboxUser.lease())
        #expect(first.user.uid != second.user.uid)
        #expect(SandboxUser.uids.contains(first.user.uid) && SandboxUser.uids.contains(second.user.uid))
        #expect(first.user.gid == first.user.uid && getpwuid(first.user.uid) == nil)
        let freed = first.user.uid
        first.release()
        // The lowest free uid is drawn: the one just freed, unless a lower one was freed too (other tests hold
        // leases at the same time).
        let third = try #require(try SandboxUser.lease())
        #expect(third.user.uid <= freed && third.user.uid != second.user.uid)
    }

    @Test("giving a retried job's folder to its new uid changes what is in it and nothing a link points to")
    func ownContents() throws {
        guard geteuid() == 0 else { return }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-user-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let folder = base + "/output"
        let outside = base + "/outside.txt"
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/sub/file.txt", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: outside, contents: Data("y".utf8))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: folder + "/up", withDestinationPath: base)
        SandboxUser(uid: 61_519, gid: 61_519).ownContents(of: folder)
        func owner(_ path: String) -> uid_t {
            var info = stat()
            lstat(path, &info)
            return info.st_uid
        }
        #expect(owner(folder + "/sub") == 61_519 && owner(folder + "/sub/file.txt") == 61_519)
        #expect(owner(folder + "/link") == 61_519)  // the link itself
        #expect(owner(outside) == 0 && owner(base) == 0)
    }
}

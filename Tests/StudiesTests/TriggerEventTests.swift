import CapsizeCore
import Foundation
import Testing

@testable import Studies

/// The events a function receives from a schedule and from a watched directory, in AWS's shapes.
@Suite struct TriggerEventTests {
    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a scheduled event is EventBridge's Scheduled Event, field by field")
    func scheduledEvent() throws {
        let time = try Date("2026-12-06T14:05:00Z", strategy: .iso8601)
        let id = try #require(UUID(uuidString: "53DC4D37-CFFA-4F76-80C9-8B7D4A4D2EAA"))
        let event = try Self.object(
            try JSONEncoder.triggers.encode(ScheduledEvent(rule: "nightly", time: time, id: id)))
        #expect(event["version"] as? String == "0")
        #expect(event["id"] as? String == "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
        #expect(event["detail-type"] as? String == "Scheduled Event")
        #expect(event["source"] as? String == "aws.events")
        #expect(event["account"] as? String == "000000000000")
        #expect(event["time"] as? String == "2026-12-06T14:05:00Z")
        #expect(event["region"] as? String == "us-east-1")
        #expect(event["resources"] as? [String] == ["arn:aws:events:us-east-1:000000000000:rule/nightly"])
        #expect((event["detail"] as? [String: Any])?.isEmpty == true)
        #expect(event.count == 9)
    }

    @Test("a landed file is one S3 ObjectCreated:Put record, field by field")
    func s3Record() throws {
        let file = LandedFile(
            key: "in/red flower.jpg", size: 3, md5: "900150983cd24fb0d6963f7d28e17f72",
            modified: try Date("2026-12-06T14:05:01.250Z", strategy: .iso8601), sequence: 0x1_0000_0000)
        let event = try Self.object(
            try JSONEncoder.triggers.encode(
                S3Event(file: file, bucket: "photos", configuration: "capsize-resize", requestId: "R1")))
        let records = try #require(event["Records"] as? [[String: Any]])
        #expect(records.count == 1)
        let record = records[0]
        #expect(record["eventVersion"] as? String == "2.1")
        #expect(record["eventSource"] as? String == "aws:s3")
        #expect(record["awsRegion"] as? String == "us-east-1")
        #expect(record["eventTime"] as? String == "2026-12-06T14:05:01.250Z")
        #expect(record["eventName"] as? String == "ObjectCreated:Put")
        #expect((record["responseElements"] as? [String: String])?["x-amz-request-id"] == "R1")
        let s3 = try #require(record["s3"] as? [String: Any])
        #expect(s3["s3SchemaVersion"] as? String == "1.0")
        #expect(s3["configurationId"] as? String == "capsize-resize")
        let bucket = try #require(s3["bucket"] as? [String: Any])
        #expect(bucket["name"] as? String == "photos")
        #expect(bucket["arn"] as? String == "arn:aws:s3:::photos")
        let object = try #require(s3["object"] as? [String: Any])
        #expect(object["key"] as? String == "in/red+flower.jpg")
        #expect(object["size"] as? Int == 3)
        #expect(object["eTag"] as? String == "900150983cd24fb0d6963f7d28e17f72")
        #expect(object["sequencer"] as? String == "000000000100000000")
    }

    @Test("an object key is form-URL-encoded as S3 writes it: spaces as +, slashes kept, the rest in %XX of UTF-8")
    func keys() {
        #expect(S3Event.encodedKey("red flower.jpg") == "red+flower.jpg")
        #expect(S3Event.encodedKey("a/b/c(1).txt") == "a/b/c%281%29.txt")
        #expect(S3Event.encodedKey("x+y=z&é.csv") == "x%2By%3Dz%26%C3%A9.csv")
        #expect(S3Event.encodedKey("report_2026-12.v2~") == "report_2026-12.v2%7E")
    }

    @Test("MD5 gives RFC 1321's digests, whatever pieces the bytes come in")
    func md5() {
        let vectors = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"), ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a"
            ),
        ]
        for (text, digest) in vectors {
            var whole = MD5()
            whole.update(Array(text.utf8))
            #expect(whole.hexDigest() == digest)
            var pieces = MD5()
            for byte in text.utf8 { pieces.update([byte]) }
            #expect(pieces.hexDigest() == digest)
        }
    }

    @Test(
        "a bucket name is checked as S3 checks one",
        arguments: [
            "ab", "Photos", "my_bucket", "-photos", "photos-", "a..b", "192.168.1.1", "xn--photos", "photos-s3alias",
            String(repeating: "a", count: 64),
        ])
    func badBuckets(name: String) {
        #expect(throws: InputError.self) { try S3Event.checkBucketName(name) }
    }

    @Test(
        "valid bucket names pass", arguments: ["abc", "photos.2026", "my-bucket-1", String(repeating: "a", count: 63)])
    func goodBuckets(name: String) throws {
        try S3Event.checkBucketName(name)
    }

    @Test("a directory's name is its bucket's unless one is given, and one S3 refuses says so")
    func bucketOfDirectory() throws {
        let trigger = try Trigger.directory("/tmp/incoming", function: "resize")
        #expect(trigger.name == "s3://incoming")
        #expect(try Trigger.directory("/tmp/incoming", function: "resize", bucket: "photos").name == "s3://photos")
        #expect {
            try Trigger.directory("/tmp/My Files", function: "resize")
        } throws: { error in
            let input = error as? InputError
            return input?.field == "bucket" && input?.value == "My Files"
                && input?.allowed.hasSuffix("the directory's name is the bucket's unless bucket names one") == true
        }
        #expect(throws: InputError.self) { try Trigger.directory("/tmp/x", function: "resize", bucket: "Photos") }
    }

    @Test("a schedule's rule is named after its function unless named, and checked as EventBridge does")
    func ruleNames() throws {
        #expect(try Trigger.schedule("rate(1 hour)", function: "report").name == "rule/capsize-report")
        #expect(try Trigger.schedule("rate(1 hour)", function: "report", rule: "hourly").name == "rule/hourly")
        #expect(throws: InputError.self) { try Trigger.schedule("rate(1 hour)", function: "report", rule: "no spaces") }
        #expect(throws: InputError.self) { try Trigger.schedule("rate(1 hours)", function: "report") }
    }
}

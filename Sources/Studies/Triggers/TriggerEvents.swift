public import CapsizeCore
public import Foundation

/// The account and region capsize's made-up ARNs name (as `FunctionDefinition.arn` does).
public enum TriggerAccount {
    public static let id = "000000000000"
    public static let region = "us-east-1"
}

/// The event EventBridge sends a Lambda target when a scheduled rule fires
/// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html).
public struct ScheduledEvent: Codable, Sendable, Equatable {
    public var version = "0"
    public var id: String
    public var detailType = "Scheduled Event"
    public var source = "aws.events"
    public var account = TriggerAccount.id
    /// The scheduled time, to the second, in UTC (`2015-10-08T16:53:06Z`).
    public var time: String
    public var region = TriggerAccount.region
    /// The rule's ARN.
    public var resources: [String]
    /// Always empty for a scheduled event.
    public var detail: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case version, id
        case detailType = "detail-type"
        case source, account, time, region, resources, detail
    }

    /// The event of rule `rule` firing at `time`.
    public init(rule: String, time: Date, id: UUID = UUID()) {
        self.id = id.uuidString.lowercased()
        self.time = Self.timeText(time)
        resources = [Self.ruleARN(rule)]
    }

    public static func ruleARN(_ rule: String) -> String {
        "arn:aws:events:\(TriggerAccount.region):\(TriggerAccount.id):rule/\(rule)"
    }

    /// `2015-10-08T16:53:06Z`.
    static func timeText(_ time: Date) -> String {
        time.formatted(
            .iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: false))
    }

    /// Checks an EventBridge rule name: 1-64 letters, digits, `.`, `-` and `_`.
    public static func checkRuleName(_ name: String, setting: String = "rule") throws(InputError) {
        guard (1...64).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw InputError(
                setting: setting, value: name,
                allowed: "1-64 letters, digits, '.', '-' and '_' (EventBridge's rule names)")
        }
    }
}

/// The notification S3 sends a Lambda function when an object is created
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html): one record.
public struct S3Event: Codable, Sendable, Equatable {
    public var records: [Record]

    enum CodingKeys: String, CodingKey { case records = "Records" }

    public struct Record: Codable, Sendable, Equatable {
        public var eventVersion = "2.1"
        public var eventSource = "aws:s3"
        public var awsRegion = TriggerAccount.region
        /// When the object was written, ISO 8601 with milliseconds (`2026-12-06T14:03:27.123Z`).
        public var eventTime: String
        public var eventName = "ObjectCreated:Put"
        public var userIdentity = Principal()
        public var requestParameters = RequestParameters()
        public var responseElements: ResponseElements
        public var s3: Entity
    }

    public struct Principal: Codable, Sendable, Equatable {
        public var principalId = "capsize"
    }

    public struct RequestParameters: Codable, Sendable, Equatable {
        public var sourceIPAddress = "127.0.0.1"
    }

    public struct ResponseElements: Codable, Sendable, Equatable {
        public var requestId: String
        public var id2: String

        enum CodingKeys: String, CodingKey {
            case requestId = "x-amz-request-id"
            case id2 = "x-amz-id-2"
        }
    }

    public struct Entity: Codable, Sendable, Equatable {
        public var s3SchemaVersion = "1.0"
        /// The notification's name (the trigger's).
        public var configurationId: String
        public var bucket: Bucket
        public var object: Object
    }

    public struct Bucket: Codable, Sendable, Equatable {
        public var name: String
        public var ownerIdentity = Principal()
        public var arn: String
    }

    public struct Object: Codable, Sendable, Equatable {
        /// URL-encoded as S3 encodes it (`red flower.jpg` is `red+flower.jpg`).
        public var key: String
        public var size: Int
        /// The MD5 of the content, 32 lowercase hex digits (a single-part PUT's ETag, without quotes).
        public var eTag: String
        /// Hex; later writes of one key have greater sequencers.
        public var sequencer: String
    }

    /// The event of `file` landing in `bucket`.
    public init(file: LandedFile, bucket: String, configuration: String, requestId: String) {
        let entity = Entity(
            configurationId: configuration, bucket: Bucket(name: bucket, arn: "arn:aws:s3:::\(bucket)"),
            object: Object(
                key: Self.encodedKey(file.key), size: file.size, eTag: file.md5,
                sequencer: String(file.sequence, radix: 16, uppercase: true).leftPadded(to: 18)))
        let time = file.modified.formatted(
            .iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true))
        records = [
            Record(
                eventTime: time,
                responseElements: ResponseElements(requestId: requestId, id2: "capsize/\(requestId)"), s3: entity)
        ]
    }

    /// `key` as S3 writes it in an event: form-URL-encoded (a space is `+`), `/` kept; what Python's
    /// `urllib.parse.unquote_plus` decodes.
    public static func encodedKey(_ key: String) -> String {
        var encoded = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "*"), UInt8(ascii: "/"):
                encoded.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: " "): encoded.append("+")
            default: encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    /// Checks a bucket name as S3 does for a general purpose bucket
    /// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
    public static func checkBucketName(_ name: String, setting: String = "bucket") throws(InputError) {
        let allowed =
            "3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..',"
            + " not an IP address, not starting with xn--, sthree- or amzn-s3-demo-, not ending with -s3alias,"
            + " --ol-s3, .mrap, --x-s3 or --table-s3 (S3's bucket names)"
        let bytes = Array(name.utf8)
        func edge(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let isAddress =
            name.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { UInt8($0) != nil }
        guard (3...63).contains(bytes.count),
            bytes.allSatisfy({ edge($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
            edge(bytes[0]), edge(bytes[bytes.count - 1]), !name.contains(".."), !isAddress,
            !["xn--", "sthree-", "amzn-s3-demo-"].contains(where: name.hasPrefix),
            !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].contains(where: name.hasSuffix)
        else { throw InputError(setting: setting, value: name, allowed: allowed) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

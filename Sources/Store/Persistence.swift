// The records' GRDB conformances: table names and how dates and JSON columns are stored.
public import Foundation
public import GRDB

/// A record the store holds. They share how they are stored: dates as seconds since 1970 (REAL,
/// microsecond precision, so 1,000 job state changes a second keep their order) and JSON columns
/// that accept NaN and infinities.
public protocol StoredRecord: Codable, FetchableRecord, PersistableRecord {}

extension StoredRecord {
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .timeIntervalSince1970
    }
    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .timeIntervalSince1970
    }
    public static func databaseJSONEncoder(for column: String) -> JSONEncoder { StoredJSON.encoder }
    public static func databaseJSONDecoder(for column: String) -> JSONDecoder { StoredJSON.decoder }
}

extension RunRecord: FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "runs"
}

extension InvocationRecord: FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "invocations"
}

extension JobRecord: FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "jobs"
}

extension EnvironmentRecord: FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "environments"
}

extension MeasurementRecord: FetchableRecord, PersistableRecord, StoredRecord {
    public static let databaseTableName = "measurements"
}

extension RunRecord.Kind: DatabaseValueConvertible {}
extension RunRecord.Status: DatabaseValueConvertible {}
extension InvocationRecord.Status: DatabaseValueConvertible {}
extension JobRecord.State: DatabaseValueConvertible {}

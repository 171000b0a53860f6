import GRDB
import Synchronization

/// Rows a read could not decode (a column changed by hand, a tool's bad write): each is skipped, so that one bad
/// row does not hide every other, and noted here once, for whoever prints to report (the CLI prints them as
/// warnings when a command ends). Process-wide, as the store's readers are.
public enum UnreadableRows {
    private static let noted = Mutex<[String]>([])

    /// The rows skipped since the last call, each in words (table, key, why), and forgets them.
    public static func take() -> [String] {
        noted.withLock { rows in
            defer { rows.removeAll() }
            return rows
        }
    }

    static func note(_ row: Row, of table: String, _ error: any Error) {
        var key: [String] = []
        for column in ["id", "runID", "itemKey"] where row.hasColumn(column) {
            if let value = String.fromDatabaseValue(row[column] as DatabaseValue) { key.append("\(column) \(value)") }
            if column == "id" && !key.isEmpty { break }
        }
        let name = key.isEmpty ? "a row" : "the row with " + key.joined(separator: ", ")
        // GRDB's text goes on with the whole row and the query: the column and the value are enough.
        var why = "\(error)"
        if let rest = why.range(of: ", row: ") { why = String(why[..<rest.lowerBound]) }
        let text = "skipped \(name) of table \(table): it cannot be read (\(why))"
        noted.withLock { rows in if !rows.contains(text) { rows.append(text) } }
    }
}

extension QueryInterfaceRequest where RowDecoder: FetchableRecord & TableRecord {
    /// Every row that decodes, in order; the others are noted in `UnreadableRows` and skipped.
    func fetchReadable(_ db: Database) throws -> [RowDecoder] {
        var records: [RowDecoder] = []
        let rows = try Row.fetchCursor(db, self)
        while let row = try rows.next() {
            do {
                records.append(try RowDecoder(row: row))
            } catch {
                UnreadableRows.note(row, of: RowDecoder.databaseTableName, error)
            }
        }
        return records
    }
}

import Foundation
public import Store

extension CapsizeStore {
    /// `name` in the store's folder: where the jobs' folders (`jobs`) and dead letters (`dead-letter`) go.
    public func sibling(_ name: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
    }
}

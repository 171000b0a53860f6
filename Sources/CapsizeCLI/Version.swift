/// capsize's version, as `capsize --version` prints it (semantic versioning: the minor number grows with each
/// release that adds commands or output fields, the major one once outputs and the store are stable).
enum CapsizeVersion {
    static let current = "0.9.0"
}

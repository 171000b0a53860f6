/// Text that goes into a generated shell script (a Slurm batch script, an exported sbatch header): the one place
/// that quotes a word, keeps a comment on its line and checks a variable name. Every script capsize writes uses it
/// (CONTRIBUTING, "No user string reaches a shell or a path unquoted").
public enum Shell {
    /// `text` as one word of a POSIX shell or bash: single-quoted, each `'` written `'\''`. Nothing in it is
    /// expanded (`$`, backticks, `\`, globs, `#`) and a newline stays inside the word, so any text is safe.
    public static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `text` for the rest of a `# ` comment line: every control character (newline, carriage return, tab, escape…)
    /// and line or paragraph separator becomes a space, so the comment cannot end and start a command.
    public static func commentText(_ text: String) -> String {
        var line = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            line.append(isLineBreakingOrControl(scalar) ? " " : scalar)
        }
        return String(line)
    }

    /// Whether `name` can be a shell variable (`export NAME=…`): `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetterOrDigit }
    }

    /// What `isVariableName` allows, in words.
    public static let variableNameRule = "a shell variable name: A-Z a-z 0-9 _, not starting with a digit"

    /// Whether `scalar` is a control character (C0, DEL, C1) or a line or paragraph separator.
    public static func isLineBreakingOrControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

extension Unicode.Scalar {
    /// A-Z, a-z or 0-9.
    public var isASCIILetterOrDigit: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}

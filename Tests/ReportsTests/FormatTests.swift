import Testing

@testable import Reports

@Suite struct FormatTests {
    @Test(
        "numbers keep three significant digits, in plain or exponent form by magnitude",
        arguments: [
            (1234.5, "1234"), (0.5, "0.500"), (12.345, "12.3"), (0.000123, "1.23e-04"), (12_345_678, "1.23e+07"),
            (0, "0"), (-2.5, "-2.50"), (.infinity, "inf"),
        ])
    func numbers(value: Double, text: String) {
        #expect(fmt(value) == text)
    }

    @Test("seconds are shown in µs, ms or s", arguments: [(0.000812, "812 µs"), (0.0123, "12.3 ms"), (4.56, "4.56 s")])
    func seconds(value: Double, text: String) {
        #expect(fmtSeconds(value) == text)
    }

    @Test(
        "money keeps three significant digits without an exponent, so close costs read differently",
        arguments: [
            (0.0132, "$0.0132"), (0.0105, "$0.0105"), (0.00000575, "$0.00000575"), (0.009999, "$0.0100"),
            (12.345, "$12.3"), (1.5, "$1.50"), (1234.6, "$1235"), (0, "$0"), (-0.25, "-$0.250"),
        ])
    func money(value: Double, text: String) {
        #expect(fmtDollars(value) == text)
    }

    @Test("a table pads every column to its widest cell and trims the row ends")
    func tables() {
        #expect(table(["A", "LONG"], [["wide cell", "x"], ["b", ""]]) == "A          LONG\nwide cell  x\nb")
    }
}

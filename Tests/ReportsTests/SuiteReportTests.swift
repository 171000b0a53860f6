import Foundation
import Testing

@testable import Reports

/// What a suite's report does with the text and numbers it is given.
@Suite struct SuiteReportTests {
    static let hostile = "<script>alert(\"x\")</script> | a, b\n=1+1 `c` & 'd'"

    @Test("a cost axis reads in dollars as every cost capsize prints, never with an exponent")
    func moneyAxis() {
        var chart = SVGChart(
            id: "cost", title: "cost", xLabel: "memory, MB", yLabel: "USD per run", logX: true, logY: true,
            yIsMoney: true)
        chart.series = [
            .init(name: "x86_64", color: "#1f77b4", style: .projected, points: [(128, 1.36e-6), (1769, 2.13e-6)])
        ]
        let svg = chart.svg()
        #expect(svg.contains(">$0.00000"), "\(svg)")
        #expect(!svg.contains("e-06") && !svg.contains("e-07"))
    }

    @Test("a hostile name is inert in HTML: no tag, no attribute break")
    func html() {
        let escaped = Escape.html(Self.hostile)
        #expect(!escaped.contains("<") && !escaped.contains(">") && !escaped.contains("\"") && !escaped.contains("'"))
        #expect(escaped.hasPrefix("&lt;script&gt;alert(&quot;x&quot;)"))
    }

    @Test("a hostile name stays in one Markdown table cell on one line")
    func markdown() {
        let row = SuiteTables.markdownTable(["name", "n"], [[Self.hostile, "3"]]).split(separator: "\n")
        #expect(row.count == 3, "header, rule and one row: \(row)")
        let unescapedPipes = row[2].enumerated().filter { index, character in
            character == "|" && (index == 0 || Array(row[2])[index - 1] != "\\")
        }
        #expect(unescapedPipes.count == 3, "\(row[2])")
        #expect(!row[2].contains("<script>") && row[2].contains("\\`c\\`"))
    }

    @Test("a hostile name is one CSV field, a formula is not run by a spreadsheet, a number stays a number")
    func csv() {
        #expect(Escape.csv("plain") == "plain")
        #expect(Escape.csv("a, \"b\"\nc") == "\"a, \"\"b\"\"\nc\"")
        #expect(Escape.csv("=1+1") == "'=1+1")
        #expect(Escape.csv("@SUM(A1)") == "'@SUM(A1)")
        #expect(Escape.csv("-0.5") == "-0.5")
    }

    @Test("measured points are drawn solid and projected ones hollow, each kind in the legend")
    func solidAndHollow() {
        var chart = SVGChart(
            id: "t", title: "time <against> size", xLabel: "size", yLabel: "seconds", logX: true, logY: true)
        chart.series = [
            .init(name: "128 MB", color: "#1f77b4", style: .measured, points: [(1, 0.1), (2, 0.2), (4, 0.4)]),
            .init(name: "128 MB predicted break", color: "#1f77b4", style: .projected, points: [(9, 1)]),
            .init(name: "128 MB: timeout", color: "#1f77b4", style: .broke, points: [(8, 1)]),
        ]
        chart.rules = [.init(y: 1, label: "timeout 1 s", color: "#b00")]
        let svg = chart.svg()
        #expect(svg.components(separatedBy: "class=\"measured\"").count - 1 == 4, "three points and a legend key")
        #expect(svg.components(separatedBy: "class=\"projected\"").count - 1 == 2)
        #expect(svg.contains("class=\"projected\" cx=") && svg.contains("fill=\"white\""))
        #expect(svg.contains("class=\"rule\"") && svg.contains("timeout 1 s"))
        #expect(svg.contains("time &lt;against&gt; size"))
    }

    @Test("sizes along a fit reach a predicted break beyond the points, but not without end")
    func fitSizes() {
        let sizes = SuiteHTML.fitSizes(10...100, until: 1_000)
        #expect(sizes.first == 10 && abs(sizes.last! - 1_000) < 1e-6)
        #expect(abs(SuiteHTML.fitSizes(10...100, until: 1e9).last! - 10_000) < 1e-6)
    }
}

import CapsizeCore
import Foundation

/// A small scatter-and-line chart drawn as inline SVG: measured points solid, projected ones hollow, lines for caps
/// and fits, each series in the legend with its marker.
struct SVGChart {
    enum Style {
        /// Measured: a filled circle.
        case measured
        /// Projected: a hollow circle.
        case projected
        /// Measured, and ended at a cap: a filled cross.
        case broke
        /// A dashed line through the points (a fit: projected).
        case fit
        /// A solid line through the points (measured).
        case line
        /// A statistic of measured points (a median): a short bar.
        case summary
    }

    struct Series {
        var name: String
        var color: String
        var style: Style
        var points: [(x: Double, y: Double)]
        /// Vertical intervals drawn at the points (a confidence or prediction interval), same order.
        var intervals: [ClosedRange<Double>?] = []
    }

    /// A horizontal line across the plot (a cap), labelled.
    struct Rule {
        var y: Double
        var label: String
        var color: String
    }

    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var logX = false
    var logY = false
    /// The y axis is money: its ticks read as every cost capsize prints does (`NumberText.dollars`).
    var yIsMoney = false
    var series: [Series] = []
    var rules: [Rule] = []
    /// Category names for the x axis (bar-like charts); nil for numbers.
    var categories: [String]?

    static let width = 680.0
    static let height = 340.0
    static let left = 70.0
    static let right = 230.0
    static let top = 36.0
    static let bottom = 48.0

    var isEmpty: Bool { series.allSatisfy { $0.points.isEmpty } }

    func scale(_ value: Double, log: Bool) -> Double { log ? Foundation.log10(Swift.max(value, 1e-12)) : value }

    /// The axis's range in scaled units, padded, and its ticks.
    func axis(_ values: [Double], log: Bool, from zero: Bool) -> (ClosedRange<Double>, [Double]) {
        let scaled = values.filter { $0.isFinite && (!log || $0 > 0) }.map { scale($0, log: log) }
        var low = scaled.min() ?? 0
        var high = scaled.max() ?? 1
        if zero && !log { low = Swift.min(low, 0) }
        if high - low < 1e-9 {
            low -= log ? 0.5 : Swift.max(abs(low) * 0.1, 0.5)
            high += log ? 0.5 : Swift.max(abs(high) * 0.1, 0.5)
        }
        let pad = (high - low) * 0.06
        let range = (low - (zero && !log && low == 0 ? 0 : pad))...(high + pad)
        if log {
            let decades = stride(from: floor(range.lowerBound), through: ceil(range.upperBound), by: 1)
            let ticks = decades.filter { range.contains($0) }
            if ticks.count >= 3 { return (range, ticks) }
            // Less than three decades: 1, 2 and 5 times each.
            let finer = decades.flatMap { decade in [1.0, 2, 5].map { decade + log10($0) } }.filter {
                range.contains($0)
            }
            return (range, finer.count >= 2 ? finer : (finer + [range.lowerBound, range.upperBound]).sorted())
        }
        let raw = (range.upperBound - range.lowerBound) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let ticks = stride(from: ceil(range.lowerBound / step) * step, through: range.upperBound, by: step)
        return (range, Array(ticks))
    }

    func label(_ scaled: Double, log: Bool) -> String {
        NumberText.significant(log ? pow(10, scaled) : scaled, 3)
    }

    /// A y tick's text: dollars on a money axis.
    func yTick(_ scaled: Double) -> String {
        yIsMoney ? NumberText.dollars(logY ? pow(10, scaled) : scaled) : label(scaled, log: logY)
    }

    func svg() -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let xs = series.flatMap { $0.points.map(\.x) }
        var ys = series.flatMap { $0.points.map(\.y) } + rules.map(\.y)
        ys += series.flatMap { $0.intervals.compactMap { $0 }.flatMap { [$0.lowerBound, $0.upperBound] } }
        let (xRange, xTicks) =
            categories.map { names in (-0.5...(Double(names.count) - 0.5), names.indices.map(Double.init)) }
            ?? axis(xs, log: logX, from: false)
        let (yRange, yTicks) = axis(ys, log: logY, from: true)
        func px(_ x: Double) -> Double {
            let value = categories == nil ? scale(x, log: logX) : x
            return Self.left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth
        }
        func py(_ y: Double) -> Double {
            Self.top + plotHeight - (scale(y, log: logY) - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
                * plotHeight
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var out = [
            "<svg class=\"chart\" id=\"\(Escape.html(id))\" data-chart=\"\(Escape.html(id))\" "
                + "viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" "
                + "aria-label=\"\(Escape.html(title))\" xmlns=\"http://www.w3.org/2000/svg\">",
            "<text class=\"title\" x=\"\(f(Self.left))\" y=\"20\">\(Escape.html(title))</text>",
            "<rect class=\"plot\" x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotWidth))\" "
                + "height=\"\(f(plotHeight))\"/>",
        ]
        for tick in xTicks {
            let x = Self.left + (tick - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth
            let text = categories.map { $0[Int(tick)] } ?? label(tick, log: logX)
            out.append(
                "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(f(Self.top))\" x2=\"\(f(x))\" "
                    + "y2=\"\(f(Self.top + plotHeight))\"/>"
                    + "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(Self.top + plotHeight + 16))\" "
                    + "text-anchor=\"middle\">\(Escape.html(text))</text>")
        }
        for tick in yTicks {
            let y =
                Self.top + plotHeight - (tick - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
                * plotHeight
            out.append(
                "<line class=\"grid\" x1=\"\(f(Self.left))\" y1=\"\(f(y))\" x2=\"\(f(Self.left + plotWidth))\" "
                    + "y2=\"\(f(y))\"/><text class=\"tick\" x=\"\(f(Self.left - 6))\" y=\"\(f(y + 4))\" "
                    + "text-anchor=\"end\">\(yTick(tick))</text>"
            )
        }
        out.append(
            "<text class=\"axis\" x=\"\(f(Self.left + plotWidth / 2))\" y=\"\(f(Self.height - 8))\" "
                + "text-anchor=\"middle\">\(Escape.html(xLabel))</text>")
        out.append(
            "<text class=\"axis\" transform=\"translate(16 \(f(Self.top + plotHeight / 2))) rotate(-90)\" "
                + "text-anchor=\"middle\">\(Escape.html(yLabel))</text>")
        for rule in rules {
            let y = py(rule.y)
            out.append(
                "<line class=\"rule\" x1=\"\(f(Self.left))\" y1=\"\(f(y))\" x2=\"\(f(Self.left + plotWidth))\" "
                    + "y2=\"\(f(y))\" stroke=\"\(rule.color)\"/><text class=\"rule-label\" x=\"\(f(Self.left + plotWidth - 4))\" "
                    + "y=\"\(f(y - 4))\" text-anchor=\"end\" fill=\"\(rule.color)\">\(Escape.html(rule.label))</text>")
        }
        for series in self.series {
            let points = series.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
            for (index, interval) in series.intervals.enumerated() where index < series.points.count {
                guard let interval, series.points[index].x.isFinite else { continue }
                let x = px(series.points[index].x)
                out.append(
                    "<line class=\"interval\" x1=\"\(f(x))\" y1=\"\(f(py(interval.lowerBound)))\" x2=\"\(f(x))\" "
                        + "y2=\"\(f(py(interval.upperBound)))\" stroke=\"\(series.color)\"/>")
            }
            switch series.style {
            case .fit, .line:
                guard points.count >= 2 else { break }
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out.append(
                    "<polyline class=\"\(series.style == .fit ? "fit" : "series-line")\" points=\"\(path)\" "
                        + "stroke=\"\(series.color)\"/>")
            default:
                for point in points {
                    out.append(marker(series.style, x: px(point.x), y: py(point.y), color: series.color))
                }
            }
        }
        for (index, series) in self.series.enumerated() {
            let y = Self.top + 10 + Double(index) * 20
            let x = Self.left + plotWidth + 16
            let sample: String
            switch series.style {
            case .fit, .line:
                sample =
                    "<line class=\"\(series.style == .fit ? "fit" : "series-line")\" x1=\"\(f(x - 6))\" y1=\"\(f(y))\" "
                    + "x2=\"\(f(x + 6))\" y2=\"\(f(y))\" stroke=\"\(series.color)\"/>"
            default: sample = marker(series.style, x: x, y: y, color: series.color)
            }
            out.append(
                "<g class=\"legend\">\(sample)<text x=\"\(f(x + 12))\" y=\"\(f(y + 4))\">\(Escape.html(Self.short(series.name)))</text></g>"
            )
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// A legend's name cut to fit beside the plot.
    static func short(_ name: String) -> String { name.count > 34 ? String(name.prefix(33)) + "…" : name }

    func marker(_ style: Style, x: Double, y: Double, color: String) -> String {
        let at = String(format: "cx=\"%.1f\" cy=\"%.1f\"", x, y)
        switch style {
        case .projected:
            return "<circle class=\"projected\" \(at) r=\"5\" fill=\"white\" stroke=\"\(color)\"/>"
        case .summary:
            return String(format: "<path class=\"summary\" d=\"M%.1f %.1fh16\" ", x - 8, y) + "stroke=\"\(color)\"/>"
        case .broke:
            return String(format: "<path class=\"broke\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\" ", x - 5, y - 5)
                + "stroke=\"\(color)\"/>"
        default:
            return "<circle class=\"measured\" \(at) r=\"4.5\" fill=\"\(color)\" stroke=\"\(color)\"/>"
        }
    }
}

import CapsizeCore
import Testing
import Workloads

@testable import Studies

/// `SizeList`: the sizes a sweep steps through, parsed from `NAME=a,b,c`, `NAME=a..b*F` or `NAME=a..b+S`.
@Suite struct SizeListTests {
    @Test("a geometric range doubles from its start up to its end, inclusive")
    func doubles() throws {
        let sizes = try SizeList(parsing: "hidden=256..8192*2", workload: TrainMLP.self)
        #expect(sizes.parameter == "hidden" && sizes.integral)
        #expect(sizes.sizes == [256, 512, 1024, 2048, 4096, 8192])
    }

    @Test("an arithmetic range steps by its increment and stops at its end")
    func steps() throws {
        #expect(try SizeList(parsing: "size=1..10+3", workload: CommandWorkload.self).sizes == [1, 4, 7, 10])
    }

    @Test("a geometric step on an integer parameter is rounded, never repeats a size and never passes the end")
    func roundsIntegerSteps() throws {
        #expect(try SizeList(parsing: "size=1..5*1.5", workload: CommandWorkload.self).sizes == [1, 2, 3])
    }

    @Test("a list is taken as it is, and the name may be left out for the size parameter")
    func listsWithoutName() throws {
        let sizes = try SizeList(parsing: "1, 3,1_000", workload: CommandWorkload.self)
        #expect(sizes.parameter == "size" && sizes.sizes == [1, 3, 1000])
        #expect(sizes.text(1000) == "1000")
    }

    @Test("an unknown parameter is refused naming the setting param and listing the parameters")
    func unknownParameter() {
        let error = #expect(throws: InputError.self) { try SizeList(parsing: "nope=1,2", workload: TrainMLP.self) }
        #expect(error?.isSetting == true && error?.field == "param" && error?.value == "nope")
        #expect(error?.allowed.hasPrefix("a parameter of train-mlp: ") == true)
    }

    @Test("sizes that do not increase are refused naming the parameter's setting, which the CLI shows as its flag")
    func notIncreasing() {
        let error = #expect(throws: InputError.self) {
            try SizeList(parsing: "size=5,3", workload: CommandWorkload.self)
        }
        #expect(error?.isSetting == true && error?.field == "param size")
        #expect(error?.allowed == "strictly increasing sizes (3 follows 5)")
        #expect(
            error?.namingSetting { "--" + $0 }.description
                == "invalid --param size '5,3': allowed strictly increasing sizes (3 follows 5)")
    }

    @Test("a value out of range, a factor that does not grow and a non-number are refused")
    func refusesBadItems() {
        for text in ["hidden=0,4", "hidden=4..64*1", "hidden=4..64+0", "hidden=a", "hidden=64..4*2", "hidden=1.5"] {
            #expect(throws: InputError.self, "\(text)") { try SizeList(parsing: text, workload: TrainMLP.self) }
        }
    }

    @Test("a size goes into the workload's words, replacing an earlier value and filling {size} after --")
    func fillsArguments() throws {
        let sizes = try SizeList(parsing: "size=1,2", workload: CommandWorkload.self)
        #expect(
            sizes.arguments(["--size", "9", "--", "sleep", "{size}"], size: 2) == [
                "--size", "2", "--", "sleep", "{size}",
            ])
        #expect(sizes.arguments(["--size=9"], size: 1) == ["--size", "1"])
    }
}

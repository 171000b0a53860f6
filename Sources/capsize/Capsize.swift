import CapsizeCLI

@main
struct CapsizeEntry {
    static func main() async { await CapsizeMain.main() }
}

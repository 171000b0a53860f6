public enum CapsizeMain { public static func main() async {} }

import ArgumentParser
import Studies

/// `--image`, `--command`, `--function`, `--placeholder` and `--execution-role`: what `recommend --export` and
/// `export` write files to deploy.
struct DeployOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The container image the exported job (or Lambda image function) runs, e.g. public.ecr.aws/my/job:1.0.",
            valueName: "IMAGE"))
    var image: String?
    // .unconditional: a word of the command may start with a dash (`--command --verbose`).
    @Option(
        parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            """
            One word of the command the exported job runs, in order (repeat: --command python3 --command train.py); \
            default: the recommended workload at its size.
            """, valueName: "WORD"))
    var command: [String] = []
    @Option(
        help: ArgumentHelp(
            "Export a function `capsize function create` defined: its code, handler and runtime (SAM).",
            valueName: "NAME"))
    var function: String?
    @Flag(help: "Write a placeholder image (and Fargate execution role) where none is given, marked as one.")
    var placeholder = false
    @Option(
        name: .customLong("execution-role"),
        help: ArgumentHelp(
            "The IAM role a Fargate job runs with (arn:aws:iam::ACCOUNT:role/NAME).", valueName: "ARN"))
    var executionRole: String?

    var words: DeployWords {
        DeployWords(
            image: image, command: command, function: function, placeholder: placeholder, executionRole: executionRole)
    }
}

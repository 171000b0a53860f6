import ArgumentParser
import CapsizeCore
import Foundation
import Planning
import Studies

/// `capsize export RECOMMENDATION.json --format sam|batch-job-definition|cloudformation-batch|sbatch [--option ID]`
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Deployment files from a saved recommendation (`capsize recommend --json > rec.json`).",
        discussion: """
            Prints, for the recommendation's pick or --option ID: an AWS SAM template (Lambda options), an AWS Batch \
            RegisterJobDefinition request (JSON) or the same as a CloudFormation template, or an sbatch script. \
            Each runs --command in --image, or --function (SAM), or by default the recommended workload at its size. \
            A file that needs an image refuses to go without one unless --placeholder. Timeouts are the projected \
            runtime × 1.5 (Lambda: at most 900 s; Batch: at least 60 s).
              capsize export rec.json --format sam --function my-handler
              capsize export rec.json --format batch-job-definition --image public.ecr.aws/my/job:1.0 \
                --command python3 --command train.py
              capsize export rec.json --format sbatch --option batch-g5.xlarge
            """)

    @Argument(help: ArgumentHelp("A recommendation written by `capsize recommend --json`.", valueName: "FILE"))
    var file: String
    @Option(help: "sam, batch-job-definition, cloudformation-batch or sbatch.") var format: String
    @Option(
        name: .customLong("option"), help: ArgumentHelp("The option to export (default: the pick).", valueName: "ID"))
    var optionID: String?
    @Option(help: "The function, job definition or Slurm job name.") var name = "capsize-job"
    @OptionGroup var deploy: DeployOptions

    func run() throws {
        let format = try DeploymentFormat(parsing: format)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError(field: "FILE", value: file, allowed: "a readable file written by capsize recommend --json")
        }
        let recommendation = try Recommendation(saved: data, file: file)
        let option = try recommendation.option(optionID)
        let job = try deploy.words.job(workload: try SizedWorkload.saved(data, file: file))
        print(try format.text(for: option, name: name, job: job, runs: recommendation.runs), terminator: "")
    }
}

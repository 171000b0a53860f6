extension Suite {
    /// How the default suite is named in errors and in reports.
    public static let defaultFile = "(default suite)"

    /// The suite `capsize run` runs without a file (and `make run`): both workloads, all three executors, a cap that
    /// breaks (the 900 s timeout scaled to 5 s), a GPU-vs-CPU comparison and a recommendation, in a few minutes on
    /// two cores. Benchmarks/Suites/ has a fuller one for real machines.
    public static let defaultText = """
        name: capsize default suite
        benchmarks:
          - name: train-mlp, CPU vs GPU
            workload: train-mlp
            params: {batch: 128, hidden: 256, steps: 5}
            executor: bench
            gpu-vs-cpu: true
            repeat: 5
          - name: render-frames, CPU vs GPU
            workload: render-frames
            params: {width: 160, height: 90, frames: 2}
            executor: bench
            gpu-vs-cpu: true
            repeat: 3
          - name: train-mlp as a Lambda function
            workload: train-mlp
            params: {steps: 5}
            executor: function
            memory: [128, 1769]
            timeout: 10
            repeat: 3
            caps: {time-cap-scale: 0.005, refine: 0.1}
          - name: train-mlp as Batch array jobs
            workload: train-mlp
            params: {steps: 5}
            executor: batch
            memory: [1024]
            timeout: 60
            repeat: 4
          - name: render-frames, where to run 10000 frames
            workload: render-frames
            params: {frames: 2}
            executor: function
            memory: [1769]
            timeout: 10
            repeat: 3
            recommend: {runs: 100, strategy: balanced, size: 10000, export: true}
        """

    /// The default suite, parsed.
    public static var defaultSuite: Suite {
        // It is checked by the tests: a failure here is a bug in capsize, not bad input.
        try! Suite(yaml: defaultText, file: defaultFile)
    }
}

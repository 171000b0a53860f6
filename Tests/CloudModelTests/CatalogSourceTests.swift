import Testing

@testable import CloudModel

/// Where the built-in prices come from: AWS's own pages, each with when it was read, never a file outside the
/// repository.
@Suite struct CatalogSourceTests {
    @Test("the built-in prices cite AWS's Lambda, Fargate and EC2 on-demand pricing pages and the month each was read")
    func pricingPages() {
        let catalog = PriceCatalog.embedded
        for (source, page) in [
            (catalog.lambda.source, "https://aws.amazon.com/lambda/pricing/"),
            (catalog.fargate.source, "https://aws.amazon.com/fargate/pricing/"),
            (catalog.ec2.source, "https://aws.amazon.com/ec2/pricing/on-demand/"),
        ] {
            #expect(
                source.wholeMatch(of: /(\S+) \(read \d{4}-\d{2}(-\d{2})?(; .+)?\)/)?.1 == Substring(page), "\(source)")
        }
        #expect(catalog.fargate.taskSizes.source.hasPrefix("https://docs.aws.amazon.com/AmazonECS/"))
        for source in [catalog.lambda.source, catalog.fargate.source, catalog.ec2.source, catalog.provisioning.source] {
            #expect(!source.contains("shared") && !source.contains("reference") && !source.contains("../"), "\(source)")
        }
    }
}

// Scenarios start real node processes, DNS and database servers; on a 2-core machine they run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

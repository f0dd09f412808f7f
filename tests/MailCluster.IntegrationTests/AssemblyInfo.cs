// Scenarios start real node processes, DNS and database servers. Classes marked [ParallelScenario] (single-node,
// nothing timed tightly) run two at a time; every other class, and so any new one that does not opt in, runs alone in
// the serial collection after them (Infrastructure/ScenarioCollections.cs). Two, because the machine has 2 cores.
[assembly: Xunit.CollectionBehavior(typeof(MailCluster.IntegrationTests.Infrastructure.ScenarioCollectionFactory), MaxParallelThreads = 2)]

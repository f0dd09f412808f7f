namespace MailCluster.IntegrationTests;

/// <summary>
/// Marks a scenario class that may run beside other such classes (at most <c>MaxParallelThreads</c> at once, see
/// AssemblyInfo.cs); an unmarked class runs alone (Infrastructure/ScenarioCollections.cs). Only for scenarios that stay
/// correct on a busy machine: one node at a time, no kill, partition or failure detection whose effect is timed, no
/// assertion on how long something took beyond generous waits, no node setting of a few seconds that must be met (a
/// maximum age that must see two attempts, a commit grace, an enqueue timeout). Everything such a scenario starts must
/// be private to it: ports from <see cref="MailCluster.Testing.FreePort"/>, temp folders of its own, its own dnsmasq
/// and PostgreSQL.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ParallelScenarioAttribute : Attribute;

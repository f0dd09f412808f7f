using Xunit.v3;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Puts every scenario class into a test collection. The default is the safe one: a class that does not say otherwise
/// joins the one <see cref="SerialName"/> collection, which xunit runs by itself, one test at a time, after every
/// parallel collection has finished (clusters, node kills, partitions, failure detection, tight timings: the scenarios
/// that need the machine to themselves). A class marked <see cref="ParallelScenarioAttribute"/> gets a collection of its
/// own, as xunit's per-class default would give it, and runs beside the other marked classes. A class with an explicit
/// <c>[Collection]</c> keeps it.
/// </summary>
public sealed class ScenarioCollectionFactory(IXunitTestAssembly testAssembly) : CollectionPerClassTestCollectionFactory(testAssembly)
{
    public const string SerialName = "Serial scenarios (run alone)";

    private readonly Lazy<IXunitTestCollection> _serial = new(() =>
        new XunitTestCollection(testAssembly, collectionDefinition: null, disableParallelization: true, SerialName));

    public override string DisplayName => "serial unless [ParallelScenario]";

    protected override IXunitTestCollection GetDefaultTestCollection(Type testClass) =>
        testClass.IsDefined(typeof(ParallelScenarioAttribute), inherit: false) ? base.GetDefaultTestCollection(testClass) : _serial.Value;
}

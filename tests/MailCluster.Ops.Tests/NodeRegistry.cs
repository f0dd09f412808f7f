using System.Text;
using Akka.Actor;
using MailCluster.Edge;
using MailCluster.Queue;
using Prometheus;

namespace MailCluster.Ops.Tests;

/// <summary>A registry declared the way the node declares it (edge, queue and node-state blocks), for reading back.</summary>
internal sealed class NodeRegistry
{
    public NodeRegistry(IEnumerable<ReadinessCheck>? checks = null, Func<ActorSystem?>? system = null, Func<IActorRef?>? region = null)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Edge = new EdgeMetrics(factory);
        Queue = new QueueMetrics(factory);
        Node = new NodeMetrics(Registry, system ?? (() => null), region ?? (() => null), checks ?? []);
    }

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public EdgeMetrics Edge { get; }

    public QueueMetrics Queue { get; }

    public NodeMetrics Node { get; }

    public async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream, Xunit.TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Sample lines as <c>name{labels}</c> → value.</summary>
    public async Task<Dictionary<string, double>> SamplesAsync() =>
        (await ScrapeAsync()).Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>Every metric family declared (<c># TYPE</c>, also shown while a labelled family has no series yet) and
    /// every sample name exposed (labels stripped: <c>_bucket</c>, <c>_sum</c>, <c>_count</c> of histograms).</summary>
    public async Task<HashSet<string>> NamesAsync()
    {
        var text = await ScrapeAsync();
        var families = text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]);
        var samples = text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('{', ' ')[0]);
        return families.Concat(samples).ToHashSet(StringComparer.Ordinal);
    }
}

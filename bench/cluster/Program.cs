using System.Globalization;
using MailCluster.ClusterBench;

// bench/cluster.sh: dotnet MailCluster.ClusterBench.dll [throughput|failover|recovery] ... (see each method).
var what = args.Length > 0 ? args[0] : "all";
var invariant = CultureInfo.InvariantCulture;
if (what is "throughput" or "all")
{
    var messages = args.Length > 1 ? int.Parse(args[1], invariant) : 3000;
    foreach (var nodes in new[] { 1, 3 })
    {
        await using var world = await BenchWorld.StartAsync(nodes, domains: 20);
        var (accepted, acceptSeconds, deliveredSeconds) = await world.ThroughputAsync(messages, workers: 16);
        Console.WriteLine(string.Create(invariant,
            $"throughput nodes={nodes} messages={messages} accepted={accepted} accept={accepted / acceptSeconds:F0}/s end-to-end={accepted / deliveredSeconds:F0}/s"));
    }
}

if (what is "failover" or "all")
{
    await using var world = await BenchWorld.StartAsync(3, domains: 20);
    var seconds = await world.FailoverAsync();
    Console.WriteLine(string.Create(invariant, $"failover kill -9 → every domain delivering again: {seconds:F1} s"));
}

if (what is "recovery" or "all")
{
    var recipients = args.Length > 1 ? int.Parse(args[1], invariant) : 100_000;
    await using var world = await BenchWorld.StartAsync(1, domains: 1, deliverable: false);
    var (recovered, ready) = await world.RecoveryAsync(recipients);
    Console.WriteLine(string.Create(invariant,
        $"recovery pending={recipients} start→queue recovered: {recovered:F1} s, start→ready: {ready:F1} s"));
}


using System.Globalization;
using MailCluster.ClusterBench;

// bench/cluster.sh: dotnet MailCluster.ClusterBench.dll [throughput|failover|recovery|stability] ... (see each method).
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
    // failover [RUNS]: each run in a fresh world (PostgreSQL, 3 nodes); bench/failover.sh runs 5.
    var runs = what == "failover" && args.Length > 1 ? int.Parse(args[1], invariant) : 1;
    var seconds = new List<double>();
    for (var run = 1; run <= runs; run++)
    {
        await using var world = await BenchWorld.StartAsync(3, domains: 20);
        var result = await world.FailoverAsync();
        seconds.Add(result.Seconds);
        Console.WriteLine(string.Create(invariant, $"failover run {run}/{runs}: kill -9 under load → every domain delivering again: {result.Seconds:F1} s; {result.Detector}; killed {result.Victim} at {result.KilledAt:HH:mm:ss.fff} UTC"));
        Console.WriteLine($"  phases after the kill: {result.Phases}");
        Console.WriteLine($"  slowest domains: {string.Join("; ", result.Slowest)}");
    }

    seconds.Sort();
    Console.WriteLine(string.Create(invariant, $"failover runs={runs} median={seconds[seconds.Count / 2]:F1} s worst={seconds[^1]:F1} s"));
}

if (what == "stability")
{
    // stability [MINUTES] [WORKERS]: 3 nodes at full load, no kill; every node must stay Up (never in "all").
    var minutes = args.Length > 1 ? double.Parse(args[1], invariant) : 10;
    var workers = args.Length > 2 ? int.Parse(args[2], invariant) : 16;
    await using var world = await BenchWorld.StartAsync(3, domains: 20);
    var result = await world.StabilityAsync(TimeSpan.FromMinutes(minutes), workers);
    Console.WriteLine(result);
}

if (what is "recovery" or "all")
{
    var recipients = args.Length > 1 ? int.Parse(args[1], invariant) : 100_000;
    await using var world = await BenchWorld.StartAsync(1, domains: 1, deliverable: false);
    var (recovered, ready) = await world.RecoveryAsync(recipients);
    Console.WriteLine(string.Create(invariant,
        $"recovery pending={recipients} start→queue recovered: {recovered:F1} s, start→ready: {ready:F1} s"));
}


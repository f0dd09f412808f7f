using System.Globalization;
using System.Text.RegularExpressions;

namespace MailCluster.ClusterBench;

/// <summary>
/// Where a failover's seconds went, read from the survivors' logs (UTC timestamps, one line per record: the bench
/// starts the nodes with <c>Logging__Console__FormatterOptions__TimestampFormat</c> and <c>SingleLine</c>). Each
/// phase ends at the first survivor line that marks it after the kill: the failure detector's "Marking node(s) as
/// UNREACHABLE", the resolver's "SBR took decision", the leader's "Leader is removing", then the last "Domain queue X
/// recovered" before every domain was back. Trouble counts the sharding and queue failures that stretch the last
/// phase (a restarted shard, a coordinator state update that timed out, a queue whose first write failed).
/// </summary>
internal sealed partial record FailoverPhases(double? Unreachable, double? Decided, double? Removed, double? LastRecovered, IReadOnlyDictionary<string, int> Trouble)
{
    /// <summary>Log markers whose count after the kill explains a slow re-homing.</summary>
    private static readonly string[] TroubleMarkers =
    [
        "restarting shard",
        "failed to load initial entity ids",
        "unable to update",
        "stopped on a failure",
        "unreachable members changed during stable-after",
    ];

    public static FailoverPhases Read(IEnumerable<string> survivorLogs, DateTime killedAt, double backSeconds)
    {
        double? unreachable = null, decided = null, removed = null, recovered = null;
        var trouble = TroubleMarkers.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
        foreach (var line in survivorLogs.SelectMany(l => l.Split('\n')))
        {
            if (Stamp().Match(line) is not { Success: true } m)
            {
                continue;
            }

            var at = (TimeSpan.ParseExact(m.Groups[1].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture) - killedAt.TimeOfDay).TotalSeconds;
            if (at < 0 || at > backSeconds + 1)
            {
                continue;
            }

            First(ref unreachable, at, line, "Marking node(s) as UNREACHABLE");
            First(ref decided, at, line, "SBR took decision");
            First(ref removed, at, line, "Leader is removing");
            if (line.Contains("recovered", StringComparison.Ordinal) && line.Contains("Domain queue", StringComparison.Ordinal))
            {
                recovered = Math.Max(recovered ?? 0, at);
            }

            foreach (var marker in TroubleMarkers.Where(t => line.Contains(t, StringComparison.OrdinalIgnoreCase)))
            {
                trouble[marker]++;
            }
        }

        return new FailoverPhases(unreachable, decided, removed, recovered, trouble);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"unreachable +{S(Unreachable)}, SBR decision +{S(Decided)}, removed +{S(Removed)}, last queue recovered +{S(LastRecovered)}; " +
        $"trouble: {string.Join(", ", Trouble.Where(t => t.Value > 0).Select(t => $"{t.Key} ×{t.Value}").DefaultIfEmpty("none"))}");

    private static void First(ref double? slot, double at, string line, string marker)
    {
        if (slot is null && line.Contains(marker, StringComparison.Ordinal))
        {
            slot = at;
        }
    }

    private static string S(double? seconds) => seconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) + " s" : "?";

    [GeneratedRegex(@"^(\d\d:\d\d:\d\d\.\d\d\d) ")]
    private static partial Regex Stamp();
}

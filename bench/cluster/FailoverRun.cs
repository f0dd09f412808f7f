using System.Globalization;
using System.Text.RegularExpressions;

namespace MailCluster.ClusterBench;

/// <summary>One failover measurement: seconds from the kill until every domain delivered a probe submitted after it,
/// what the failure detectors logged during the loaded run before the kill, and which node was killed when (UTC, to
/// read the survivors' logs against: unreachable, SBR decision, removal, shard and queue recovery).</summary>
internal sealed record FailoverRun(double Seconds, FailureDetectorLog Detector, string Victim, DateTime KilledAt, FailoverPhases Phases, IReadOnlyList<DomainBack> Slowest);

/// <summary>One domain's return: seconds from the kill to its first delivered probe, and to its first probe's 250.</summary>
internal sealed record DomainBack(string Domain, double Seconds, double? FirstAccepted)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Domain} delivered +{Seconds:F1} s (first 250 +{(FirstAccepted is { } a ? a.ToString("F1", CultureInfo.InvariantCulture) : "?")} s)");
}

/// <summary>A stability run: seconds of full load, messages accepted, what the failure detectors logged, how many
/// downing decisions the resolvers took (must be 0), node processes still alive and members still Up at the end.</summary>
internal sealed record StabilityRun(double Seconds, int Accepted, FailureDetectorLog Detector, int Decisions, int Alive, int Up)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"stability {Seconds:F0} s of full load: {Accepted} accepted ({Accepted / Seconds:F0}/s); {Detector}; {Decisions} SBR decisions; {Alive} processes alive, {Up} members Up");
}

/// <summary>
/// The failure detector's margin under load, from the nodes' logs: Akka warns "heartbeat interval is growing too
/// large for address A: N millis" when a heartbeat arrives N ≥ 2/3 of acceptable-heartbeat-pause after the previous
/// one, and logs "Marking node(s) as UNREACHABLE" when phi crosses the threshold. No warning means every interval was
/// under 2/3 of the pause; a warning gives the worst interval seen.
/// </summary>
internal sealed partial record FailureDetectorLog(int SlowHeartbeats, int WorstIntervalMillis, int Unreachable)
{
    public static FailureDetectorLog Read(IEnumerable<string> logs)
    {
        var (slow, worst, unreachable) = (0, 0, 0);
        foreach (var line in logs.SelectMany(l => l.Split('\n')))
        {
            if (SlowHeartbeat().Match(line) is { Success: true } m)
            {
                slow++;
                worst = Math.Max(worst, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            }

            unreachable += line.Contains("Marking node(s) as UNREACHABLE", StringComparison.Ordinal) ? 1 : 0;
        }

        return new FailureDetectorLog(slow, worst, unreachable);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{SlowHeartbeats} slow heartbeats (worst interval {WorstIntervalMillis} ms), {Unreachable} unreachable markings before the kill");

    [GeneratedRegex(@"heartbeat interval is growing too large for address \S+: (\d+) millis")]
    private static partial Regex SlowHeartbeat();
}

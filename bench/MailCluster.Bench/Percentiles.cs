namespace MailCluster.Bench;

internal static class Percentiles
{
    /// <summary>Nearest-rank percentile of milliseconds; NaN when there are none.</summary>
    public static double Of(List<double> sortedMs, double percentile)
    {
        if (sortedMs.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100.0 * sortedMs.Count);
        return sortedMs[Math.Clamp(rank - 1, 0, sortedMs.Count - 1)];
    }
}

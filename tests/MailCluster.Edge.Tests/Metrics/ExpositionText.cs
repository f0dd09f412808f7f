using System.Globalization;
using System.Text;
using Prometheus;

namespace MailCluster.Edge.Tests.Metrics;

/// <summary>Reads a registry back the way Prometheus does: through its text exposition.</summary>
internal static class ExpositionText
{
    public static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, TestContextCancellation);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Sample lines as <c>name{labels}</c> → value (labels exactly as exposed).</summary>
    public static Dictionary<string, double> Samples(string text) =>
        text.Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private static CancellationToken TestContextCancellation => Xunit.TestContext.Current.CancellationToken;
}

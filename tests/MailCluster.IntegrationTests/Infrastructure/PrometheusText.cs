using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MailCluster.Testing;

namespace MailCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4): every line is a <c># HELP</c>, a
/// <c># TYPE</c> or a sample; every sample belongs to a family whose TYPE came first (histogram samples as
/// <c>_bucket</c>/<c>_sum</c>/<c>_count</c>, counters named <c>_total</c>); label values are quoted and escaped; values
/// are floats; no series appears twice. Throws <see cref="FormatException"/> naming the offending line.
/// </summary>
public static partial class PrometheusText
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    /// <summary>Parses <paramref name="text"/>; returns each series (<c>name{labels}</c> as exposed) and its value.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                Check(MetricName().IsMatch(line[7..].Split(' ')[0]), lineNumber, line, "bad metric name in HELP");
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                Check(parts.Length == 2 && MetricName().IsMatch(parts[0]) && Types.Contains(parts[1]), lineNumber, line, "bad TYPE line");
                Check(types.TryAdd(parts[0], parts[1]), lineNumber, line, "TYPE repeated");
                continue;
            }

            Check(line[0] != '#', lineNumber, line, "unknown comment form");
            var match = Sample().Match(line);
            Check(match.Success, lineNumber, line, "not a sample line");
            var name = match.Groups["name"].Value;
            Check(Family(name, types) is not null, lineNumber, line, "sample without a TYPE for its family");
            Check(
                double.TryParse(match.Groups["value"].Value.Replace("+Inf", "Infinity", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                    || match.Groups["value"].Value is "NaN" or "-Inf",
                lineNumber, line, "value is not a float");
            Check(samples.TryAdd(name + match.Groups["labels"].Value, value), lineNumber, line, "series repeated");
        }

        return samples;
    }

    /// <summary>Sum over every series of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>.</summary>
    public static double Sum(IReadOnlyDictionary<string, double> samples, string metric, params string[] labels) =>
        samples.Where(kv => (kv.Key == metric || kv.Key.StartsWith(metric + "{", StringComparison.Ordinal))
                && labels.All(l => kv.Key.Contains(l, StringComparison.Ordinal)))
            .Sum(kv => kv.Value);

    /// <summary>Runs <c>promtool check metrics</c> on <paramref name="text"/> when promtool is installed; returns null
    /// when it is not (a failure instead where <see cref="TestTools.RequiredVariable"/> names it), else its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)?> PromtoolCheckAsync(string text)
    {
        var promtool = TestTools.Find("promtool");
        if (promtool is null)
        {
            return null;
        }

        using var process = Process.Start(new ProcessStartInfo(promtool, "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        await process.StandardInput.WriteAsync(text).ConfigureAwait(false);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false) + await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return (process.ExitCode, output);
    }

    private static string? Family(string name, Dictionary<string, string> types)
    {
        if (types.TryGetValue(name, out var type))
        {
            return type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal) ? null : type;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(name[..^suffix.Length], out var t) && t is "histogram" or "summary")
            {
                return t;
            }
        }

        return null;
    }

    private static void Check(bool condition, int lineNumber, string line, string problem)
    {
        if (!condition)
        {
            throw new FormatException($"line {lineNumber}: {problem}: {line}");
        }
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*,?)?\})? (?<value>\S+)( -?\d+)?$""")]
    private static partial Regex Sample();
}

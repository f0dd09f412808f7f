using System.Collections.Concurrent;
using MimeKit.Cryptography;
using Prometheus;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// DKIM signing metrics, one block (STYLE habit 9). Labels are the configured signing domains and algorithms (bounded
/// by configuration, never by a message): <c>mailcluster_dkim_signatures_total{domain,algorithm}</c>,
/// <c>mailcluster_dkim_signing_failures_total{domain,algorithm}</c> and
/// <c>mailcluster_dkim_key_reloads_total{domain,result}</c> (result: loaded or failed).
/// </summary>
public sealed class DkimMetrics
{
    /// <summary>A registry-less instance for tests and nodes that do not wire the registry.</summary>
    public static readonly DkimMetrics Detached = new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    private readonly Counter _signatures;
    private readonly Counter _failures;
    private readonly Counter _reloads;
    private readonly ConcurrentDictionary<(Counter, string, string), Counter.Child> _children = new();

    public DkimMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _signatures = factory.CreateCounter(
            "mailcluster_dkim_signatures_total", "DKIM-Signature fields added to accepted submissions, by signing domain (d=) and algorithm (a=).", ["domain", "algorithm"]);
        _failures = factory.CreateCounter(
            "mailcluster_dkim_signing_failures_total", "Signatures that could not be made (the message was accepted without that signature), by domain and algorithm.", ["domain", "algorithm"]);
        _reloads = factory.CreateCounter(
            "mailcluster_dkim_key_reloads_total", "Reloads of a changed DKIM key file: loaded, or failed (the previous key stays in use).", ["domain", "result"]);
    }

    public void CountSignature(string domain, DkimSignatureAlgorithm algorithm) => Child(_signatures, domain, DkimAlgorithms.Name(algorithm)).Inc();

    public void CountFailure(string domain, DkimSignatureAlgorithm algorithm) => Child(_failures, domain, DkimAlgorithms.Name(algorithm)).Inc();

    public void CountReload(string domain, bool loaded) => Child(_reloads, domain, loaded ? "loaded" : "failed").Inc();

    /// <summary>The current value of a signature counter (tests).</summary>
    public double SignedCount(string domain, DkimSignatureAlgorithm algorithm) => Child(_signatures, domain, DkimAlgorithms.Name(algorithm)).Value;

    /// <summary>The current value of a reload counter (tests).</summary>
    public double ReloadCount(string domain, bool loaded) => Child(_reloads, domain, loaded ? "loaded" : "failed").Value;

    private Counter.Child Child(Counter counter, string a, string b) =>
        _children.GetOrAdd((counter, a, b), k => k.Item1.WithLabels(k.Item2, k.Item3));
}

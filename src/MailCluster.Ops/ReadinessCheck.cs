namespace MailCluster.Ops;

/// <summary>
/// One condition for readiness. <see cref="Probe"/> returns null when the condition holds, else the reason
/// the node is not ready (shown to the operator in the 503 body), and may throw: the exception's message
/// becomes the reason.
/// </summary>
public sealed record ReadinessCheck(string Name, Func<CancellationToken, Task<string?>> Probe);

public sealed record ReadinessReport(bool Ready, IReadOnlyDictionary<string, string> Failures);

public static class Readiness
{
    /// <summary>
    /// Runs every check at once, each with its own <paramref name="timeout"/>, so that the whole evaluation takes as
    /// long as the slowest check and never more than <paramref name="timeout"/> (plus scheduling): a hung database
    /// cannot push the answer past a Kubernetes probe's <c>timeoutSeconds</c>, and the 503 still names every failing
    /// check. A check that does not answer in time fails with "no answer within Ns".
    /// </summary>
    public static async Task<ReadinessReport> EvaluateAsync(IEnumerable<ReadinessCheck> checks, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var results = await Task.WhenAll(checks.Select(check => RunAsync(check, timeout, cancellationToken))).ConfigureAwait(false);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, reason) in results)
        {
            if (reason is not null)
            {
                failures[name] = reason;
            }
        }

        return new ReadinessReport(failures.Count == 0, failures);
    }

    private static async Task<(string Name, string? Reason)> RunAsync(ReadinessCheck check, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            // Task.Run: a probe that blocks before its first await must not hold up the others.
            return (check.Name, await Task.Run(() => check.Probe(cts.Token), cts.Token).WaitAsync(cts.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (check.Name, $"no answer within {timeout.TotalSeconds:0}s");
        }
#pragma warning disable CA1031 // A failing probe is a reason to report, not an error to propagate.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (check.Name, ex.Message);
        }
    }
}

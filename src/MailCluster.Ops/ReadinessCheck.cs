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
    public static async Task<ReadinessReport> EvaluateAsync(IEnumerable<ReadinessCheck> checks, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var check in checks)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                if (await check.Probe(cts.Token).WaitAsync(cts.Token).ConfigureAwait(false) is { } reason)
                {
                    failures[check.Name] = reason;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failures[check.Name] = $"no answer within {timeout.TotalSeconds:0}s";
            }
#pragma warning disable CA1031 // A failing probe is a reason to report, not an error to propagate.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures[check.Name] = ex.Message;
            }
        }

        return new ReadinessReport(failures.Count == 0, failures);
    }
}

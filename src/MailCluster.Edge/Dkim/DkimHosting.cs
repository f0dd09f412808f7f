using MailCluster.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// The DKIM feature: <see cref="AddDkim"/> registers <see cref="DkimSigning"/> with one <see cref="DkimKeySource"/>
/// per configured key; the edge picks it up for authenticated submissions (<see cref="EdgeServices.Dkim"/>).
/// Without keys nothing is registered and nothing is signed.
/// </summary>
public static class DkimHosting
{
    public static IServiceCollection AddDkim(this IServiceCollection services, DkimOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Domains.Count == 0)
        {
            return services;
        }

        services.AddSingleton(sp => sp.GetService<Prometheus.CollectorRegistry>() is { } registry
            ? new DkimMetrics(Prometheus.Metrics.WithCustomRegistry(registry))
            : DkimMetrics.Detached);
        services.AddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILogger<DkimKeySource>>();
            var metrics = sp.GetRequiredService<DkimMetrics>();
            return new DkimSigning(
                options.Domains.Select(d => new DkimKeySource(
                    DomainKey.Normalize(d.Domain),
                    d.Selector,
                    d.KeyPath,
                    DkimAlgorithms.Parse(d.Algorithm) ?? throw new InvalidOperationException($"DKIM algorithm '{d.Algorithm}' was not validated"),
                    logger,
                    metrics)),
                metrics,
                sp.GetRequiredService<ILogger<DkimSigning>>());
        });
        return services;
    }

    /// <summary>The problems of <paramref name="options"/> as (key below <c>MailCluster:Dkim</c>, problem) pairs, for the
    /// node's start-up validation: each names the offending key, and a key file is loaded to prove it usable.</summary>
    public static IEnumerable<(string Key, string Problem)> Problems(DkimOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        for (var i = 0; i < options.Domains.Count; i++)
        {
            var entry = options.Domains[i];
            var key = $"{DkimOptions.Section}:Domains:{i}";
            if (DomainKey.TryNormalize(entry.Domain) is null)
            {
                yield return (key + ":Domain", $"'{entry.Domain}' is not a domain name");
            }

            if (!DkimKeygenCommand.IsSelector(entry.Selector))
            {
                yield return (key + ":Selector", $"'{entry.Selector}' is not a selector (dot-separated DNS labels, RFC 6376 §3.1)");
            }

            var algorithm = DkimAlgorithms.Parse(entry.Algorithm);
            if (algorithm is null)
            {
                yield return (key + ":Algorithm", $"must be {DkimAlgorithms.RsaSha256} or {DkimAlgorithms.Ed25519Sha256}, got '{entry.Algorithm}'");
            }
            else if (string.IsNullOrWhiteSpace(entry.KeyPath))
            {
                yield return (key + ":KeyPath", "is required: a PEM private key file");
            }
            else if (LoadProblem(entry.KeyPath, algorithm.Value) is { } problem)
            {
                yield return (key + ":KeyPath", problem);
            }
        }
    }

    private static string? LoadProblem(string path, MimeKit.Cryptography.DkimSignatureAlgorithm algorithm)
    {
        try
        {
            DkimKeyFile.Load(path, algorithm);
            return null;
        }
        catch (DkimKeyException ex)
        {
            return ex.Message;
        }
    }
}

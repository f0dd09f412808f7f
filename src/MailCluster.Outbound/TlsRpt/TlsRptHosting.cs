using MailCluster.Outbound.MtaSts;
using MailCluster.Queue.Acceptance;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound.TlsRpt;

public static class TlsRptHosting
{
    /// <summary>Binds and validates <c>MailCluster:TlsRpt</c>; when enabled registers the counters as the
    /// <see cref="ITlsRptRecorder"/> and the reporter on every node, else <see cref="NoTlsRptRecorder"/>.</summary>
    public static IServiceCollection AddTlsRpt(this IServiceCollection services, IConfiguration configuration, bool postgres, string? connectionString, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new TlsRptOptions();
        configuration.GetSection(TlsRptOptions.Section).Bind(options);
        var unknown = configuration.GetSection(TlsRptOptions.Section).GetChildren()
            .Where(c => typeof(TlsRptOptions).GetProperty(c.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is null)
            .Select(c => c.Path).ToList();
        services.AddOptions<TlsRptOptions>()
            .Bind(configuration.GetSection(TlsRptOptions.Section))
            .Validate(_ => unknown.Count == 0, $"unknown key(s): {string.Join(", ", unknown)}")
            .Validate(o => o.SendHourUtc is >= 0 and <= 23, $"{TlsRptOptions.Section}:SendHourUtc must be 0-23")
            .Validate(o => o.PeriodSeconds > 0 && 86_400 % o.PeriodSeconds == 0, $"{TlsRptOptions.Section}:PeriodSeconds must divide 86400")
            .Validate(o => o.FlushSeconds > 0 && o.CheckSeconds > 0, $"{TlsRptOptions.Section}:FlushSeconds and CheckSeconds must be positive")
            .Validate(o => o.ClaimLeaseSeconds > 0, $"{TlsRptOptions.Section}:ClaimLeaseSeconds must be positive")
            .ValidateOnStart();
        if (!options.Enabled)
        {
            services.AddSingleton<ITlsRptRecorder>(NoTlsRptRecorder.Instance);
            return services;
        }

        string node = options.Submitter ?? configuration["MailCluster:Hostname"] ?? Environment.MachineName;
        services.AddSingleton(sp => new TlsRptCounters(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<TlsRptOptions>>().Value));
        services.AddSingleton<ITlsRptRecorder>(sp => sp.GetRequiredService<TlsRptCounters>());
        services.AddSingleton(_ => postgres
            ? TlsRptStore.Postgres(connectionString ?? "")
            : TlsRptStore.Sqlite(Path.Combine(Path.GetFullPath(dataDir), TlsRptStore.SqliteFileName)));
        services.AddSingleton(sp =>
        {
            var outbound = sp.GetRequiredService<IOptions<OutboundOptions>>().Value;
            var http = new HttpClient(ResolvedHttpHandler.Create(sp.GetRequiredService<MxResolver>(), outbound, sp.GetRequiredService<CertificateTrust>()))
            {
                Timeout = TimeSpan.FromSeconds(outbound.MtaStsFetchTimeoutSeconds),
            };
            return new TlsRptDelivery(() => sp.GetService<IMessageAcceptor>(), http, sp.GetRequiredService<IOptions<TlsRptOptions>>().Value, node);
        });
        services.AddHostedService(sp => new TlsRptReporter(
            sp.GetRequiredService<TlsRptCounters>(), sp.GetRequiredService<TlsRptStore>(), sp.GetRequiredService<TxtLookup>(),
            sp.GetRequiredService<TlsRptDelivery>(), sp.GetRequiredService<IOptions<TlsRptOptions>>().Value, node,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TlsRptReporter>>()));
        return services;
    }
}

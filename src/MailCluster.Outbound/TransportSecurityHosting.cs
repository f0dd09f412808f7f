using MailCluster.Outbound.MtaSts;
using MailCluster.Outbound.TlsRpt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailCluster.Outbound;

public static class TransportSecurityHosting
{
    /// <summary>
    /// Registers <see cref="TransportSecurity"/> for <see cref="NextHopConnector"/>: the extra trust roots
    /// (<c>MailCluster:Outbound:CaCertificatesPath</c>), MTA-STS unless <c>MailCluster:Outbound:MtaSts</c> is false,
    /// with its policy table in the cluster database (PostgreSQL) or <c>{DataDir}/mta-sts.db</c> (SQLite), and the
    /// TLS-RPT counters and reporter (<c>MailCluster:TlsRpt</c>). Call after <c>AddOutbound</c>.
    /// </summary>
    public static IServiceCollection AddTransportSecurity(this IServiceCollection services, IConfiguration configuration,
        bool postgres, string? connectionString, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => CertificateTrust.Load(sp.GetRequiredService<IOptions<OutboundOptions>>().Value.CaCertificatesPath));
        services.AddSingleton<IMtaStsStore>(_ => postgres
            ? new PostgresMtaStsStore(connectionString ?? "")
            : new SqliteMtaStsStore(Path.Combine(Path.GetFullPath(dataDir), SqliteMtaStsStore.FileName)));
        services.AddSingleton(sp => new TxtLookup(sp.GetRequiredService<IOptions<DnsOptions>>().Value));
        services.AddSingleton(sp => new MtaStsFetcher(sp.GetRequiredService<MxResolver>(),
            sp.GetRequiredService<IOptions<OutboundOptions>>().Value, sp.GetRequiredService<CertificateTrust>()));
        services.AddSingleton<MtaStsPolicies>();
        services.AddTlsRpt(configuration, postgres, connectionString, dataDir);
        services.AddSingleton(sp => new TransportSecurity(
            sp.GetRequiredService<CertificateTrust>(),
            sp.GetRequiredService<IOptions<OutboundOptions>>().Value.MtaSts ? sp.GetRequiredService<MtaStsPolicies>() : null,
            sp.GetRequiredService<ITlsRptRecorder>())
        {
            Dane = sp.GetRequiredService<IOptions<OutboundOptions>>().Value.Dane
                ? new Dane.DaneResolver(sp.GetRequiredService<IOptions<DnsOptions>>().Value)
                : null,
        });
        return services;
    }
}

using System.Net;
using System.Security.Authentication;
using Akka.Actor;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Tls;
using MailCluster.Queue.Acceptance;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge;

/// <summary>
/// The edge feature (STYLE habit 6): <see cref="AddEdge"/> registers what every SMTP session shares
/// (<see cref="EdgeServices"/>: relay policy, limits, users, certificates, the acceptor); <see cref="ListenSmtp"/>
/// opens one Kestrel endpoint per listener with one <see cref="SmtpConnectionHandler"/> each, on
/// <see cref="Role"/> nodes only. Needs from DI: <see cref="IMessageAcceptor"/> (the queue feature),
/// <see cref="EdgeMetrics"/> (the node's metrics) and the <see cref="ActorSystem"/>.
/// </summary>
public static class EdgeHosting
{
    /// <summary>The cluster role whose nodes listen for SMTP.</summary>
    public const string Role = "edge";

    public static IServiceCollection AddEdge(this IServiceCollection services, SmtpOptions smtp, DomainsOptions domains, string hostname)
    {
        ArgumentNullException.ThrowIfNull(smtp);
        ArgumentNullException.ThrowIfNull(domains);

        // Sessions drain for DrainTimeoutSeconds (Kestrel waits for them), then the cluster leaves gracefully.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(smtp.DrainTimeoutSeconds + 15));
        services.AddSingleton(sp => new CertificateProvider(
            smtp.TlsCertificatePath,
            smtp.TlsKeyPath,
            hostname,
            sp.GetRequiredService<ILogger<CertificateProvider>>()));
        services.AddSingleton(sp =>
        {
            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var drain = new CancellationTokenSource();
            lifetime.ApplicationStopping.Register(() => drain.CancelAfter(TimeSpan.FromSeconds(smtp.DrainTimeoutSeconds)));
            var policy = new RelayPolicy(domains, smtp);
            var users = new UserDirectory(smtp.Users, sp.GetService<Credentials.CredentialSet>(), new VerifiedCredentialCache());
            return new EdgeServices(
            hostname,
            smtp,
            policy,
            sp.GetRequiredService<IMessageAcceptor>(),
            TimeProvider.System,
            sp.GetRequiredService<CertificateProvider>(),
            // Trusted networks are exempt from the per-client limit (Postfix: smtpd_client_event_limit_exceptions).
            new ConnectionLimiter(smtp.MaxConnections, smtp.MaxConnectionsPerClient, policy.IsTrusted),
            users,
            lifetime.ApplicationStopping,
            drain.Token)
            {
                Metrics = sp.GetRequiredService<EdgeMetrics>(),
                Dkim = sp.GetService<Dkim.DkimSigning>(),
                Suppression = sp.GetService<MailCluster.Queue.Suppression.SuppressionList>(),
                SuppressedRecipients = sp.GetService<MailCluster.Queue.Contracts.ISuppressedRecipients>(),
                OAuth = smtp.OAuth.IsEnabled
                    ? new OAuthTokenValidator(smtp.OAuth, users, logger: sp.GetRequiredService<ILogger<OAuthTokenValidator>>())
                    : null,
                MailLog = sp.GetRequiredService<ILoggerFactory>().CreateLogger(MailLog.Category),
                Quotas = sp.GetService<Credentials.IQuotaGate>(),
            };
        });
        return services;
    }

    /// <summary>The SMTP listeners of <paramref name="smtp"/>, when <paramref name="roles"/> include <see cref="Role"/>.</summary>
    public static KestrelServerOptions ListenSmtp(this KestrelServerOptions kestrel, SmtpOptions smtp, IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(smtp);
        ArgumentNullException.ThrowIfNull(roles);
        if (!roles.Contains(Role))
        {
            return kestrel;
        }

        var logger = kestrel.ApplicationServices.GetRequiredService<ILogger<SmtpConnectionHandler>>();
        foreach (var listener in SmtpListener.FromOptions(smtp))
        {
            kestrel.Listen(Endpoint(smtp.BindAddress, listener.Port), l =>
            {
                if (listener.ImplicitTls)
                {
                    l.Use(SmtpConnectionHandler.CountFailedImplicitTls(l.ApplicationServices.GetRequiredService<EdgeMetrics>().For(listener.Role)));
                    var certificates = l.ApplicationServices.GetRequiredService<CertificateProvider>();
                    l.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = (_, _) => certificates.Current,
                        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        HandshakeTimeout = TimeSpan.FromSeconds(30),
                        // Resolved at the handshake (a singleton lookup), like the handler below: EdgeServices needs the actor system.
                        OnAuthenticate = (_, ssl) => TlsCipherProfiles.Apply(ssl, l.ApplicationServices.GetRequiredService<EdgeServices>().Smtp.CipherProfile),
                    });
                }

                SmtpConnectionHandler? handler = null;
                l.Run(connection =>
                {
                    handler ??= new SmtpConnectionHandler(
                        listener,
                        l.ApplicationServices.GetRequiredService<EdgeServices>(),
                        l.ApplicationServices.GetRequiredService<ActorSystem>(),
                        logger);
                    return handler.OnConnectedAsync(connection);
                });
            });
        }

        return kestrel;
    }

    private static IPEndPoint Endpoint(string bind, int port) =>
        bind is "*" or "" ? new IPEndPoint(IPAddress.IPv6Any, port) : new IPEndPoint(IPAddress.Parse(bind), port);
}

using System.Net;
using System.Security.Authentication;
using Akka.Actor;
using Akka.Hosting;
using MailCluster.Edge;
using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Tls;
using MailCluster.Host.Configuration;
using MailCluster.Queue;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Spool;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MailCluster.Host.Composition;

/// <summary>The SMTP listeners (one Kestrel endpoint and one <see cref="SmtpConnectionHandler"/> each) and the ops listener.</summary>
public static class EdgeComposition
{
    public static IServiceCollection AddEdge(this IServiceCollection services, NodeSettings settings)
    {
        // Sessions drain for DrainTimeoutSeconds (Kestrel waits for them), then the cluster leaves gracefully.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.Smtp.DrainTimeoutSeconds + 15));
        services.AddSingleton(sp => new CertificateProvider(
            settings.Smtp.TlsCertificatePath,
            settings.Smtp.TlsKeyPath,
            settings.Node.Hostname,
            sp.GetRequiredService<ILogger<CertificateProvider>>()));
        services.AddSingleton(sp =>
        {
            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var drain = new CancellationTokenSource();
            lifetime.ApplicationStopping.Register(() => drain.CancelAfter(TimeSpan.FromSeconds(settings.Smtp.DrainTimeoutSeconds)));
            var policy = new RelayPolicy(settings.Domains, settings.Smtp);
            return new EdgeServices(
            settings.Node.Hostname,
            settings.Smtp,
            policy,
            // Body write and Enqueued events side by side, then the commit: two durable round trips per message.
            new PipelinedMessageAcceptor(
                sp.GetRequiredService<ISpoolStore>(),
                sp.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef,
                settings.Queue,
                TimeProvider.System,
                sp.GetRequiredService<ILogger<PipelinedMessageAcceptor>>(),
                sp.GetRequiredService<QueueMetrics>()),
            TimeProvider.System,
            sp.GetRequiredService<CertificateProvider>(),
            // Trusted networks are exempt from the per-client limit (Postfix: smtpd_client_event_limit_exceptions).
            new ConnectionLimiter(settings.Smtp.MaxConnections, settings.Smtp.MaxConnectionsPerClient, policy.IsTrusted),
            new UserDirectory(settings.Smtp.Users),
            lifetime.ApplicationStopping,
            drain.Token)
            {
                Metrics = sp.GetRequiredService<EdgeMetrics>(),
            };
        });
        return services;
    }

    public static void ConfigureListeners(this KestrelServerOptions kestrel, NodeSettings settings)
    {
        kestrel.Listen(Endpoint(settings.Ops.BindAddress, settings.Ops.Port), l => l.Protocols = HttpProtocols.Http1);
        if (!settings.Cluster.EffectiveRoles.Contains("edge"))
        {
            return;
        }

        var logger = kestrel.ApplicationServices.GetRequiredService<ILogger<SmtpConnectionHandler>>();
        foreach (var listener in SmtpListener.FromOptions(settings.Smtp))
        {
            kestrel.Listen(Endpoint(settings.Smtp.BindAddress, listener.Port), l =>
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
    }

    private static IPEndPoint Endpoint(string bind, int port) =>
        bind is "*" or "" ? new IPEndPoint(IPAddress.IPv6Any, port) : new IPEndPoint(IPAddress.Parse(bind), port);
}

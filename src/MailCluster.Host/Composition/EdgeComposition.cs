using System.Net;
using System.Security.Authentication;
using Akka.Actor;
using Akka.Hosting;
using MailCluster.Edge;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Tls;
using MailCluster.Host.Configuration;
using MailCluster.Queue.Acceptance;
using MailCluster.Queue.Spool;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MailCluster.Host.Composition;

/// <summary>The SMTP listeners (one Kestrel endpoint and one <see cref="SmtpConnectionHandler"/> each) and the ops listener.</summary>
public static partial class EdgeComposition
{
    public static IServiceCollection AddEdge(this IServiceCollection services, NodeSettings settings)
    {
        services.AddSingleton(sp => new EdgeServices(
            settings.Node.Hostname,
            settings.Smtp,
            new RelayPolicy(settings.Domains, settings.Smtp),
            new MessageAcceptor(
                sp.GetRequiredService<ISpoolStore>(),
                sp.GetRequiredService<IRequiredActor<DomainQueueRegion>>().ActorRef,
                settings.Queue,
                TimeProvider.System,
                sp.GetRequiredService<ILogger<MessageAcceptor>>()),
            TimeProvider.System));
        return services;
    }

    public static void ConfigureListeners(this KestrelServerOptions kestrel, NodeSettings settings)
    {
        var ops = Endpoint(settings.Ops.BindAddress, settings.Ops.Port);
        kestrel.Listen(ops, l => l.Protocols = HttpProtocols.Http1);
        if (!settings.Cluster.EffectiveRoles.Contains("edge"))
        {
            return;
        }

        var logger = kestrel.ApplicationServices.GetRequiredService<ILogger<SmtpConnectionHandler>>();
        var certificate = new Lazy<System.Security.Cryptography.X509Certificates.X509Certificate2>(() =>
        {
            LogSelfSigned(logger, settings.Node.Hostname);
            return SelfSignedCertificate.Create(settings.Node.Hostname);
        });
        foreach (var listener in SmtpListener.FromOptions(settings.Smtp))
        {
            kestrel.Listen(Endpoint(settings.Smtp.BindAddress, listener.Port), l =>
            {
                if (listener.ImplicitTls)
                {
                    l.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate.Value,
                        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "No TLS certificate configured: using a self-signed certificate for {Hostname}")]
    private static partial void LogSelfSigned(ILogger logger, string hostname);
}

using System.Net;
using System.Security.Authentication;
using MailCluster.Api.Access;
using MailCluster.Api.Idempotency;
using MailCluster.Edge;
using MailCluster.Edge.Dkim;
using MailCluster.Edge.Tls;
using MailCluster.Edge.Credentials;
using MailCluster.Queue.Acceptance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Api;

/// <summary>
/// The HTTP injection feature (STYLE habit 6): <see cref="AddInjection"/> registers, on <see cref="EdgeHosting.Role"/>
/// nodes with <c>MailCluster:Api:Enabled</c>, a hosted service that runs the injection listener as a second
/// <see cref="WebApplication"/> beside the node's (ops) one.
/// <para>Why a second web application rather than a second Kestrel endpoint of the ops application: the two face
/// different clients and share nothing but the acceptor. The ops pipeline authenticates every <c>/api/</c> call with
/// an ops token and T56 checks every route of its OpenAPI document against the ops roles; the injection port
/// authenticates API keys, has its own body limit, TLS and OpenAPI document, and must not answer a single ops route
/// even if an application network can reach it. Separate pipelines make that true by construction instead of by
/// port filters on every route. It uses the node's services (acceptor, DKIM signer, certificate, tokens, logging).</para>
/// </summary>
public static class InjectionHosting
{
    /// <param name="storage">(PostgreSQL?, its connection string, the data directory): where idempotency keys live.</param>
    public static IServiceCollection AddInjection(
        this IServiceCollection services, ApiOptions api, SmtpOptions smtp, string hostname, IReadOnlyCollection<string> roles, (bool Postgres, string? ConnectionString, string DataDir) storage)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(smtp);
        ArgumentNullException.ThrowIfNull(roles);
        if (!api.Enabled || !roles.Contains(EdgeHosting.Role))
        {
            return services;
        }

        services.AddSingleton(_ => IdempotencyStore.Create(storage.Postgres, storage.ConnectionString ?? "", storage.DataDir, TimeProvider.System));
        services.AddSingleton<IInjectionAccess>(sp => new ApiKeyAccess(sp.GetRequiredService<IApiKeyVerifier>(), sp.GetRequiredService<IQuotaGate>()));
        services.AddHostedService(sp => new InjectionServer(sp, api, smtp, hostname));
        return services;
    }
}

/// <summary>Runs the injection listener's web application for the node's lifetime; stops taking requests when the
/// node starts to stop (drain), letting requests in flight finish.</summary>
internal sealed class InjectionServer(IServiceProvider node, ApiOptions api, SmtpOptions smtp, string hostname) : IHostedService
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(node.GetRequiredService<ILoggerFactory>());
        builder.Services.AddSingleton<IHostLifetime, NodeOwnedLifetime>(); // SIGTERM belongs to the node's host
        var maxRequest = api.EffectiveMaxRequestBytes(smtp.MaxMessageSize);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // enforced by InjectEndpoint, which answers a problem naming the limit
            kestrel.Listen(Endpoint(api.BindAddress, api.Port), listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                if (api.Tls)
                {
                    var certificates = node.GetRequiredService<CertificateProvider>();
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = (_, _) => certificates.Current,
                        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        HandshakeTimeout = TimeSpan.FromSeconds(30),
                    });
                }
            });
        });
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        var endpoint = new InjectEndpoint(
            new LazyAccess(node),
            new Injector(
                new LazyAcceptor(node),
                hostname,
                smtp.MaxMessageSize,
                node.GetService<DkimSigning>(),
                TimeProvider.System,
                node.GetRequiredService<ILogger<Injector>>()),
            node.GetRequiredService<IdempotencyStore>(),
            api,
            maxRequest,
            node.GetRequiredService<ILogger<InjectEndpoint>>());
        app.UseExceptionHandler();
        app.MapPost(InjectEndpoint.Route, (Delegate)endpoint.HandleAsync);
        app.MapGet(InjectEndpoint.Route + "/openapi.json", () => Results.Text(InjectOpenApi.Document, "application/json"));
        app.MapFallback((HttpContext context) => Ops.Access.ApiProblem.Result(StatusCodes.Status404NotFound, $"no route {context.Request.Method} {context.Request.Path} on the injection listener"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        node.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => _ = app.StopAsync(CancellationToken.None));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static IPEndPoint Endpoint(string bind, int port) =>
        bind is "*" or "" ? new IPEndPoint(IPAddress.IPv6Any, port) : new IPEndPoint(IPAddress.Parse(bind), port);

    /// <summary>The acceptor is resolved at the first request: it needs the actor system, which starts after this listener.</summary>
    private sealed class LazyAcceptor(IServiceProvider node) : IMessageAcceptor
    {
        public Task<AcceptResult> AcceptAsync(string messageId, string sender, IReadOnlyList<string> recipients, Queue.Protocol.DsnEnvelope? dsn, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
            node.GetRequiredService<IMessageAcceptor>().AcceptAsync(messageId, sender, recipients, dsn, body, cancellationToken);

        // Forwarded explicitly: the interface's default for this overload drops the details (the events' context).
        public Task<AcceptResult> AcceptAsync(
            string messageId, string sender, IReadOnlyList<string> recipients, Queue.Protocol.DsnEnvelope? dsn, ReadOnlyMemory<byte> body,
            Queue.Events.AcceptanceDetails? details, CancellationToken cancellationToken) =>
            node.GetRequiredService<IMessageAcceptor>().AcceptAsync(messageId, sender, recipients, dsn, body, details, cancellationToken);
    }

    /// <summary>Resolved at the first request too: the quota gate asks a shard region of the actor system.</summary>
    private sealed class LazyAccess(IServiceProvider node) : IInjectionAccess
    {
        public ValueTask<(InjectionCaller? Caller, string? Problem)> AuthenticateAsync(string? authorization, CancellationToken cancellationToken) =>
            node.GetRequiredService<IInjectionAccess>().AuthenticateAsync(authorization, cancellationToken);

        public ValueTask<QuotaRefusal?> ConsumeAsync(InjectionCaller caller, int messages, CancellationToken cancellationToken) =>
            node.GetRequiredService<IInjectionAccess>().ConsumeAsync(caller, messages, cancellationToken);
    }

    private sealed class NodeOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

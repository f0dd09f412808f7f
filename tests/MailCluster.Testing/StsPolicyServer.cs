using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MailCluster.Testing;

/// <summary>
/// A real HTTPS server on loopback (Kestrel) playing an MTA-STS policy host (RFC 8461 §3.3) and a TLS-RPT https
/// report endpoint (RFC 8460 §5.2): <c>GET /.well-known/mta-sts.txt</c> answers with <see cref="Policy"/> as
/// <see cref="ContentType"/> and <see cref="Status"/> (or a redirect to <see cref="RedirectTo"/>), and counts the
/// requests; <c>POST /tlsrpt</c> keeps each report body with its content type.
/// </summary>
public sealed class StsPolicyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _policyRequests;

    private StsPolicyServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Policy { get; set; } = "";

    public string ContentType { get; set; } = "text/plain";

    public int Status { get; set; } = 200;

    /// <summary>When set, the policy URL answers 302 to this location instead.</summary>
    public string? RedirectTo { get; set; }

    public int PolicyRequests => Volatile.Read(ref _policyRequests);

    /// <summary>The bodies POSTed to <c>/tlsrpt</c> and their Content-Type.</summary>
    public ConcurrentQueue<(string ContentType, byte[] Body)> Reports { get; } = new();

    public static async Task<StsPolicyServer> StartAsync(X509Certificate2 certificate)
    {
        int port = FreePort.Tcp();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var server = new StsPolicyServer(app, port);
        app.MapGet("/.well-known/mta-sts.txt", (HttpContext context) =>
        {
            Interlocked.Increment(ref server._policyRequests);
            if (server.RedirectTo is { } location)
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = location;
                return Task.CompletedTask;
            }

            context.Response.StatusCode = server.Status;
            context.Response.ContentType = server.ContentType;
            return context.Response.WriteAsync(server.Policy);
        });
        app.MapPost("/tlsrpt", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            server.Reports.Enqueue((context.Request.ContentType ?? "", body.ToArray()));
            context.Response.StatusCode = 201;
        });
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MailCluster.Testing;

/// <summary>
/// A real OAuth2 token endpoint on loopback (Kestrel, http): <c>POST /token</c> with the client credentials or refresh
/// token grant (RFC 6749 §4.4, §6), form-encoded. It checks the client id and secret (and the refresh token, when
/// <see cref="RefreshToken"/> is set), issues opaque tokens <c>at-1</c>, <c>at-2</c>, ... valid for <see cref="Lifetime"/>,
/// and can be told to fail (<see cref="Failing"/>: 503). <see cref="IsValid"/> is what a scripted SMTP server asks.
/// </summary>
public sealed class OAuthTokenEndpoint : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _issued = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _requests = new();
    private readonly WebApplication _app;
    private int _count;

    private OAuthTokenEndpoint(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/token";

    public required string ClientId { get; init; }

    public required string ClientSecret { get; init; }

    /// <summary>When set, the refresh token grant must present it; the client credentials grant is then refused.</summary>
    public string? RefreshToken { get; init; }

    /// <summary><c>expires_in</c> of the tokens issued from now on.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>When true, every request is answered 503 (the endpoint is down).</summary>
    public bool Failing { get; set; }

    /// <summary>Every request's form fields, in order (failed ones too).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Requests => [.. _requests];

    /// <summary>Tokens issued so far.</summary>
    public int Issued => Volatile.Read(ref _count);

    public static async Task<OAuthTokenEndpoint> StartAsync(string clientId, string clientSecret, string? refreshToken = null)
    {
        var port = FreePort.Tcp();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var endpoint = new OAuthTokenEndpoint(app, port) { ClientId = clientId, ClientSecret = clientSecret, RefreshToken = refreshToken };
        app.MapPost("/token", endpoint.HandleAsync);
        await app.StartAsync();
        return endpoint;
    }

    /// <summary>True when <paramref name="token"/> was issued here and has not expired.</summary>
    public bool IsValid(string token) => _issued.TryGetValue(token, out var until) && until > DateTimeOffset.UtcNow;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        _requests.Enqueue(fields);
        if (Failing)
        {
            return Results.Json(new { error = "temporarily_unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var grantOk = RefreshToken is null
            ? fields.GetValueOrDefault("grant_type") == "client_credentials"
            : fields.GetValueOrDefault("grant_type") == "refresh_token" && fields.GetValueOrDefault("refresh_token") == RefreshToken;
        if (fields.GetValueOrDefault("client_id") != ClientId || fields.GetValueOrDefault("client_secret") != ClientSecret || !grantOk)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        var token = "at-" + Interlocked.Increment(ref _count).ToString(CultureInfo.InvariantCulture);
        var lifetime = Lifetime;
        _issued[token] = DateTimeOffset.UtcNow + lifetime;
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)lifetime.TotalSeconds,
        });
    }
}

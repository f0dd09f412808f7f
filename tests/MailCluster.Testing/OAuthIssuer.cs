using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MailCluster.Testing;

/// <summary>
/// A real OpenID Connect issuer on loopback for OAuth2 tests: Kestrel serves <c>/.well-known/openid-configuration</c>
/// and the JWKS it points to (<c>/jwks</c>), over http, or https with <c>certificate</c>. It signs JWTs with its current
/// RSA key (RS256, the key's id in the header), can roll to a new key (<see cref="RotateKey"/>: the JWKS then holds only
/// the new one, as after a rollover has completed), and can go down and come back on the same port.
/// </summary>
public sealed class OAuthIssuer : IAsyncDisposable
{
    private static readonly string[] ResponseTypes = ["code"];
    private static readonly string[] SubjectTypes = ["public"];
    private static readonly string[] Algorithms = ["RS256"];
    private readonly X509Certificate2? _certificate;
    private WebApplication? _app;
    private RsaSecurityKey _key = NewKey();
    private int _metadataRequests;

    private OAuthIssuer(int port, X509Certificate2? certificate)
    {
        Port = port;
        _certificate = certificate;
    }

    public int Port { get; }

    /// <summary>The issuer URL (<c>iss</c> of its tokens), what <c>MailCluster__Smtp__OAuth__Authority</c> is set to.</summary>
    public string Authority => $"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}";

    public string KeyId => _key.KeyId!;

    /// <summary>Requests for the discovery document so far: each is one fetch of the issuer's configuration.</summary>
    public int MetadataRequests => Volatile.Read(ref _metadataRequests);

    public static async Task<OAuthIssuer> StartAsync(X509Certificate2? certificate = null)
    {
        var issuer = new OAuthIssuer(FreePort.Tcp(), certificate);
        await issuer.ComeUpAsync();
        return issuer;
    }

    /// <summary>A new signing key with a new key id; tokens are signed with it from now on and the JWKS lists only it.</summary>
    public void RotateKey() => _key = NewKey();

    /// <summary>Stops serving: connections to <see cref="Port"/> are refused until <see cref="ComeUpAsync"/>.</summary>
    public async Task GoDownAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async Task ComeUpAsync()
    {
        if (_app is not null)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l =>
        {
            if (_certificate is not null)
            {
                l.UseHttps(_certificate);
            }
        }));
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref _metadataRequests);
            return Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["issuer"] = Authority,
                ["jwks_uri"] = Authority + "/jwks",
                ["response_types_supported"] = ResponseTypes,
                ["subject_types_supported"] = SubjectTypes,
                ["id_token_signing_alg_values_supported"] = Algorithms,
            }), "application/json");
        });
        app.MapGet("/jwks", () => Results.Text(Jwks(), "application/json"));
        await app.StartAsync();
        _app = app;
    }

    /// <summary>
    /// A signed token. <paramref name="email"/> null leaves the claim out; <paramref name="lifetime"/> negative makes a
    /// token that expired that long ago (issued an hour before it expired).
    /// </summary>
    public string IssueToken(string? email, string audience, string? scope, TimeSpan? lifetime = null, IDictionary<string, object>? claims = null, string? issuer = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        var all = new Dictionary<string, object>(claims ?? new Dictionary<string, object>()) { ["sub"] = Guid.NewGuid().ToString("N") };
        if (email is not null)
        {
            all["email"] = email;
        }

        if (scope is not null)
        {
            all["scope"] = scope;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Authority,
            Audience = audience,
            IssuedAt = expires < now ? expires - TimeSpan.FromHours(1) : now,
            NotBefore = expires < now ? expires - TimeSpan.FromHours(1) : now,
            Expires = expires,
            Claims = all,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync() => await GoDownAsync();

    private static RsaSecurityKey NewKey() =>
        new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N")[..16] };

    private string Jwks()
    {
        var p = _key.Rsa.ExportParameters(includePrivateParameters: false);
        return JsonSerializer.Serialize(new
        {
            keys = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["kid"] = KeyId,
                    ["n"] = Base64UrlEncoder.Encode(p.Modulus!),
                    ["e"] = Base64UrlEncoder.Encode(p.Exponent!),
                },
            },
        });
    }
}

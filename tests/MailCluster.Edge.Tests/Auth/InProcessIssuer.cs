using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailCluster.Edge.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>Discovery and JWKS of <see cref="Authority"/>, in process (an <see cref="HttpMessageHandler"/> for
/// <see cref="OAuthTokenValidator"/>); signs tokens with its current key, can roll its key, be down or hang.</summary>
internal sealed class InProcessIssuer : HttpMessageHandler
{
    public const string Authority = "https://issuer.test";
    public const string Audience = "smtp";

    private RsaSecurityKey _key = NewKey();
    private int _discovery;

    public bool Down { get; set; }

    public bool Hang { get; set; }

    public int DiscoveryRequests => Volatile.Read(ref _discovery);

    public void Rotate() => _key = NewKey();

    public string Token(string? email = "alice@example.org", string audience = Audience, string? scope = "smtp.send", TimeSpan? lifetime = null, string iss = Authority, Dictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(5));
        var all = new Dictionary<string, object>(claims ?? []);
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
            Issuer = iss,
            Audience = audience,
            NotBefore = expires.AddHours(-1),
            IssuedAt = expires.AddHours(-1),
            Expires = expires,
            Claims = all,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (Down)
        {
            throw new HttpRequestException("Connection refused");
        }

        var json = request.RequestUri!.AbsolutePath switch
        {
            "/.well-known/openid-configuration" => Discovery(),
            "/jwks" => Jwks(),
            _ => null,
        };
        return json is null
            ? new HttpResponseMessage(HttpStatusCode.NotFound)
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
    }

    private static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };

    private string Discovery()
    {
        Interlocked.Increment(ref _discovery);
        return JsonSerializer.Serialize(new Dictionary<string, string> { ["issuer"] = Authority, ["jwks_uri"] = Authority + "/jwks" });
    }

    private string Jwks()
    {
        var p = _key.Rsa.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", kid = _key.KeyId, n = Base64UrlEncoder.Encode(p.Modulus!), e = Base64UrlEncoder.Encode(p.Exponent!) } },
        });
    }
}

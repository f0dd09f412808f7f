using System.Net.Security;
using System.Security.Authentication;

namespace MailCluster.Edge.Tls;

/// <summary>
/// The cipher suites the SMTP listeners (STARTTLS and implicit TLS) offer, chosen with
/// <c>MailCluster:Smtp:TlsCipherProfile</c>. Both profiles allow TLS 1.2 and 1.3 only and key exchange with forward
/// secrecy for TLS 1.2 (ECDHE); they differ in the bulk cipher of TLS 1.2.
/// </summary>
public enum TlsCipherProfile
{
    /// <summary>Mozilla "intermediate" (the default): AEAD only, i.e. AES-GCM and ChaCha20-Poly1305. No CBC suite,
    /// so nothing for LUCKY13-style padding oracles; every client of the last decade speaks one of these.</summary>
    Intermediate,

    /// <summary>Intermediate plus the ECDHE suites with AES-CBC, for old MUAs and appliances (pre-2014 TLS stacks)
    /// that have TLS 1.2 but no AEAD suite. Opt-in, because CBC in TLS 1.2 is the LUCKY13 surface.</summary>
    Compatible,
}

/// <summary>Parsing and the <see cref="SslServerAuthenticationOptions"/> settings of <see cref="TlsCipherProfile"/>.</summary>
public static class TlsCipherProfiles
{
    public const string Key = "MailCluster:Smtp:TlsCipherProfile";

    /// <summary>TLS 1.2 and 1.3 on every listener (RFC 8996 deprecates 1.0 and 1.1; RFC 8314 §4.1 asks for 1.2+).</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    // With an explicit policy .NET hands OpenSSL exactly this list, so TLS 1.3 must be listed too or it is disabled.
    private static readonly TlsCipherSuite[] Tls13 =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>Mozilla server-side TLS "intermediate" (v5.7), TLS 1.2 part, ECDHE only.</summary>
    private static readonly TlsCipherSuite[] Aead12 =
    [
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    private static readonly TlsCipherSuite[] Cbc12 =
    [
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    ];

    /// <summary><c>intermediate|compatible</c> (case-insensitive); null for anything else.</summary>
    public static TlsCipherProfile? Parse(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "INTERMEDIATE" => TlsCipherProfile.Intermediate,
        "COMPATIBLE" => TlsCipherProfile.Compatible,
        _ => null,
    };

    /// <summary>The configuration error for <paramref name="value"/>, naming the key; null when it is valid.</summary>
    public static string? Problem(string? value) =>
        Parse(value) is null ? $"must be intermediate or compatible, got '{value}'" : null;

    /// <summary>The suites of <paramref name="profile"/>, TLS 1.3 first, in server preference order.</summary>
    public static IReadOnlyList<TlsCipherSuite> Suites(TlsCipherProfile profile) =>
        profile == TlsCipherProfile.Compatible ? [.. Tls13, .. Aead12, .. Cbc12] : [.. Tls13, .. Aead12];

    /// <summary>
    /// Sets the protocols and the cipher suites on a server handshake. .NET applies a CipherSuitesPolicy only with
    /// OpenSSL (Linux, where MailCluster runs); elsewhere the platform's policy decides and the profile only restricts
    /// the protocols.
    /// </summary>
    public static void Apply(SslServerAuthenticationOptions options, TlsCipherProfile profile)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnabledSslProtocols = Protocols;
        if (OperatingSystem.IsLinux())
        {
            options.CipherSuitesPolicy = Policy(profile);
        }
    }

    // One immutable policy per profile, shared by every handshake (no allocation per connection); a race at the
    // first handshakes at worst builds one twice.
    private static CipherSuitesPolicy? _intermediate;
    private static CipherSuitesPolicy? _compatible;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static CipherSuitesPolicy Policy(TlsCipherProfile profile) => profile == TlsCipherProfile.Compatible
        ? _compatible ??= new CipherSuitesPolicy(Suites(profile))
        : _intermediate ??= new CipherSuitesPolicy(Suites(profile));
}

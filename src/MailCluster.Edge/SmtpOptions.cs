namespace MailCluster.Edge;

/// <summary>Configuration section <c>MailCluster:Smtp</c>.</summary>
public sealed class SmtpOptions
{
    public const string Section = "MailCluster:Smtp";

    /// <summary>Relay-in listener (port 25 in production).</summary>
    public int MxPort { get; set; } = 2525;

    /// <summary>Submission listener (port 587 in production).</summary>
    public int SubmissionPort { get; set; } = 2587;

    /// <summary>Implicit-TLS submission listener (port 465 in production).</summary>
    public int SubmissionsPort { get; set; } = 2465;

    /// <summary>Address the SMTP listeners bind to (<c>*</c>, IPv4 and IPv6 any).</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>Client networks (CIDR) allowed to relay to any domain.</summary>
    public List<string> TrustedNetworks { get; } = [];

    /// <summary>Largest message accepted, in octets (advertised with SIZE).</summary>
    public long MaxMessageSize { get; set; } = 36 * 1024 * 1024;

    /// <summary>Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100).</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Longest command line accepted, in octets without CRLF (RFC 5321 §4.5.3.1.4: at least 512).</summary>
    public int MaxCommandLineLength { get; set; } = 2048;

    /// <summary>Seconds a session may wait for the client's next command (RFC 5321 §4.5.3.2.7: 5 minutes).</summary>
    public int IdleTimeoutSeconds { get; set; } = 300;

    /// <summary>Unknown or malformed commands tolerated per session before 421.</summary>
    public int MaxBadCommands { get; set; } = 20;

    /// <summary>"Received:" headers above which a message is taken to be looping (554 5.4.6).</summary>
    public int MaxReceivedHeaders { get; set; } = 50;

    /// <summary>Open SMTP connections per node; more get 421 4.7.0 at the greeting.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Open SMTP connections per client IP address (Postfix: smtpd_client_connection_count_limit).</summary>
    public int MaxConnectionsPerClient { get; set; } = 50;

    /// <summary>Messages per connection; the next MAIL gets 421 4.7.0 and the client reconnects.</summary>
    public int MaxMessagesPerConnection { get; set; } = 1000;

    /// <summary>Slowloris defence: after <see cref="DataRateGraceSeconds"/>, DATA/BDAT must average at least this rate.</summary>
    public int MinDataRateBytesPerSecond { get; set; } = 256;

    public int DataRateGraceSeconds { get; set; } = 30;

    /// <summary>Failed AUTH attempts per session before 421; each failure is answered after <see cref="AuthFailureDelayMilliseconds"/>.</summary>
    public int MaxAuthFailures { get; set; } = 3;

    public int AuthFailureDelayMilliseconds { get; set; } = 1000;

    /// <summary>Pause before the greeting; a client that talks before it is refused (pre-greeting traffic is a spambot tell).</summary>
    public int GreetingDelayMilliseconds { get; set; }

    /// <summary>On shutdown, how long DATA in progress may take to finish before connections are closed.</summary>
    public int DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>Name the authenticated user in the Received header (Postfix: smtpd_sasl_authenticated_header).</summary>
    public bool ShowAuthenticatedUser { get; set; }

    /// <summary>PEM certificate (chain) for STARTTLS and implicit TLS; reloaded when the file changes.
    /// Empty: a self-signed certificate is generated at start (with a warning).</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>.</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>Cipher suites offered on STARTTLS and implicit TLS: <c>intermediate</c> (AEAD only, Mozilla
    /// "intermediate") or <c>compatible</c> (adds ECDHE with AES-CBC for old clients). See <see cref="Tls.TlsCipherProfile"/>.</summary>
    public string TlsCipherProfile { get; set; } = "intermediate";

    /// <summary>The parsed <see cref="TlsCipherProfile"/>; the host refuses to start on a bad value, so this falls back only in tests.</summary>
    public Tls.TlsCipherProfile CipherProfile => Tls.TlsCipherProfiles.Parse(TlsCipherProfile) ?? Tls.TlsCipherProfile.Intermediate;

    /// <summary>Users who may authenticate (AUTH PLAIN/LOGIN, after TLS only).</summary>
    public List<Auth.SmtpUserOptions> Users { get; } = [];

    /// <summary>OAuth2 bearer tokens for AUTH XOAUTH2 and OAUTHBEARER (after TLS only); off without an Authority.</summary>
    public Auth.OAuthOptions OAuth { get; } = new();
}

/// <summary>Configuration section <c>MailCluster:Domains</c>.</summary>
public sealed class DomainsOptions
{
    public const string Section = "MailCluster:Domains";

    /// <summary>Domains whose mailboxes this cluster hosts.</summary>
    public List<string> Local { get; } = [];

    /// <summary>Domains this cluster accepts mail for and relays onward (backup MX, inbound gateway).</summary>
    public List<string> Relay { get; } = [];
}

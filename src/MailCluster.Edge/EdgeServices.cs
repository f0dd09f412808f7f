using MailCluster.Edge.Auth;
using MailCluster.Edge.Policy;
using MailCluster.Edge.Tls;
using MailCluster.Queue.Acceptance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailCluster.Edge;

/// <summary>What SMTP sessions need from the node, built once at start.</summary>
/// <param name="Shutdown">Cancelled when the node starts shutting down: sessions waiting for a command get 421 4.3.2.</param>
/// <param name="DrainDeadline">Cancelled the drain timeout after <paramref name="Shutdown"/>: message text still in flight is cut off.</param>
public sealed record EdgeServices(
    string Hostname,
    SmtpOptions Smtp,
    RelayPolicy Policy,
    IMessageAcceptor Acceptor,
    TimeProvider Clock,
    CertificateProvider Certificates,
    ConnectionLimiter Limiter,
    UserDirectory Users,
    CancellationToken Shutdown,
    CancellationToken DrainDeadline)
{
    /// <summary>Where the edge counts what it does; <see cref="EdgeMetrics.Detached"/> unless the node wires its registry.</summary>
    public EdgeMetrics Metrics { get; init; } = EdgeMetrics.Detached;

    /// <summary>DKIM keys for authenticated submissions (<see cref="Dkim.DkimHosting.AddDkim"/>); null when none are configured.</summary>
    public Dkim.DkimSigning? Dkim { get; init; }

    /// <summary>Validates OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER); null when <see cref="Auth.OAuthOptions"/> has no
    /// Authority, and then neither mechanism is offered.</summary>
    public OAuthTokenValidator? OAuth { get; init; }

    /// <summary>Cluster-wide API key quotas, checked at MAIL FROM for a session authenticated with a key; null: none.</summary>
    public Credentials.IQuotaGate? Quotas { get; init; }
    /// <summary>The suppression list checked at RCPT for authenticated submissions (issue 16); null: nothing is suppressed.</summary>
    public MailCluster.Queue.Suppression.SuppressionList? Suppression { get; init; }

    /// <summary>Where refused suppressed recipients are recorded (the delivery events, or the mail log).</summary>
    public MailCluster.Queue.Contracts.ISuppressedRecipients? SuppressedRecipients { get; init; }

    /// <summary>The mail log's edge records (<see cref="Edge.MailLog"/>); nothing unless the node wires its logger factory.</summary>
    public ILogger MailLog { get; init; } = NullLogger.Instance;
}

namespace MailCluster.Queue.Delivery;

/// <summary>
/// Opens reusable connections to a recipient domain's next hop (MX hosts, smarthost or LMTP server). The domain
/// queue keeps one connection actor per open connection and sends it one message at a time (connection reuse).
/// Contract: never throws for remote or network failures; only cancellation may surface as an exception.
/// </summary>
public interface IDeliveryConnector
{
    /// <summary>Tries every host and address of <paramref name="domain"/>'s route in order until one greets and
    /// accepts EHLO (and STARTTLS as the TLS policy demands).</summary>
    Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken);

    /// <summary>The traffic shaping of <paramref name="domain"/> (per-domain configuration over the defaults).</summary>
    DomainShaping ShapingFor(string domain);
}

/// <summary>Either an open connection, or the failure every recipient of the domain gets for this attempt.</summary>
public sealed record ConnectResult(IDeliveryConnection? Connection, ConnectFailure? Failure)
{
    public static ConnectResult Opened(IDeliveryConnection connection) => new(connection, null);

    public static ConnectResult Failed(ConnectFailure failure) => new(null, failure);
}

/// <param name="Kind">Permanent (null MX, NXDOMAIN) or transient (DNS failure, every host unreachable).</param>
/// <param name="EveryHostUnreachable">True when hosts were found but each failed at connection level (refused,
/// timeout, TLS, greeting or EHLO refused): the whole destination backs off and is then probed.</param>
public sealed record ConnectFailure(OutcomeKind Kind, int Code, string EnhancedCode, string Text, string? RemoteMta, bool EveryHostUnreachable);

/// <summary>One open SMTP/LMTP session that delivers several messages in turn (RSET between them).</summary>
public interface IDeliveryConnection : IAsyncDisposable
{
    /// <summary><c>host[address]</c> of the peer.</summary>
    string RemoteMta { get; }

    /// <summary>"TLSv1.3" etc., or null for a clear-text session.</summary>
    string? TlsProtocol { get; }

    /// <summary>False once the peer closed the connection or a transaction broke it.</summary>
    bool IsUsable { get; }

    /// <summary>One message over this connection; every recipient gets exactly one outcome. A connection that
    /// breaks mid-transaction yields transient outcomes and <see cref="IsUsable"/> false.</summary>
    Task<DeliveryResult> SendAsync(DeliveryRequest request, CancellationToken cancellationToken);
}

/// <summary>Per destination domain traffic shaping (KumoMTA-style "egress path" limits).</summary>
/// <param name="MaxConnections">Connections open at once to the domain.</param>
/// <param name="MessagesPerConnection">Messages sent over one connection before it is closed.</param>
/// <param name="RatePerMinute">Messages started per rolling minute; null for no limit.</param>
/// <param name="IdleTimeout">How long an idle connection waits for another message before QUIT.</param>
public sealed record DomainShaping(int MaxConnections, int MessagesPerConnection, int? RatePerMinute, TimeSpan IdleTimeout)
{
    /// <summary>
    /// The shaping of one of <paramref name="buckets"/> queues of a split domain: the connection cap divided among them
    /// (at least one each). The buckets share the destination's slots (<see cref="GatedConnector"/>); each opening up
    /// to the whole cap, a connection waiting for a slot held its message until an idle connection of another bucket
    /// closed at its idle timeout: deliveries waited seconds while the node idled (docs/BENCHMARKS.md, session s33).
    /// </summary>
    public DomainShaping ForBuckets(int buckets) =>
        buckets <= 1 ? this : this with { MaxConnections = Math.Max(1, MaxConnections / buckets) };
}

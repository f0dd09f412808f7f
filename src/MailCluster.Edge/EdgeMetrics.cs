using System.Collections.Concurrent;
using System.Globalization;
using MailCluster.Smtp;
using Prometheus;

namespace MailCluster.Edge;

/// <summary>Why a connection was turned away before its session began (label <c>reason</c>).</summary>
public enum ConnectionRefusalReason
{
    /// <summary>The node's <c>MaxConnections</c> was reached (421 4.7.0).</summary>
    NodeLimit,

    /// <summary>The client address's <c>MaxConnectionsPerClient</c> was reached (421 4.7.0).</summary>
    ClientLimit,

    /// <summary>The node is draining (421 4.3.2).</summary>
    Draining,

    /// <summary>The client talked before the greeting (554 5.5.1).</summary>
    EarlyTalker,
}

/// <summary>
/// The SMTP edge's metrics, declared in one block (STYLE habit 9). Every series is labelled by listener only
/// (mx, submission, submissions) plus a small fixed set (refusal reason, AUTH/TLS result, reply code), never by
/// client address, sender or recipient. Each listener's label children are resolved once (<see cref="For"/>), so
/// an increment on the hot path is a lock-free add on a cached child: no allocation, no string formatting.
/// </summary>
public sealed class EdgeMetrics
{
    /// <summary>Distinct (code, enhanced code) pairs kept per listener; further pairs count as <c>enhanced_code="other"</c>.
    /// The edge only sends replies from a fixed table, so this bound is never reached in practice.</summary>
    internal const int MaxReplyCodesPerListener = 64;

    private readonly ListenerMetrics[] _listeners;

    public EdgeMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var connections = factory.CreateCounter(
            "mailcluster_smtp_connections_total", "SMTP connections greeted with 220 (admitted to a session), by listener.", ["listener"]);
        var refused = factory.CreateCounter(
            "mailcluster_smtp_connections_refused_total",
            "SMTP connections turned away before the session began, by listener and reason (node_limit, client_limit, draining, early_talker).", ["listener", "reason"]);
        var open = factory.CreateGauge(
            "mailcluster_smtp_sessions_open", "SMTP sessions open now, by listener.", ["listener"]);
        var accepted = factory.CreateCounter(
            "mailcluster_smtp_messages_accepted_total", "Messages answered 250 at the end of DATA/BDAT (durably queued), by listener.", ["listener"]);
        var bytes = factory.CreateCounter(
            "mailcluster_smtp_received_bytes_total",
            "Octets of message text received in DATA/BDAT (after dot-unstuffing, accepted or not), by listener.", ["listener"]);
        var rejections = factory.CreateCounter(
            "mailcluster_smtp_rejections_total",
            "4xx and 5xx replies sent by the edge, by listener, reply code and RFC 3463 enhanced code (\"none\" when the reply has none).", ["listener", "code", "enhanced_code"]);
        var auth = factory.CreateCounter(
            "mailcluster_smtp_auth_total", "Completed SMTP AUTH exchanges, by listener and result (success, failure).", ["listener", "result"]);
        var tls = factory.CreateCounter(
            "mailcluster_smtp_tls_handshakes_total",
            "TLS handshakes with SMTP clients (STARTTLS, and implicit TLS on the submissions listener), by listener and result (success, failure).", ["listener", "result"]);

        _listeners = Enum.GetValues<ListenerRole>()
            .Select(role => new ListenerMetrics(ListenerLabel(role), connections, refused, open, accepted, bytes, rejections, auth, tls))
            .ToArray();
    }

    /// <summary>An instance on a registry of its own that nobody scrapes: for sessions built without a node (tests).</summary>
    public static EdgeMetrics Detached { get; } = new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    /// <summary>The listener's label value: mx, submission or submissions.</summary>
    public static string ListenerLabel(ListenerRole role) => role switch
    {
        ListenerRole.Mx => "mx",
        ListenerRole.Submission => "submission",
        ListenerRole.Submissions => "submissions",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public ListenerMetrics For(ListenerRole role) => _listeners[(int)role];
}

/// <summary>The pre-resolved label children of one listener.</summary>
public sealed class ListenerMetrics
{
    private readonly Counter.Child[] _refused;
    private readonly Counter _rejections;
    private readonly Counter.Child _otherRejections;
    private readonly ConcurrentDictionary<(int Code, string Enhanced), Counter.Child> _replyCodes = new();
    private readonly string _listener;

    internal ListenerMetrics(string listener, Counter connections, Counter refused, Gauge open, Counter accepted, Counter bytes, Counter rejections, Counter auth, Counter tls)
    {
        _listener = listener;
        Connections = connections.WithLabels(listener);
        _refused = Enum.GetValues<ConnectionRefusalReason>().Select(r => refused.WithLabels(listener, ReasonLabel(r))).ToArray();
        SessionsOpen = open.WithLabels(listener);
        MessagesAccepted = accepted.WithLabels(listener);
        BytesReceived = bytes.WithLabels(listener);
        _rejections = rejections;
        _otherRejections = rejections.WithLabels(listener, "other", "other");
        _otherRejections.Unpublish(); // shown only once it counts something
        AuthSucceeded = auth.WithLabels(listener, "success");
        AuthFailed = auth.WithLabels(listener, "failure");
        TlsSucceeded = tls.WithLabels(listener, "success");
        TlsFailed = tls.WithLabels(listener, "failure");
    }

    public Counter.Child Connections { get; }

    public Gauge.Child SessionsOpen { get; }

    public Counter.Child MessagesAccepted { get; }

    public Counter.Child BytesReceived { get; }

    public Counter.Child AuthSucceeded { get; }

    public Counter.Child AuthFailed { get; }

    public Counter.Child TlsSucceeded { get; }

    public Counter.Child TlsFailed { get; }

    public Counter.Child Refused(ConnectionRefusalReason reason) => _refused[(int)reason];

    /// <summary>Counts <paramref name="reply"/> when it is a 4xx or 5xx. After the first reply of a kind, a lookup
    /// in a small cache (no allocation).</summary>
    public void OnReply(in SmtpReply reply)
    {
        if (reply.Code < 400)
        {
            return;
        }

        var key = (reply.Code, reply.EnhancedCode ?? "");
        if (!_replyCodes.TryGetValue(key, out var child))
        {
            child = RejectionChild(key);
        }

        child.Inc();
    }

    private Counter.Child RejectionChild((int Code, string Enhanced) key)
    {
        if (_replyCodes.Count >= EdgeMetrics.MaxReplyCodesPerListener || key.Code > 599)
        {
            _otherRejections.Publish();
            return _otherRejections;
        }

        return _replyCodes.GetOrAdd(key, k => _rejections.WithLabels(
            _listener, k.Code.ToString(CultureInfo.InvariantCulture), k.Enhanced.Length == 0 ? "none" : k.Enhanced));
    }

    private static string ReasonLabel(ConnectionRefusalReason reason) => reason switch
    {
        ConnectionRefusalReason.NodeLimit => "node_limit",
        ConnectionRefusalReason.ClientLimit => "client_limit",
        ConnectionRefusalReason.Draining => "draining",
        ConnectionRefusalReason.EarlyTalker => "early_talker",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
